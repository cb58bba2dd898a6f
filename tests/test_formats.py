"""Reports as staff have them: the five reports as saved web pages, and Word and PDF
files LibreOffice made from them with an Urdu font (`bench/make_formats.py`), read,
ingested and cited with their page or paragraph."""

import difflib
import shutil
import zipfile
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.corpus import is_metadata_line, read_report
from assistant.formats.pdf import logical_line
from assistant.normalize import figures, normalize

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "formats"
STEMS = sorted(p.stem for p in (ROOT / "corpus").glob("*.txt"))


def _body(text: str) -> str:
    return normalize(" ".join(line for line in text.splitlines() if line.strip() and not is_metadata_line(line)))


@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
def test_each_format_reads_back_the_report_text(fmt):
    for stem in STEMS:
        source = _body((ROOT / "corpus" / f"{stem}.txt").read_text(encoding="utf-8"))
        report = read_report(FIXTURES / fmt / f"{stem}.{fmt}", f"{stem}.{fmt}")
        ratio = difflib.SequenceMatcher(None, source, _body(report.text), autojunk=False).ratio()
        assert ratio >= 0.98, (stem, ratio)
        assert figures(_body(report.text)) == figures(source), stem  # every figure, whole and in order
        assert report.locations and report.locations[0][0] == 0
    pdf = read_report(FIXTURES / "pdf" / f"{STEMS[1]}.pdf", "r.pdf")
    for figure in ("85.59/100", "2024", "06"):  # numbers inside Urdu keep their order
        assert figure in pdf.text


def test_web_page_title_source_and_no_site_chrome():
    report = read_report(FIXTURES / "html" / f"{STEMS[0]}.html", "r.html")
    assert report.title.startswith("کانفرنس کا انعقاد صوبائی پل سے")
    assert report.source_url.startswith("https://laichau.gov.vn/tin-tuc-su-kien/")
    for chrome in ("ہوم", "جملہ حقوق", "ignore me", "1,234,567"):  # menu, footer, script
        assert chrome not in report.text
    assert [label for _, label in report.locations[:2]] == ["¶ 1", "¶ 2"]


def test_web_page_of_bare_blocks_inside_a_form(tmp_path):
    """A page built from <div>s inside one <form> (as server-rendered sites are) loses
    no text; form controls are left out; paragraphs are counted under their heading."""
    page = tmp_path / "page.htm"
    page.write_text(
        '<html><head><title>نتائج</title></head><body><form id="main"><input type="hidden" value="VIEWSTATE">'
        "<div class='content'><h2>اخراجات</h2><div>کل <b>1,234</b> روپے خرچ ہوئے۔<br>دوسری سطر۔</div>"
        "<p>دوسرا پیراگراف۔</p><!-- a comment --></div></form></body></html>",
        encoding="utf-8",
    )
    report = read_report(page, "page.htm")
    assert report.text == "اخراجات\nکل 1,234 روپے خرچ ہوئے۔ دوسری سطر۔\nدوسرا پیراگراف۔"
    assert [label for _, label in report.locations] == ["اخراجات", "اخراجات ¶ 1", "اخراجات ¶ 2"]


def test_pdf_pages_and_source_link_from_a_url_broken_over_two_lines():
    report = read_report(FIXTURES / "pdf" / f"{STEMS[0]}.pdf", "r.pdf")
    assert [label for _, label in report.locations] == ["page 1", "page 2", "page 3"]
    assert report.source_url.endswith(
        "lai-chau-quyet-liet-trien-khai-thuc-hien-va-van-hanh-hieu-qua-mo-hinh-chinh-quyen-dia-phuong.html"
    )
    page_2 = report.locations[1][0]
    assert report.text[page_2 - 1] in " \n"  # a page starts at a word


def _drawn(*segments: str) -> list[str]:
    """A line as a PDF draws it, read from its right edge: segments from right to left;
    Urdu ones are met in reading order, left-to-right ones (numbers, Latin) backwards."""
    out: list[str] = []
    for segment in segments:
        urdu = any(c.isalpha() and "\u0600" <= c <= "\u06ff" for c in segment) or segment.strip() == ""
        out += list(segment) if urdu else list(reversed(segment))
    return out


@pytest.mark.parametrize(
    ("segments", "expected", "latin_follows"),
    [
        (("نے ", "85.59/100", " پوائنٹس"), "نے 85.59/100 پوائنٹس", False),
        (("میں سے ", "2،334", " لوگ"), "میں سے 2،334 لوگ", False),
        (("شرح ", "98.8", "%", " ہے"), "شرح 98.8% ہے", False),
        (("مدت ", "2023", "-", "2025", " کی"), "مدت 2023-2025 کی", False),  # a range is drawn as two numbers
        (("فیصلے ", "766", "/", "QD-TTg", " کے"), "فیصلے 766/QD-TTg کے", False),
        (("تحریک ", "Mosilization Movement", " کی"), "تحریک Mosilization Movement کی", False),
        (("ماخذ: ", "-", "https://a.gov.vn/x"), "ماخذ: https://a.gov.vn/x-", True),  # broken URL: `-` ends the line
        (("ماخذ: ", "-", "https://a.gov.vn/x"), "ماخذ: -https://a.gov.vn/x", False),
    ],
)
def test_pdf_line_reading_order(segments, expected, latin_follows):
    assert logical_line(_drawn(*segments), latin_follows) == expected


def test_a_latin_only_line_reads_left_to_right():
    assert logical_line(list(reversed("chuyen-doi-so-2025-1328988"))) == "chuyen-doi-so-2025-1328988"


def test_unreadable_files_are_skipped_by_name_and_the_rest_ingested(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(FIXTURES / "docx" / f"{STEMS[0]}.docx", corpus)
    for bad in (FIXTURES / "bad").iterdir():
        shutil.copy(bad, corpus)
    (corpus / "notes.doc").write_bytes(b"\xd0\xcf\x11\xe0 old Word")
    with (
        zipfile.ZipFile(FIXTURES / "docx" / f"{STEMS[1]}.docx") as whole,
        zipfile.ZipFile(corpus / "cut.docx", "w") as cut,
    ):
        for item in whole.infolist():  # a whole zip whose document.xml stops halfway
            data = whole.read(item)
            cut.writestr(item, data[: len(data) // 2] if item.filename == "word/document.xml" else data)
    a = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    report = a.ingest(progress=False)
    assert report.added == [f"{STEMS[0]}.docx"]
    reasons = {s.path.name: s.reason for s in report.skipped}
    assert "encrypted PDF" in reasons["locked.pdf"]
    assert "no text layer" in reasons["scanned.pdf"]
    assert "not a readable PDF" in reasons["truncated.pdf"]
    assert "not a readable Word" in reasons["truncated.docx"]
    assert "not a readable Word" in reasons["cut.docx"]
    assert "no character map" in reasons["nastaliq.pdf"] or "ToUnicode" in reasons["nastaliq.pdf"]
    assert "not a report format" in reasons["notes.doc"] and ".docx" in reasons["notes.doc"]


def test_answers_from_pdf_and_word_files_cite_page_and_paragraph(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(FIXTURES / "pdf" / f"{STEMS[0]}.pdf", corpus)
    shutil.copy(FIXTURES / "docx" / f"{STEMS[1]}.docx", corpus)
    a = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    a.ingest(progress=False)

    answer = a.ask("پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟")
    assert answer.answer == "17,418"
    cited = answer.citations[0]
    assert cited.file.endswith(".pdf") and cited.location == "page 1"
    assert cited.source_url.startswith("https://laichau.gov.vn/")
    report = read_report(corpus / f"{STEMS[0]}.pdf", "x")
    assert report.text[cited.start : cited.end] == cited.quote  # offsets point into the extracted text

    answer = a.ask("لاؤ کائی نے انڈیکس رینکنگ ٹیبل کے مطابق کتنے پوائنٹس حاصل کیے؟")
    assert "85.59/100" in answer.answer
    cited = answer.citations[0]
    assert cited.file.endswith(".docx") and cited.location.startswith("¶ ")


def test_an_unchanged_pdf_is_not_read_again(tmp_path, monkeypatch):
    """Re-ingest knows an unchanged file by its bytes: the PDF reader (0.2 s a report) is
    not run again. The real reader is wrapped to count its calls."""
    from assistant import formats

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(FIXTURES / "pdf" / f"{STEMS[2]}.pdf", corpus)
    calls = []
    real = formats.READERS[".pdf"]
    monkeypatch.setitem(formats.READERS, ".pdf", lambda path: calls.append(path) or real(path))
    a = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    assert a.ingest(progress=False).added == [f"{STEMS[2]}.pdf"] and len(calls) == 1
    assert a.ingest(progress=False).unchanged == [f"{STEMS[2]}.pdf"] and len(calls) == 1
    monkeypatch.setitem(formats.VERSIONS, ".pdf", formats.VERSIONS[".pdf"] + 1)  # a better PDF reader ships
    assert a.ingest(progress=False).updated == [f"{STEMS[2]}.pdf"] and len(calls) == 2


def test_a_merged_word_table_cell_is_read_once(tmp_path):
    import docx

    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "کل 17,418 کیڈرز"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "کمیون 2،334"
    table.cell(1, 1).text = "وارڈ 38"
    document.save(tmp_path / "table.docx")
    report = read_report(tmp_path / "table.docx", "table.docx")
    assert report.text == "کل 17,418 کیڈرز\nکمیون 2،334\nوارڈ 38"
