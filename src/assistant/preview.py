"""What a citation opens: for a PDF, its page drawn as an image with the quoted lines
marked; for any other report, the quoted paragraph between its neighbours with the quote
marked. Both are read from the report's file as it was indexed (the citation's offsets
point into that text); a file changed or gone since is said so, never shown wrongly."""

from dataclasses import dataclass, field
from pathlib import Path

from .corpus import file_sha256
from .errors import AssistantError
from .formats import reader_for
from .formats.base import Box

PAGE_SCALE = 1.5  # pixels per point: 108 dpi, an A4 page 893 × 1263
MARK = (255, 213, 0, 110)  # translucent yellow over the marked lines
CONTEXT_PARAGRAPHS = 1  # paragraphs shown before and after the quoted one


class SourceUnavailableError(AssistantError):
    """The cited report's file is gone or has changed since it was indexed."""


@dataclass
class Preview:
    """One citation, opened. `image` for a PDF page; `before`/`quote`/`after` for the
    text around the quote (every format: a PDF's too, for reading aloud or copying)."""

    file: Path
    sha256: str
    location: str | None
    before: str
    quote: str
    after: str
    page: int | None = None
    image: object | None = None  # PIL.Image.Image
    marked: list[Box] = field(default_factory=list)


def open_citation(path: Path, sha256: str, start: int, end: int, quote: str | None = None) -> Preview:
    """The citation [start, end) of the report in `path`, which must still be the file
    indexed (`sha256`), its text read as then: with `quote`, the passage must still be
    there (a report read again since, by a newer reader, may have moved it)."""
    if not path.is_file():
        raise SourceUnavailableError("رپورٹ کی فائل اب موجود نہیں۔ · The report's file is no longer there.")
    if file_sha256(path) != sha256:
        raise SourceUnavailableError(
            "رپورٹ کی فائل انڈیکس ہونے کے بعد بدل گئی ہے؛ دوبارہ انڈیکس ہونے پر پھر پوچھیں۔ · The report's file has "
            "changed since it was indexed; ask again once it is re-indexed."
        )
    try:
        extracted = reader_for(path)(path).folded()
    except ValueError as exc:  # the reader's own reason: encrypted, damaged, ...
        raise SourceUnavailableError(
            f"رپورٹ کی فائل پڑھی نہیں جا سکی۔ · The report's file cannot be read: {exc}"
        ) from None
    text = extracted.text
    if not 0 <= start < end <= len(text) or quote is not None and text[start:end].split() != quote.split():
        raise SourceUnavailableError(
            "یہ حوالہ رپورٹ کے موجودہ متن میں اس جگہ نہیں؛ سوال دوبارہ پوچھیں۔ · The report has been read again since "
            "this answer and the passage is no longer at that place; ask again."
        )
    location = next((label for at, label in reversed(extracted.locations) if at <= start), None)
    before, after = _around(text, start, end)
    preview = Preview(path, sha256, location, before, text[start:end], after)
    marked = [b for b in extracted.boxes if b.start < end and b.end > start]
    if marked:
        preview.page = marked[0].page
        preview.marked = [b for b in marked if b.page == preview.page]
        preview.image = page_image(path, preview.page, preview.marked)
    return preview


def _around(text: str, start: int, end: int) -> tuple[str, str]:
    """The text before the quote back to the start of the paragraph CONTEXT_PARAGRAPHS
    before its own, and after it to the end of the one CONTEXT_PARAGRAPHS after."""
    first = text.rfind("\n", 0, start) + 1
    for _ in range(CONTEXT_PARAGRAPHS):
        if first > 0:
            first = text.rfind("\n", 0, first - 1) + 1
    last = text.find("\n", end) % (len(text) + 1)  # not found (-1): the end of the text
    for _ in range(CONTEXT_PARAGRAPHS):
        if last < len(text):
            last = text.find("\n", last + 1) % (len(text) + 1)
    return text[first:start], text[end:last]


def page_image(path: Path, page: int, marked: list[Box]):
    """Page `page` (from 1) of the PDF drawn by PDFium, the `marked` lines under a
    translucent yellow band."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    document = pdfium.PdfDocument(str(path))
    try:
        image = document[page - 1].render(scale=PAGE_SCALE).to_pil().convert("RGBA")
    finally:
        document.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for box in marked:
        draw.rectangle([(box.x0 - 2) * PAGE_SCALE, (box.top - 2) * PAGE_SCALE,
                        (box.x1 + 2) * PAGE_SCALE, (box.bottom + 2) * PAGE_SCALE], fill=MARK)  # fmt: skip
    return Image.alpha_composite(image, overlay).convert("RGB")
