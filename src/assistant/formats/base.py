"""What every format reader returns: the report's text (the text that is chunked,
searched and quoted, and that citation offsets point into) and what the file says
about itself."""

from dataclasses import dataclass

Location = tuple[int, str]  # (character offset in the text, label: "page 2", "¶ 5", "Heading ¶ 2")


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None = None
    source_url: str | None = None
    locations: tuple[Location, ...] = ()


def paragraphs_text(paragraphs: list[tuple[str, str | None]]) -> Extracted:
    """Join (paragraph, heading above it) pairs one per line, each located as
    "¶ n" within the report, or "heading ¶ n" within its section."""
    text, locations, count, heading = [], [], 0, None
    at = 0
    for paragraph, section in paragraphs:
        if section != heading:
            heading, count = section, 0
        count += 1
        locations.append((at, f"{heading} ¶ {count}" if heading else f"¶ {count}"))
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
