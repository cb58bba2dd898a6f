"""Incremental ingest against a real embedded Chroma: idempotent, replaces only what
changed, deletes what was removed, survives an interrupted run."""

import pytest

from assistant import Assistant, CorpusPathError, IndexMissingError
from assistant.chunking import searchable_text


def _chunk_texts(a: Assistant, doc_id: str) -> dict[str, str]:
    return {cid: c.text for cid, c in a.index.chunks.items() if c.doc_id == doc_id}


def test_reingest_adds_nothing(fresh):
    a, _ = fresh
    first = a.ingest()
    count = a.index.collection.count()
    second = a.ingest()
    assert len(first.added) == 5
    assert second.added == second.updated == second.removed == []
    assert len(second.unchanged) == 5
    assert a.index.collection.count() == count == len(a.index.chunks) == first.chunks


def test_editing_a_report_replaces_only_its_chunks(fresh):
    a, corpus = fresh
    a.ingest()
    others = {d: _chunk_texts(a, d) for d in a.index.documents if not d.startswith("002")}
    path = corpus / "002_3524ae84067e7f36.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("82 ارکان", "91 ارکان"), encoding="utf-8")
    report = a.ingest()
    assert report.updated == ["002_3524ae84067e7f36.txt"] and report.added == []
    assert {d: _chunk_texts(a, d) for d in others} == others
    assert a.index.collection.count() == len(a.index.chunks)
    edited = {cid: c for cid, c in a.index.chunks.items() if c.doc_id == "002_3524ae84067e7f36.txt"}
    stored = a.index.vectors(list(edited))
    fresh_vectors = a.embeddings.embed_documents([searchable_text(c.text) for c in edited.values()])
    for cid, vector in zip(edited, fresh_vectors):  # the stored vectors are those of the edited text
        assert sum(x * y for x, y in zip(stored[cid], vector)) > 0.999, cid
    answer = a.ask("صوبائی پیپلز کمیٹی کے دفتر میں اس وقت پارٹی کے کتنے ارکان ہیں؟")
    assert answer.answer == "91"
    assert not any("82 ارکان" in c.text for c in a.index.chunks.values())


def test_removed_report_is_deleted(fresh):
    a, corpus = fresh
    a.ingest()
    (corpus / "003_eac06c45b3d3fc17.txt").unlink()
    report = a.ingest()
    assert report.removed == ["003_eac06c45b3d3fc17.txt"]
    assert not any(c.doc_id.startswith("003") for c in a.index.chunks.values())
    assert a.index.collection.count() == len(a.index.chunks)
    assert a.index.sentences.count() == sum(d["sentences"] for d in a.index.documents.values())
    answer = a.ask("صوبے میں ہنرمند ماس موبلائزیشن کے ماڈلز کی کل تعداد کتنی ہو گئی ہے؟")
    assert not any(p.doc_id.startswith("003") for p in answer.passages)
    assert "1,635" not in answer.answer


def test_non_utf8_file_is_skipped_by_name_and_others_ingested(fresh):
    a, corpus = fresh
    (corpus / "broken.txt").write_bytes(b"\xff\xfe\x00bad")
    report = a.ingest()
    assert len(report.added) == 5
    assert [s.path.name for s in report.skipped] == ["broken.txt"]
    assert "UTF-8" in report.skipped[0].reason
    assert "broken.txt" not in a.index.documents


def test_interrupted_ingest_is_dropped_on_open_then_added_again(fresh):
    """A report left "writing" (the process died replacing it) is dropped when the index
    is opened, which answers from the others; the next ingest adds it again. (A real
    kill -9 with a real server: test_live_ingest.py.)"""
    a, corpus = fresh
    a.ingest()
    doc = "001_887231cad6e8cc3d.txt"
    a.index.reports.write({**a.index.documents[doc], "state": "writing"})  # as if the process died replacing it
    reopened = Assistant(a.settings)
    assert reopened.ask("کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟").answer == "2،334"
    assert doc not in reopened.index.documents and not reopened.index.collection.get(where={"doc_id": doc})["ids"]
    report = reopened.ingest()
    assert report.added == [doc] and len(report.unchanged) == 4
    assert reopened.index.collection.count() == len(reopened.index.chunks)


def test_vectors_without_manifest_entry_are_swept(fresh):
    a, _ = fresh
    a.ingest()
    a.index.collection.add(
        ids=["ghost#0"], embeddings=[[0.0] * 384], metadatas=[{"doc_id": "ghost", "start": 0, "end": 1}]
    )
    a.ingest()
    assert a.index.collection.get(ids=["ghost#0"])["ids"] == []


def test_asking_before_ingest_says_what_to_do(tmp_path):
    a = Assistant(index_dir=tmp_path / "none")
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        a.ask("کتنے؟")


def test_changed_chunk_settings_rechunk_every_report(fresh):
    a, _ = fresh
    first = a.ingest()
    smaller = Assistant(a.settings, chunk_size=300)
    report = smaller.ingest()
    assert len(report.updated) == 5 and report.chunks > first.chunks
    assert all(len(c.text) <= 300 for c in smaller.index.chunks.values())
    assert smaller.index.collection.count() == report.chunks


def test_lexical_index_follows_the_reports(assistant, tmp_path):
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(assistant.settings.index_dir, index_dir)
    a = Assistant(assistant.settings, index_dir=index_dir)
    before = a.index.bm25
    assert len(before) == a.index.chunk_count and before.fingerprint == a.index.reports.fingerprint()
    doc_id, entry = next(iter(a.index.documents.items()))  # re-chunked, same number of chunks
    a.index.reports.write({**entry, "chunking": {**entry["chunking"], "size": entry["chunking"]["size"] + 1}})
    after = a.index.bm25
    assert after is not before and after.fingerprint == a.index.reports.fingerprint() != before.fingerprint
    reopened = Assistant(a.settings).index.bm25  # the rebuilt one was saved and is loaded as is
    assert reopened.fingerprint == after.fingerprint and reopened.scores("کمیون") == after.scores("کمیون")


def test_a_changed_report_updates_the_lexical_index_in_place(fresh):
    """A changed, added or removed report costs that report: the saved lexical index is
    updated (old chunks out, new ones in), not rebuilt, and agrees with a full build of
    the same chunks: the same scores to within the drift of the corpus statistics kept
    from the last full build, the same vocabulary and report postings. A change larger
    than a fifth of the index is a full build."""
    from assistant.lexical import LexicalIndex
    from assistant.normalize import tokens

    a, corpus = fresh
    a.ingest()

    def agrees_with_a_full_build(lexical, words, drift=0.03):
        """Every chunk scored within `drift` of a full build (the statistics kept from the
        last full build drift as reports come and go: a whole report is a large share of
        this five-report index, and a tiny one of a real one), the best three in order."""
        full = LexicalIndex.build(a.index.chunks.stored_tokens(), lexical.fingerprint)
        assert len(lexical) == len(full) == a.index.chunk_count
        for query in ("کتنی آنے والی دستاویزات موصول ہوئی ہیں", "کمیون کی سطح پر کام", "مرکزی پارٹی آفس", words):
            got, want = lexical.scores(query), full.scores(query)
            assert set(got) == set(want) and all(abs(got[c] - want[c]) <= drift * want[c] for c in want), query
            assert sorted(got, key=got.get)[-3:] == sorted(want, key=want.get)[-3:], query
        for token in tokens(words):
            assert lexical.known(token) == full.known(token) and lexical.reports_with(token) == full.reports_with(token)
            assert abs(lexical.idf(token) - full.idf(token)) < 1e-9

    edited = corpus / "002_3524ae84067e7f36.txt"
    edited.write_text(edited.read_text(encoding="utf-8").replace("55,279", "61,004"), encoding="utf-8")
    a.ingest()
    updated = a.index.bm25
    assert updated.stats["stale"] > 0  # the update path, not a full build
    agrees_with_a_full_build(updated, "55,279 61,004 دستاویزات")
    assert not updated.known(tokens("55,279")[0])
    assert a.ask("31 دسمبر 2023 تک دفتر کو کتنی آنے والی دستاویزات موصول ہوئی ہیں؟").answer == "61,004"
    reopened = Assistant(a.settings).index.bm25  # the update was saved
    assert reopened.stats == updated.stats and reopened.scores("مرکزی پارٹی") == updated.scores("مرکزی پارٹی")

    school = "تعلیم کی کانفرنس\n\nصوبے میں 4,321 سرکاری اسکول کام کر رہے ہیں۔\n"
    (corpus / "new.txt").write_text(school, encoding="utf-8")
    a.ingest()
    added = a.index.bm25
    assert added.stats["stale"] > updated.stats["stale"] and added.reports_with(tokens("اسکول")[0]) == {"new.txt"}
    agrees_with_a_full_build(added, "سرکاری اسکول 4,321", drift=0.15)

    (corpus / "new.txt").unlink()
    a.ingest()
    removed = a.index.bm25
    assert removed.stats["stale"] > added.stats["stale"] and not removed.known(tokens("اسکول")[0])
    agrees_with_a_full_build(removed, "سرکاری اسکول", drift=0.15)

    (corpus / "004_956f9168c988626f.txt").unlink()  # a third of the chunks
    a.ingest()
    assert a.index.bm25.stats["stale"] == 0  # rebuilt in full


SCHOOLS = "تعلیم کی کانفرنس\n\nکوانگ نگائی صوبے میں اس وقت 4,321 سرکاری اسکول کام کر رہے ہیں۔\n"
CLINICS = "صحت کی کانفرنس\n\nصوبے میں اس وقت 812 سرکاری کلینک کام کر رہے ہیں۔\n"
SECRET = "خفیہ فائل\n\nسرور کا پاس ورڈ 9,876 ہے اور یہ فائل رپورٹ نہیں ہے۔\n"


def test_links_are_followed_only_inside_the_corpus_folder(tmp_path):
    from assistant.corpus import discover

    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    (corpus / "a").mkdir(parents=True)
    outside.mkdir()
    (corpus / "a" / "schools.txt").write_text(SCHOOLS, encoding="utf-8")
    (corpus / ".hidden.txt").write_text(SCHOOLS, encoding="utf-8")
    (outside / "passwd").write_text(SECRET, encoding="utf-8")
    (corpus / "same.txt").symlink_to(corpus / "a" / "schools.txt")  # inside: the same file, once
    (corpus / "b").symlink_to(corpus / "a")  # inside: the same folder, once
    (corpus / "loop").symlink_to(corpus)  # a cycle
    (corpus / "passwd.txt").symlink_to(outside / "passwd")
    (corpus / "etc").symlink_to(outside)
    files, skipped = discover([corpus], corpus)
    assert files == [((corpus / "a" / "schools.txt").resolve(), "a/schools.txt")]
    assert {(s.path.as_posix(), s.reason) for s in skipped} == {
        ("passwd.txt", "links outside the corpus folder; not followed"),
        ("etc", "links outside the corpus folder; not followed"),
    }
    assert discover([corpus / "passwd.txt"], corpus)[0] == []  # named, but a link out of the corpus folder
    assert discover([outside / "passwd"], corpus)[0] == [((outside / "passwd").resolve(), str(outside / "passwd"))]


@pytest.mark.slow
def test_a_report_indexed_through_a_link_out_of_the_corpus_is_swept_and_files_are_named_in_the_corpus(tmp_path):
    """A link to a file outside the corpus folder is skipped by name with the reason; the
    report an older version indexed through it (under the absolute path it pointed to)
    is removed. Citations and messages name files relative to the corpus folder, which
    lies outside the working directory here; a file named outside it by its name."""
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    (corpus / "a").mkdir(parents=True)
    outside.mkdir()
    (corpus / "a" / "schools.txt").write_text(SCHOOLS, encoding="utf-8")
    (corpus / "a" / "broken.txt").write_bytes(b"\xff\xfe\x00bad")
    secret = outside / "notes.txt"
    secret.write_text(SECRET, encoding="utf-8")
    a = Assistant(corpus_dir=corpus, index_dir=tmp_path / "index", data_dir=tmp_path / "data")
    first = a.ingest([corpus, secret])  # the index an older version left when it followed the link
    assert first.added == ["a/schools.txt", str(secret)] and a.index.documents[str(secret)]["file"] == "notes.txt"
    assert [(s.path.as_posix(), s.reason) for s in first.skipped] == [("a/broken.txt", first.skipped[0].reason)]
    assert "UTF-8" in first.skipped[0].reason and str(tmp_path) not in first.skipped[0].reason

    (corpus / "passwd.txt").symlink_to(secret)
    (corpus / "clinics.txt").write_text(CLINICS, encoding="utf-8")
    report = a.ingest()
    assert report.removed == [str(secret)] and report.added == ["clinics.txt"]
    assert ("passwd.txt", "links outside the corpus folder; not followed") in [
        (s.path.as_posix(), s.reason) for s in report.skipped
    ]
    assert set(a.index.documents) == {"a/schools.txt", "clinics.txt"}
    assert a.index.collection.count() == a.index.chunk_count
    answer = a.ask("کوانگ نگائی صوبے میں کتنے سرکاری اسکول کام کر رہے ہیں؟")
    assert answer.answer == "4,321" and answer.citations[0].file == "a/schools.txt"
    assert "9,876" not in a.ask("سرور کا پاس ورڈ کیا ہے؟").answer
    with pytest.raises(CorpusPathError, match=r"corpus path does not exist: a/typo\.txt$"):
        a.ingest([corpus / "a" / "typo.txt"])
