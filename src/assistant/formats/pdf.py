"""Text PDFs through pdfplumber (pdfminer.six), with the reading order rebuilt for
right-to-left text.

pdfminer gives each glyph with its position, in drawing order, and the Urdu in a PDF
is drawn as it looks: right to left, with numbers and Latin words inside it drawn left
to right. Reading a line from its right edge gives the Urdu in order; the numbers and
Latin runs met on the way are read backwards and turned round, the way the Unicode
bidirectional algorithm laid them out: digits after Urdu letters are Arabic numbers,
which one `.`, `,`, `/` or `:` joins (85.59/100, 2،334) but a `-` does not (the
range 2023-2025 is drawn as two numbers); Latin letters join across any punctuation
and spaces (a URL, "Mosilization Movement"). A Latin word beside a number is drawn
the same whichever comes first (`766/QD-TTg`, `COVID-19`): it is read number first, as
Vietnamese decision numbers are written. Lines are joined into paragraphs by their
spacing, and each page's start is a location ("page 2") for citations. Lines are
grouped by baseline across the whole page width, so a two-column page reads across
its columns.

Two things differ between the programs that write PDFs. A browser draws a bracket in
right-to-left text as its mirror image and names it by that glyph, so `(63)` reads
`)63(`; LibreOffice names the character meant. Which one a file is, is read from the
file: the brackets are turned round when that makes them pair up. And a browser puts a
running header and footer on every page (the date, the address, "2/5"); a line at the
top or bottom of most pages that is the same on each, digits aside, is left out."""

import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from .base import Box, Extracted

LINE_TOLERANCE = 2.0  # points between baselines still on one line
PARAGRAPH_GAP = 1.15  # a gap this many times the usual line spacing starts a paragraph
SHORT_LINE = 0.8  # a page's last line shorter than this share of the widest line ends its paragraph
_NUMBER_JOINERS = set(".,،٬٫/:")
_SENTENCE_END = tuple("۔؟!?.:")
_UNMAPPED = re.compile(r"\(cid:\d+\)")  # pdfminer's stand-in for a glyph its font maps to no character
UNMAPPED_SHARE = 0.01  # more unmapped glyphs than this share of the text: the file is refused
_OPEN_URL = re.compile(r"https?://\S*$")  # a line that ends inside a URL: the next Latin line goes on with it
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff]")
_MIRRORED = str.maketrans("()[]{}<>«»", ")(][}{><»«")
_OPENING, _CLOSING = "([{<«", ")]}>»"
RUNNING_LINES = 2  # lines at the top and at the bottom of a page that may be a running header or footer


def _kind(char: str) -> str:
    char = unicodedata.normalize("NFKC", char)[:1] or char  # a ligature (ﬁ) is the letters it joins
    if char.isdigit():
        return "D"
    if char.isascii() and char.isalpha() or "\u00c0" <= char <= "\u024f":
        return "L"
    return "R" if char.isalpha() else "N"


def _runs(visual: list[str], kinds: list[str]) -> list[tuple[int, int, bool]]:
    """(first, last, left-to-right) segments of a line in reading order: each left-to-right
    run whole, everything else a character at a time."""
    runs: list[tuple[int, int, bool]] = []
    i, n = 0, len(visual)
    while i < n:
        if kinds[i] not in "LD":
            runs.append((i, i, False))
            i += 1
            continue
        has_latin, j = kinds[i] == "L", i
        while j + 1 < n:
            k = j + 1
            if kinds[k] in "LD":
                has_latin |= kinds[k] == "L"
                j = k
                continue
            end = k  # a stretch of punctuation or spaces: joined when what follows belongs
            while end < n and kinds[end] == "N":
                end += 1
            if end >= n:
                break
            gap = visual[k:end]
            if has_latin and kinds[end] == "L" or has_latin and kinds[end] == "D" and " " not in gap:
                j = end
            elif kinds[j] == "D" and kinds[end] == "D" and len(gap) == 1 and gap[0] in _NUMBER_JOINERS:
                j = end
            else:
                break
        runs.append((i, j, True))
        i = j + 1
    return runs


def logical_line(visual: list[str], latin_follows: bool = False, mirrored: bool = False) -> str:
    """One line's characters from right to left, as read; left-to-right runs turned round.
    A line of Latin text alone reads left to right. When the next line goes on in Latin
    (a URL broken over two lines), punctuation drawn after the line's last Latin run
    (the `-` where it broke) belongs to that run's end. `mirrored`: brackets read right to
    left are named by their mirror glyph, and are turned round."""
    if _is_latin_line(visual):
        return "".join(reversed(visual))
    kinds = [_kind(c) for c in visual]
    runs = _runs(visual, kinds)
    tail = len(runs)
    while tail and visual[runs[tail - 1][0]] == " ":
        tail -= 1
    if (
        latin_follows
        and tail
        and runs[tail - 1][2]
        and any(kinds[x] == "L" for x in range(runs[tail - 1][0], runs[tail - 1][1] + 1))
    ):
        first = tail - 1
        while (
            first and not runs[first - 1][2] and kinds[runs[first - 1][0]] == "N" and visual[runs[first - 1][0]] != " "
        ):
            first -= 1
        if first < tail - 1:  # the punctuation joins the run, at its (logical) end
            runs[first:tail] = [(runs[first][0], runs[tail - 1][1], True)]
    flip = _MIRRORED if mirrored else {}
    return "".join("".join(reversed(visual[a : b + 1])) if ltr else visual[a].translate(flip) for a, b, ltr in runs)


def _is_latin_line(visual: list[str]) -> bool:
    kinds = {_kind(c) for c in visual}
    return "R" not in kinds and "L" in kinds


class Row(NamedTuple):
    """A line as drawn: its characters from left to right, and where it is on the page
    (points; top and bottom from the page's top edge)."""

    baseline: float
    visual: list[str]
    x0: float
    top: float
    x1: float
    bottom: float


class Line(NamedTuple):
    """A line as read."""

    baseline: float
    text: str
    width: float
    box: tuple[float, float, float, float]  # x0, top, x1, bottom


def _rows(page) -> list[Row]:
    """Each line, top to bottom. A vowel mark drawn above or below its letter sits on the
    line nearest to it, never on a line of its own."""
    rows: list[tuple[float, list[tuple[float, int, str, float, float, float]]]] = []
    marks = []
    for order, char in enumerate(page.chars):
        baseline = char["matrix"][5]
        entry = (-char["x0"], -order, char["text"], char["x1"], char["top"], char["bottom"])  # ligatures share x0
        if unicodedata.category(char["text"][:1]) == "Mn":
            marks.append((baseline, entry))
            continue
        row = next((r for r in rows if abs(r[0] - baseline) < LINE_TOLERANCE), None)
        if row is None:
            row = (baseline, [])
            rows.append(row)
        row[1].append(entry)
    for baseline, entry in marks:
        if rows:
            min(rows, key=lambda r: abs(r[0] - baseline))[1].append(entry)
    rows.sort(key=lambda r: -r[0])
    return [
        Row(
            baseline,
            [c[2] for c in sorted(chars)],
            -max(c[0] for c in chars),
            min(c[4] for c in chars),
            max(c[3] for c in chars),
            max(c[5] for c in chars),
        )  # fmt: skip
        for baseline, chars in rows
    ]


def _lines(rows: list[Row], mirrored: bool) -> list[Line]:
    follows = [_is_latin_line(r.visual) for r in rows[1:]] + [False]
    return [
        Line(r.baseline, logical_line(r.visual, f, mirrored).strip(), r.x1 - r.x0, (r.x0, r.top, r.x1, r.bottom))
        for r, f in zip(rows, follows)
    ]


def _unpaired(pages: list[list[Line]]) -> int:
    """Brackets without a partner, in the text read as sentences (a bracket closes within
    its sentence)."""
    depth = unpaired = 0
    for lines in pages:
        for line in lines:
            text = line.text
            for char in text:
                if char in _OPENING:
                    depth += 1
                elif char in _CLOSING:
                    if depth:
                        depth -= 1
                    else:
                        unpaired += 1
            if text.endswith(_SENTENCE_END):
                unpaired, depth = unpaired + depth, 0
    return unpaired + depth


_PAGE_NUMBER = re.compile(r"[#\s/|.\-–—]+")  # "2/5", "- 2 -", "3 | 7": a running line with no letters


def _running_key(line: Line) -> tuple[str, int]:
    """What a running header or footer keeps from page to page: its words, digits aside, and
    its height on the page (to 4 points)."""
    return re.sub(r"\d+", "#", " ".join(line.text.split())), round(line.box[1] / 4)


def _without_running_lines(pages: list[list[Line]]) -> list[list[Line]]:
    """The pages less their running header and footer: a line among the first or last
    RUNNING_LINES of at least half the pages (two at least) that is the same on each,
    digits aside, at the same height; it has letters, or is a page number (a line of
    figures alone, the first row of a table, is kept)."""
    pages = [[line for line in lines if line.text] for lines in pages]
    if len(pages) < 2:
        return pages

    def edge(lines: list, index: int) -> bool:
        return index < RUNNING_LINES or index >= len(lines) - RUNNING_LINES

    seen = Counter(
        key for lines in pages for key in {_running_key(line) for i, line in enumerate(lines) if edge(lines, i)}
    )
    running = {
        (words, height)
        for (words, height), pages_with in seen.items()
        if pages_with >= max(2, (len(pages) + 1) // 2)
        and (any(c.isalpha() for c in words) or _PAGE_NUMBER.fullmatch(words))
    }
    return [
        [line for i, line in enumerate(lines) if not (edge(lines, i) and _running_key(line) in running)]
        for lines in pages
    ]


def read_pdf(path: Path) -> Extracted:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        with pdfplumber.open(path) as pdf:
            rows = [_rows(page) for page in pdf.pages]
            title = (pdf.metadata or {}).get("Title")
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for a broken file, pdfplumber wraps them
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise ValueError("encrypted PDF: it needs a password; save an unprotected copy") from None
        raise ValueError(f"not a readable PDF ({type(cause).__name__}: {str(cause)[:120]})") from None
    pages = [_lines(r, mirrored=False) for r in rows]
    turned = [_lines(r, mirrored=True) for r in rows]
    if _unpaired(turned) < _unpaired(pages):
        pages = turned
    if not any(line.text for lines in pages for line in lines):
        raise ValueError("no text layer (a scanned PDF?); it needs OCR before it can be read")
    letters = sum(len(line.text) for lines in pages for line in lines)
    unmapped = sum(len(_UNMAPPED.findall(line.text)) for lines in pages for line in lines)
    if unmapped > UNMAPPED_SHARE * letters / 8:  # "(cid:12)" is 8 characters standing for one glyph
        raise ValueError(
            f"its fonts give no characters for {unmapped:,} glyphs (no ToUnicode map): the text cannot be read "
            "reliably; export it again with an embedded Unicode font, or OCR it"
        )
    pages = [[line._replace(text=_UNMAPPED.sub("", line.text)) for line in lines] for lines in pages]
    return _join(_without_running_lines(pages), title.strip() if isinstance(title, str) and title.strip() else None)


def _join(pages: list[list[Line]], title: str | None) -> Extracted:
    """Lines into paragraphs (one per line of the text), each page's start a location,
    each line's place on its page kept (`Extracted.boxes`) for a preview to mark.
    A paragraph ends where the space to the next line is wider than the document's
    usual line spacing (its lower quartile, so a document of short paragraphs still
    has one); over a page break, where the last line stops short of the full width."""
    pages = [[line for line in lines if line.text] for lines in pages]
    full_width = max((line.width for lines in pages for line in lines), default=0.0)
    gaps = sorted(a[0] - b[0] for lines in pages for a, b in zip(lines, lines[1:]) if a[0] - b[0] > LINE_TOLERANCE)
    usual = gaps[len(gaps) // 4] if gaps else 0.0
    text, locations, boxes = "", [], []
    last_width = 0.0
    for number, lines in enumerate(pages, start=1):
        for index, (baseline, line, width, box) in enumerate(lines):
            if index == 0:  # a paragraph may go on over a page
                new_paragraph = text.endswith(_SENTENCE_END) or last_width < full_width * SHORT_LINE
            else:
                new_paragraph = lines[index - 1][0] - baseline > usual * PARAGRAPH_GAP
            if text:
                url_goes_on = not new_paragraph and _OPEN_URL.search(text) and not _ARABIC_SCRIPT.search(line)
                text += "" if url_goes_on else "\n" if new_paragraph else " "
            if index == 0:
                locations.append((len(text), f"page {number}"))
            boxes.append(Box(len(text), len(text) + len(line), number, *box))
            text += line
            last_width = width
    return Extracted(text=text, title=title, locations=tuple(locations), boxes=tuple(boxes))
