"""Sentence-aware chunking for Urdu. Sentences end at `۔ ؟ ! ?`, a `.` followed by
a space (not inside a number, URL or name), or a line break. Every span keeps character offsets into the
original text so citations can point at the exact passage."""

import re
from dataclasses import dataclass

from .corpus import Report, is_metadata_line
from .formats import Location
from .planted import addresses_reader

VERSION = 5  # bump when chunk boundaries or what is embedded change (5: planted sentences judged by meaning too)
_SENTENCE_END = re.compile(r"[۔؟!?]+|\.+(?=\s|$)")
_CLAUSE_BREAK = re.compile(r"[؛;،,:]\s")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    title: str
    source_url: str | None
    file: str
    start: int
    end: int
    text: str
    locations: tuple[Location, ...] = ()  # the report's page / section starts that bear on this chunk
    left_out: tuple[tuple[int, int], ...] = ()  # sentences in it judged planted at ingest (report offsets)


def sentences(text: str, offset: int = 0) -> list[Span]:
    """Split into trimmed sentence spans, skipping metadata lines; offsets are relative
    to the text plus `offset`."""
    spans: list[Span] = []
    line_start = 0
    for line in text.splitlines(keepends=True):
        if not is_metadata_line(line):
            pos = 0
            for match in _SENTENCE_END.finditer(line):
                _append_trimmed(spans, line, pos, match.end(), offset + line_start)
                pos = match.end()
            _append_trimmed(spans, line, pos, len(line), offset + line_start)
        line_start += len(line)
    return spans


def _append_trimmed(spans: list[Span], text: str, start: int, end: int, offset: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped or not any(c.isalnum() for c in stripped):
        return
    begin = start + len(piece) - len(piece.lstrip())
    spans.append(Span(begin + offset, begin + len(stripped) + offset, stripped))


def _split_long(span: Span, limit: int) -> list[Span]:
    """Break a sentence longer than `limit` at clause marks, then at spaces."""
    if len(span.text) <= limit:
        return [span]
    pieces: list[Span] = []
    text, base, cut_from = span.text, span.start, 0
    while len(text) - cut_from > limit:
        window = text[cut_from : cut_from + limit]
        breaks = [m.end() for m in _CLAUSE_BREAK.finditer(window)]
        cut = breaks[-1] if breaks and breaks[-1] > limit // 3 else window.rfind(" ") + 1 or limit
        piece = text[cut_from : cut_from + cut].rstrip()
        pieces.append(Span(base + cut_from, base + cut_from + len(piece), piece))
        cut_from += cut
        while cut_from < len(text) and text[cut_from] == " ":
            cut_from += 1
    pieces.append(Span(base + cut_from, base + len(text), text[cut_from:]))
    return pieces


def sentence_units(text: str, size: int, offset: int = 0) -> list[Span]:
    """The sentences of a report (or of a chunk, with its offset), long ones broken below
    `size`: the units chunks are made of, and the units the reader embeds and answers from."""
    return [piece for s in sentences(text, offset) for piece in _split_long(s, size)]


def evidence_units(
    text: str, size: int, offset: int = 0, left_out: tuple[tuple[int, int], ...] | list = ()
) -> list[Span]:
    """`sentence_units` without the sentences that address the reader (`planted.py`),
    judged whole, before a long one is broken up: by pattern, or listed in `left_out`
    (the classifier's verdicts made at ingest, as report offsets)."""
    return [piece for s in sentences(text, offset) if not _is_left_out(s, left_out) for piece in _split_long(s, size)]


def _is_left_out(sentence: Span, left_out: tuple[tuple[int, int], ...] | list) -> bool:
    return addresses_reader(sentence.text) or overlaps(sentence, left_out)


def overlaps(span: Span, left_out: tuple[tuple[int, int], ...] | list) -> bool:
    """Whether `span` shares a character with any of the (start, end) spans."""
    return any(a < span.end and span.start < b for a, b in left_out)


def left_out_sentences(text: str, flagged: list[Span]) -> tuple[tuple[int, int], ...]:
    """The whole sentences of `text` that hold a flagged unit (a piece of a long sentence
    condemns all of it) or address the reader by pattern, as (start, end) offsets."""
    return tuple(
        (s.start, s.end)
        for s in sentences(text)
        if addresses_reader(s.text) or any(u.start < s.end and s.start < u.end for u in flagged)
    )


REMOVED = "[…]"


def searchable_text(text: str, offset: int = 0, left_out: tuple[tuple[int, int], ...] | list = ()) -> str:
    """`text` (starting at report offset `offset`) with every sentence that addresses the
    reader replaced by a marker: what is embedded, counted by BM25 and shown to an LLM."""
    out, pos = [], 0
    for span in sentences(text):
        if _is_left_out(Span(span.start + offset, span.end + offset, span.text), left_out):
            out += [text[pos : span.start], REMOVED]
            pos = span.end
    out.append(text[pos:])
    return "".join(out)


def sentence_id(doc_id: str, start: int) -> str:
    return f"{doc_id}@{start}"


def _locations_within(locations: tuple[Location, ...], start: int, end: int) -> tuple[Location, ...]:
    """The location in effect at `start` and those that begin before `end`."""
    before = [loc for loc in locations if loc[0] <= start][-1:]
    return tuple(before + [loc for loc in locations if start < loc[0] < end])


def chunk_report(
    report: Report, file: str, size: int, overlap: int, left_out: tuple[tuple[int, int], ...] = ()
) -> list[Chunk]:
    """Group sentences into chunks of about `size` characters, repeating `overlap`
    sentences between neighbours. Chunk text is the original slice of the report;
    sentences that address the reader take no room in it (see `evidence_units`)."""
    units = evidence_units(report.text, size, left_out=left_out)
    planted = [s for s in sentences(report.text) if _is_left_out(s, left_out)]

    def length(a: Span, b: Span) -> int:  # characters from a to b, planted sentences not counted
        return b.end - a.start - sum(len(p.text) for p in planted if a.start <= p.start and p.end <= b.end)

    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and length(units[first], units[last + 1]) <= size:
            last += 1
        start, end = units[first].start, units[last].end
        chunks.append(
            Chunk(
                chunk_id=f"{report.doc_id}#{len(chunks)}",
                doc_id=report.doc_id,
                title=report.title,
                source_url=report.source_url,
                file=file,
                start=start,
                end=end,
                text=report.text[start:end],
                locations=_locations_within(report.locations, start, end),
                left_out=tuple((p.start, p.end) for p in planted if start <= p.start and p.end <= end),
            )
        )
        if last + 1 >= len(units):
            break
        nxt = max(first + 1, last + 1 - overlap)
        # overlap only when the next chunk can still take a new sentence beside it
        first = nxt if length(units[nxt], units[last + 1]) <= size else last + 1
    return chunks
