"""BM25 tokens are made once at ingest and handed to the lexical index: the process that
writes a report never reads them back from Chroma, whether the lexical index is built
anew or updated. Only a process that did not write them reads them (real ingest, real
embedded Chroma: its reads are counted)."""

import shutil

import pytest

from assistant import Assistant
from assistant.lexical import LexicalIndex

QUERIES = ("کتنی آنے والی دستاویزات موصول ہوئی ہیں", "کمیون کی سطح پر کام", "مرکزی پارٹی آفس")


@pytest.fixture
def token_reads(monkeypatch) -> list[dict | None]:
    """The `where` of every read of chunk metadata (where the tokens are) from Chroma."""
    from chromadb.api.models.Collection import Collection

    reads: list[dict | None] = []
    real = Collection.get

    def get(self, *args, **kwargs):
        chunks = self.name.startswith("reports") and not self.name.startswith("reports_sentences")
        if chunks and "metadatas" in (kwargs.get("include") or ()):
            reads.append(kwargs.get("where"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Collection, "get", get)
    return reads


def test_an_ingest_hands_its_tokens_to_the_lexical_index(fresh, token_reads):
    a, corpus = fresh
    a.ingest()  # a full build of the lexical index
    assert len(a.index.bm25) == a.index.chunk_count > 0 and token_reads == []
    edited = corpus / "002_3524ae84067e7f36.txt"
    edited.write_text(edited.read_text(encoding="utf-8").replace("55,279", "61,004"), encoding="utf-8")
    a.ingest()  # an update of the saved one
    assert a.index.bm25.stats["stale"] > 0 and token_reads == []
    a.ingest(rebuild=True)  # a new generation, built in full
    assert a.index.bm25.stats["stale"] == 0 and token_reads == []

    handed = a.index.bm25  # as one built from the tokens Chroma stores: the same chunks, order and scores
    stored = LexicalIndex.build(a.index.chunks.stored_tokens(), handed.fingerprint)
    assert token_reads  # (the counter sees a read)
    for query in QUERIES:
        got, want = handed.scores(query), stored.scores(query)
        assert got and list(got.items()) == list(want.items()), query

    token_reads.clear()  # a process that did not write them: no saved lexical index, so it reads them
    for folder in a.settings.index_dir.glob("lexical*"):
        shutil.rmtree(folder)
    reader = Assistant(a.settings).index
    assert reader.bm25.scores(QUERIES[0]) == handed.scores(QUERIES[0]) and token_reads
