from pathlib import Path

import pytest

from assistant.chunking import chunk_report, sentences
from assistant.corpus import load_reports, read_report
from assistant.errors import CorpusPathError

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_source_url_and_title():
    report = read_report(CORPUS / "001_887231cad6e8cc3d.txt", "001")
    assert report.source_url.startswith("https://snv.laocai.gov.vn/")
    assert report.title.startswith("صوبائی پارٹی کمیٹی کے سیکرٹری")
    bare = read_report(CORPUS / "002_3524ae84067e7f36.txt", "002")
    assert bare.source_url is None  # `ماخذ` line without a URL


def test_markdown_heading_is_the_title(tmp_path):
    path = tmp_path / "r.md"
    path.write_text("# رپورٹ کا عنوان\n\nپہلا جملہ۔\n", encoding="utf-8")
    assert read_report(path, "r.md").title == "رپورٹ کا عنوان"


def test_a_title_is_never_a_cut_sentence(tmp_path):
    """The first sentence whole, however long a line it opens; a "sentence" too long to
    be a title (a line with no sentence end) leaves the file's name."""
    first = (CORPUS / "001_887231cad6e8cc3d.txt").read_text(encoding="utf-8").split("۔")[0].strip()
    assert len(first) > 200 and read_report(CORPUS / "001_887231cad6e8cc3d.txt", "001").title == first
    endless = tmp_path / "notes-2024.txt"
    endless.write_text("لفظ " * 120 + "\n", encoding="utf-8")
    assert read_report(endless, "notes-2024.txt").title == "notes-2024"


def test_sentences_do_not_split_figures():
    text = "شرح 98.8% ہے۔ کل 17,418 کیڈرز ہیں؟ اور 85.59/100 پوائنٹس"
    assert [s.text for s in sentences(text)] == ["شرح 98.8% ہے۔", "کل 17,418 کیڈرز ہیں؟", "اور 85.59/100 پوائنٹس"]


@pytest.mark.parametrize("size", [200, 500, 1000])
def test_chunks_are_original_slices_with_overlap(size):
    report = read_report(CORPUS / "004_956f9168c988626f.txt", "004")
    chunks = chunk_report(report, "f", size, 1)
    assert len(chunks) > 3
    for chunk in chunks:
        assert report.text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= size
        assert "ماخذ" not in chunk.text and "تبصرہ (0)" not in chunk.text
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:]))  # neighbours share a sentence
    assert all(b.start > a.start and b.end > a.end for a, b in zip(chunks, chunks[1:]))  # no chunk inside another
    for s in sentences(report.text):  # every sentence (or its pieces) is in some chunk
        assert any(c.start <= s.start < c.end for c in chunks)
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_unreadable_files_are_reported_not_indexed(tmp_path):
    (tmp_path / "good.txt").write_text("ایک رپورٹ۔ اس میں 12 دفاتر ہیں۔", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 report".encode("latin-1"))
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    reports, skipped = load_reports([tmp_path], tmp_path)
    assert [r.doc_id for r in reports] == ["good.txt"]
    reasons = {s.path.name: s.reason for s in skipped}
    assert "not valid UTF-8" in reasons["latin1.txt"]
    assert "not a report format" in reasons["image.png"]
    assert reasons["empty.md"] == "empty"


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusPathError, match="does not exist"):
        load_reports([tmp_path / "nope"], tmp_path)
