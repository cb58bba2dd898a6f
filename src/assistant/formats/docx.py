"""Word files (.docx) through python-docx: paragraphs and table cells in order,
headings as the sections citations name."""

import zipfile
import zlib
from pathlib import Path

from .base import Extracted, paragraphs_text


def _blocks(document) -> list[tuple[str, bool]]:
    """(text, is heading) for each paragraph and table cell, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[tuple[str, bool]] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            style = (block.style.name if block.style is not None else "") or ""
            out.append((block.text.strip(), style.startswith(("Heading", "Title"))))
        elif isinstance(block, Table):
            seen = set()  # a merged cell is listed once per grid cell it spans: read it once
            for row in block.rows:
                for cell in row.cells:
                    if cell._tc not in seen:  # the XML elements themselves, kept alive here
                        seen.add(cell._tc)
                        out += [(p.text.strip(), False) for p in cell.paragraphs]
    return [(t, h) for t, h in out if t]


def read_docx(path: Path) -> Extracted:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, zlib.error, LxmlError, KeyError, ValueError) as exc:
        raise ValueError(f"not a readable Word (.docx) file ({type(exc).__name__})") from None
    paragraphs, heading = [], None
    for text, is_heading in _blocks(document):
        heading = text if is_heading else heading
        paragraphs.append((text, heading, is_heading))
    extracted = paragraphs_text(paragraphs)
    title = (document.core_properties.title or "").strip() or None
    return Extracted(extracted.text, title=title, locations=extracted.locations)
