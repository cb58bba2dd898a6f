"""Word files (.docx) through python-docx: paragraphs and table cells in order,
headings as the sections citations name.

Only the text Word shows is read: runs are taken from the XML (python-docx's
`paragraph.text` reads hidden runs and leaves out tracked insertions), inserted
(`w:ins`) and moved-to text kept, hidden runs (`w:vanish`, set on the run or by its
character or paragraph style) and tracked deletions (`w:del`, `w:moveFrom`, deleted
table rows) left out.

A Word file is a zip of XML, so what it costs to read is checked first from the zip's
directory (the sizes its parts unpack to, nothing unpacked) and then by counting its
paragraphs, before any text is gathered (limits in `formats/__init__.py`)."""

import zipfile
import zlib
from pathlib import Path

from .base import Extracted, paragraphs_text
from .limits import MAX_DOCX_PARAGRAPHS, MAX_DOCX_PART, MAX_DOCX_RATIO, MAX_DOCX_UNPACKED, RATIO_FROM, check_chars

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# elements inside a paragraph whose runs are shown; any other (w:del, w:moveFrom, field
# codes, drawings with their own text boxes) is not read
_RUN_HOLDERS = {W + n for n in ("hyperlink", "ins", "moveTo", "smartTag", "sdt", "sdtContent", "fldSimple",
                                 "customXml", "dir", "bdo")}  # fmt: skip
_BLOCK_HOLDERS = {W + n for n in ("sdt", "sdtContent", "customXml", "ins", "moveTo")}  # around paragraphs or rows
_FALSE = {"0", "false", "off"}


def check_package(path: Path) -> None:
    """Refuse a Word file that would unpack to too much, from the zip's directory alone."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ValueError(f"not a readable Word (.docx) file ({type(exc).__name__})") from None
    total = sum(part.file_size for part in parts)
    if total > MAX_DOCX_UNPACKED:
        raise ValueError(f"unpacks to {total:,} bytes (limit {MAX_DOCX_UNPACKED:,}): refused as a possible zip bomb")
    for part in parts:
        if part.file_size > MAX_DOCX_PART:
            raise ValueError(
                f"its part {part.filename} unpacks to {part.file_size:,} bytes "
                f"(limit {MAX_DOCX_PART:,} for one part): refused as a possible zip bomb"
            )
        if part.file_size > RATIO_FROM and part.file_size > MAX_DOCX_RATIO * max(part.compress_size, 1):
            ratio = part.file_size / max(part.compress_size, 1)
            raise ValueError(
                f"its part {part.filename} unpacks to {ratio:,.0f} times its packed size "
                f"(limit {MAX_DOCX_RATIO:,}): refused as a possible zip bomb"
            )


def _vanish(rpr) -> bool | None:
    """Whether run properties hide the text (True), show it (False) or say nothing (None)."""
    if rpr is None:
        return None
    for name in ("vanish", "specVanish"):
        mark = rpr.find(W + name)
        if mark is not None:
            return mark.get(W + "val", "true").lower() not in _FALSE
    return None


class _Styles:
    """Each style's name, the style it is based on and whether it hides its text."""

    def __init__(self, element) -> None:
        # keyed by w:styleId, which a broken file may leave out (then None)
        self.styles: dict[str | None, tuple[str, str | None, bool | None]] = {}
        self.default_paragraph = None
        for style in element.iterchildren(W + "style"):
            style_id = style.get(W + "styleId")
            name = style.find(W + "name")
            based = style.find(W + "basedOn")
            self.styles[style_id] = (
                (name.get(W + "val") if name is not None else None) or "",
                based.get(W + "val") if based is not None else None,
                _vanish(style.find(W + "rPr")),
            )
            if style.get(W + "type") == "paragraph" and style.get(W + "default", "").lower() in ("1", "true", "on"):
                self.default_paragraph = style_id
        defaults = element.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr")
        self.hidden_by_default = bool(_vanish(defaults))

    def hides(self, style_id: str | None) -> bool | None:
        """Whether a style, or the first style it is based on that says, hides its text."""
        seen = set()
        while style_id in self.styles and style_id not in seen:  # basedOn chains can loop in a broken file
            seen.add(style_id)
            _, based_on, vanish = self.styles[style_id]
            if vanish is not None:
                return vanish
            style_id = based_on
        return None

    def name(self, style_id: str | None) -> str:
        return self.styles.get(style_id, ("", None, None))[0]


def _val(parent, path: str) -> str | None:
    element = parent.find(path) if parent is not None else None
    return element.get(W + "val") if element is not None else None


class _Reader:
    def __init__(self, styles: _Styles) -> None:

        self.styles = styles
        self.blocks: list[tuple[str, bool]] = []
        self.chars = 0
        self.check_chars = check_chars

    def blocks_in(self, container) -> None:
        """Paragraphs and tables (each cell's paragraphs and tables in turn), in order."""
        for child in container.iterchildren():
            if child.tag == W + "p":
                self.paragraph(child)
            elif child.tag == W + "tbl":
                self.table(child)
            elif child.tag == W + "tc" or child.tag in _BLOCK_HOLDERS:  # a merged cell is one w:tc: read once
                self.blocks_in(child)

    def table(self, table) -> None:
        for row in table.iterchildren(W + "tr", *_BLOCK_HOLDERS):
            if row.tag != W + "tr":  # rows inside a content control or a tracked insertion
                self.table(row)
            elif row.find(f"{W}trPr/{W}del") is None:  # a row deleted with changes tracked is not shown
                self.blocks_in(row)

    def paragraph(self, paragraph) -> None:
        properties = paragraph.find(W + "pPr")
        style_id = _val(properties, W + "pStyle") or self.styles.default_paragraph
        hidden = self.styles.hides(style_id)
        if hidden is None:
            hidden = self.styles.hidden_by_default
        pieces: list[str] = []
        self.runs(paragraph, hidden, pieces)
        text = "".join(pieces).strip()
        if not text:
            return
        self.chars += len(text) + 1
        self.check_chars(self.chars, stopped=True)
        self.blocks.append((text, self.styles.name(style_id).lower().startswith(("heading", "title"))))

    def runs(self, holder, paragraph_hides: bool, pieces: list[str]) -> None:
        for child in holder.iterchildren():
            if child.tag == W + "r":
                properties = child.find(W + "rPr")
                hidden = _vanish(properties)
                if hidden is None:
                    hidden = self.styles.hides(_val(properties, W + "rStyle"))
                if not (paragraph_hides if hidden is None else hidden):
                    pieces.append(child.text)  # python-docx: w:t, tabs, breaks (never w:delText)
            elif child.tag in _RUN_HOLDERS:
                self.runs(child, paragraph_hides, pieces)


def read_docx(path: Path) -> Extracted:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    check_package(path)
    try:
        document = docx.Document(str(path))
        styles = _Styles(document.styles.element)
    except (PackageNotFoundError, zipfile.BadZipFile, zlib.error, LxmlError, KeyError, ValueError) as exc:
        raise ValueError(f"not a readable Word (.docx) file ({type(exc).__name__})") from None
    body = document.element.body
    count = int(body.xpath("count(.//w:p)"))
    if count > MAX_DOCX_PARAGRAPHS:
        raise ValueError(
            f"has {count:,} paragraphs (limit {MAX_DOCX_PARAGRAPHS:,}, table cells' included): "
            "too many to read as one report"
        )
    reader = _Reader(styles)
    reader.blocks_in(body)
    paragraphs, heading = [], None
    for text, is_heading in reader.blocks:
        heading = text if is_heading else heading
        paragraphs.append((text, heading, is_heading))
    extracted = paragraphs_text(paragraphs)
    heading = next((text.strip() for text, is_heading in reader.blocks if is_heading and text.strip()), None)
    title = (document.core_properties.title or "").strip() or heading  # the document's title, else its first heading
    return Extracted(extracted.text, title=title, locations=extracted.locations)
