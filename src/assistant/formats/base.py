"""What every format reader returns: the report's text (the text that is chunked,
searched and quoted, and that citation offsets point into) and what the file says
about itself."""

from dataclasses import dataclass, replace
from typing import NamedTuple

from ..normalize import fold, fold_with_offsets

Location = tuple[int, str]  # (character offset in the text, label: "page 2", "¶ 5", "Heading ¶ 2")


class Box(NamedTuple):
    """Where a stretch of the text is drawn on a PDF page: characters [start, end) of the
    text, on page `page` (from 1), in points from the page's left and top edges."""

    start: int
    end: int
    page: int
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None = None
    source_url: str | None = None
    locations: tuple[Location, ...] = ()
    boxes: tuple[Box, ...] = ()  # PDF: each line's place on its page

    def folded(self) -> "Extracted":
        """The same report in the one text everything reads (`normalize.fold`), page and
        paragraph starts moved along with it."""
        text, where = fold_with_offsets(self.text)
        return replace(
            self,
            text=text,
            title=fold(self.title) if self.title else self.title,
            source_url=fold(self.source_url) if self.source_url else self.source_url,
            locations=tuple((where[at], fold(label)) for at, label in self.locations),
            boxes=tuple(b._replace(start=where[b.start], end=where[b.end]) for b in self.boxes),
        )


def paragraphs_text(paragraphs: list[tuple[str, str | None, bool]]) -> Extracted:
    """Join (paragraph, heading above it, is a heading) one per line; each located as
    "¶ n" within the report, or "heading ¶ n" within its section (a heading is named by
    itself, and the paragraphs under it count from 1)."""
    text, locations, count, section = [], [], 0, None
    at = 0
    for paragraph, heading, is_heading in paragraphs:
        if heading != section:
            section, count = heading, 0
        if is_heading:
            label = paragraph
        else:
            count += 1
            label = f"{section} ¶ {count}" if section else f"¶ {count}"
        locations.append((at, label))
        text.append(paragraph)
        at += len(paragraph) + 1
    return Extracted(text="\n".join(text), locations=tuple(locations))


def location_at(locations: tuple[Location, ...] | list, offset: int) -> str | None:
    """The label of the location that holds `offset` (the last one starting at or before it)."""
    label = None
    for start, name in locations:
        if start > offset:
            break
        label = name
    return label
