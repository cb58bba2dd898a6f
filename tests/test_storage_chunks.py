"""Each sentence's chunk, as ingest records it beside the sentence's vector: found by
bisection over the chunks' offsets, the same chunk a scan of every chunk finds (the
first that holds the sentence, also where neighbouring chunks overlap)."""

import pytest
from conftest import CORPUS

from assistant.chunk_store import containing_chunks
from assistant.chunking import Chunk, Span, chunk_report, left_out_sentences, overlaps, sentence_units
from assistant.corpus import read_report


def _first_holding(sentence: Span, chunks: list[Chunk]) -> str:
    """The scan it replaces: the first chunk, in report order, that holds the sentence."""
    return next(c.chunk_id for c in chunks if c.start <= sentence.start and sentence.end <= c.end)


@pytest.mark.parametrize(("size", "overlap"), [(300, 0), (300, 1), (600, 2), (1200, 1)])
def test_a_sentence_is_found_in_the_first_chunk_that_holds_it(size, overlap):
    shared = 0
    for file in sorted(CORPUS.glob("*.txt")):
        report = read_report(file, file.name)
        left_out = left_out_sentences(report.text, [])  # the sentences that address the reader, as ingest drops them
        units = [u for u in sentence_units(report.text, size) if not overlaps(u, left_out)]
        chunks = chunk_report(report, file.name, size, overlap, left_out)
        assert containing_chunks(units, chunks) == [_first_holding(u, chunks) for u in units], file.name
        shared += sum(1 for u in units if sum(c.start <= u.start and u.end <= c.end for c in chunks) > 1)
    assert shared > 0 or not overlap  # overlapping chunks: some sentences lie in two, and the first is taken


def test_a_sentence_outside_every_chunk_is_an_error():
    chunks = [Chunk("r#0", "r", "t", None, "r", 0, 10, "x" * 10), Chunk("r#1", "r", "t", None, "r", 20, 30, "y" * 10)]
    assert containing_chunks([Span(0, 4, ""), Span(22, 30, ""), Span(5, 10, "")], chunks) == ["r#0", "r#1", "r#0"]
    for outside in (Span(8, 12, ""), Span(12, 18, ""), Span(28, 31, "")):
        with pytest.raises(ValueError, match="lies in no chunk"):
            containing_chunks([outside], chunks)
