"""Reports as staff have them: the five reports as saved web pages, Word and PDF files
LibreOffice made from them with an Urdu font, and the pages printed to PDF by Chromium
(`bench/make_formats.py`), read, ingested and cited with their page or paragraph."""

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


@pytest.mark.slow
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


@pytest.mark.slow
def test_browser_printed_pdf_reads_as_the_report_without_running_header_or_footer():
    """Chromium names a bracket in Urdu text by its mirror glyph, writes Arabic
    presentation forms, and prints the date, the page's address and "n/m" on every page."""
    for stem in STEMS:
        source = _body((ROOT / "corpus" / f"{stem}.txt").read_text(encoding="utf-8"))
        report = read_report(FIXTURES / "browser_pdf" / f"{stem}.pdf", f"{stem}.pdf")
        assert not any("\ufb50" <= c <= "\ufeff" for c in report.text), stem
        assert "file:" not in report.text and " PM" not in report.text and " AM" not in report.text, stem
        assert figures(_body(report.text)) == figures(source) + ["1234567"], stem  # the site's view count is printed
        assert len(report.locations) >= 2
    brackets = read_report(FIXTURES / "browser_pdf" / f"{STEMS[1]}.pdf", "r.pdf").text
    assert "(63 صوبوں" in brackets and "زیادہ)" in brackets
    latin = read_report(FIXTURES / "browser_pdf" / f"{STEMS[3]}.pdf", "r.pdf").text
    assert "(PSC)" in latin and "(GDC)" in latin


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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


def test_a_word_file_without_a_title_property_is_named_by_its_first_heading(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("ابتدائیہ: صوبائی کانفرنس کی رپورٹ کا خلاصہ۔")
    document.add_heading("صحت کی خدمات کا جائزہ", level=1)
    document.add_paragraph("کل 17,418 کیڈرز ہیں۔")
    document.core_properties.title = ""
    document.save(tmp_path / "untitled.docx")
    assert read_report(tmp_path / "untitled.docx", "untitled.docx").title == "صحت کی خدمات کا جائزہ"
    document.core_properties.title = "سالانہ رپورٹ"
    document.save(tmp_path / "titled.docx")
    assert read_report(tmp_path / "titled.docx", "titled.docx").title == "سالانہ رپورٹ"


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


# Only visible text is read; each file's work is bounded (a hostile tester's files).

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def test_hidden_web_page_text_is_not_read(tmp_path):
    """Inline styles that hide (any spacing, case, `!important`), `hidden`, `aria-hidden`,
    <template> and <noscript>: the element and everything inside it are left out; a
    style that shows (color, display:block, a later display) is read."""
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>رپورٹ</title></head><body>"
        "<p>کل 17,418 کیڈرز۔</p>"
        '<div style="display:none"><p>کل 99,001 کیڈرز۔</p><b>99,002</b></div>'
        '<p style="COLOR:red; Display : NONE !important">99,003</p>'
        '<p>ٹیکس <span style="visibility: hidden">99,004</span>ادا۔</p>'
        '<p style="visibility:collapse">99,005</p>'
        "<section hidden><p>99,006</p></section>"
        '<div aria-hidden="TRUE">99,007</div>'
        "<template><p>99,008</p></template>"
        "<noscript><p>99,009</p></noscript>"
        '<p style="display:/* x */none">99,010</p>'
        '<p style="display:none !important; display:block">99,011</p>'
        '<p style="opacity: 0">99,012</p><p style="font-size:0px">99,013</p>'
        "<dialog><p>99,014</p></dialog><canvas>99,015</canvas><object>99,016</object>"
        "<video>99,017</video><audio>99,018</audio>"
        '<dialog open><p style="opacity:0.5">کھلا مکالمہ۔</p></dialog>'
        '<p style="color:red">سرخ 2،334۔</p>'
        '<div style="display:block">وارڈ 38۔</div>'
        '<p style="display:none; display: block">دوبارہ 85.59/100۔</p>'
        '<p aria-hidden="false">نظر آتا ہے۔</p>'
        "</body></html>",
        encoding="utf-8",
    )
    report = read_report(page, "page.html")
    assert (
        report.text == "کل 17,418 کیڈرز۔\nٹیکس ادا۔\nکھلا مکالمہ۔\nسرخ 2،334۔\nوارڈ 38۔\nدوبارہ 85.59/100۔\nنظر آتا ہے۔"
    )
    assert "99," not in report.text


def test_a_hidden_heading_does_not_name_the_page(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<body><h1 hidden>جعلی عنوان</h1><h1>اصل عنوان</h1><p>متن۔</p></body>", encoding="utf-8")
    report = read_report(page, "page.html")
    assert report.title == "اصل عنوان" and "جعلی" not in report.text


def _word_with_revisions(path: Path) -> None:
    """A Word file with hidden runs (set on the run, by a character style, by a paragraph
    style), tracked deletions and moves, and tracked insertions, the XML put in with lxml."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from lxml import etree

    document = docx.Document()
    secret = document.styles.add_style("Secret", WD_STYLE_TYPE.CHARACTER)
    secret.font.hidden = True
    hidden_paragraphs = document.styles.add_style("Hidden Note", WD_STYLE_TYPE.PARAGRAPH)
    hidden_paragraphs.font.hidden = True

    document.add_heading("اخراجات", level=1)
    paragraph = document.add_paragraph("کل ")
    paragraph.add_run("99,001 ").font.hidden = True  # <w:vanish/> in the run's properties
    paragraph.add_run("17,418 کیڈرز۔")
    paragraph.add_run("99,002").style = secret
    shown = document.add_paragraph("نوٹ ", style=hidden_paragraphs)  # hidden by its style ...
    shown.add_run("99,003")
    document.add_paragraph("وارڈ 38۔", style=hidden_paragraphs).runs[0].font.hidden = False  # ... unless a run says
    revised = document.add_paragraph("کمیون ")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "خانہ 2،334"
    table.cell(0, 1).add_paragraph("پوشیدہ 99,004").runs[0].font.hidden = True
    path_xml = etree.fromstring(
        f'<w:body xmlns:w="{W_NS}"><w:p>'
        '<w:del w:id="1" w:author="a"><w:r><w:delText>99,005 </w:delText></w:r></w:del>'
        '<w:ins w:id="2" w:author="a"><w:r><w:t xml:space="preserve">2،335 </w:t></w:r></w:ins>'
        '<w:moveFrom w:id="3" w:author="a"><w:r><w:t>99,006</w:t></w:r></w:moveFrom>'
        '<w:moveTo w:id="4" w:author="a"><w:r><w:t>منتقل</w:t></w:r></w:moveTo>'
        '<w:r><w:rPr><w:vanish w:val="0"/></w:rPr><w:t xml:space="preserve"> ظاہر</w:t></w:r>'
        '<w:r><w:rPr><w:vanish w:val="true"/></w:rPr><w:t>99,007</w:t></w:r>'
        "</w:p></w:body>"
    )
    for child in path_xml[0]:
        revised._p.append(child)
    document.save(path)


def test_hidden_and_deleted_word_text_is_not_read_and_insertions_are(tmp_path):
    _word_with_revisions(tmp_path / "revised.docx")
    report = read_report(tmp_path / "revised.docx", "revised.docx")
    assert report.text == "اخراجات\nکل 17,418 کیڈرز۔\nوارڈ 38۔\nکمیون 2،335 منتقل ظاہر\nخانہ 2،334"
    assert "99," not in report.text


def _docx_with(path: Path, body_xml: str = "", extra: dict[str, bytes] | None = None) -> Path:
    """A python-docx file with `body_xml` put in its body and `extra` parts added."""
    import docx

    document = docx.Document()
    document.add_paragraph("متن۔")
    document.save(path)
    with zipfile.ZipFile(path) as made:
        parts = {item.filename: made.read(item) for item in made.infolist()}
    parts["word/document.xml"] = parts["word/document.xml"].replace(b"<w:sectPr", body_xml.encode() + b"<w:sectPr", 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in {**parts, **(extra or {})}.items():
            out.writestr(name, data)
    return path


def _bomb(path: Path, name: str, size: int) -> Path:
    """A Word file with one more part of `size` zero bytes: small on disk, huge unpacked."""
    _docx_with(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as out, out.open(name, "w") as part:
        block = bytes(1 << 20)
        for _ in range(size >> 20):
            part.write(block)
        part.write(bytes(size % (1 << 20)))
    return path


def test_word_zip_bombs_are_refused_from_the_zip_directory(tmp_path):
    from assistant import formats

    # every part counts, whether or not python-docx would load it: nothing is unpacked to find out
    whole = _bomb(tmp_path / "whole.docx", "word/media/image1.png", formats.MAX_DOCX_UNPACKED + 1)
    assert whole.stat().st_size < 200_000  # 100 MB of zeros packs to about 100 KB
    bomb = r"^unpacks to 10\d,\d{3},\d{3} bytes \(limit 100,000,000\): refused as a possible zip bomb$"
    with pytest.raises(ValueError, match=bomb):
        read_report(whole, "whole.docx")

    part = tmp_path / "part.docx"
    padding = "<!--" + " " * (formats.MAX_DOCX_PART + 1) + "-->"
    _docx_with(part, padding)  # word/document.xml itself: a comment python-docx would parse
    with pytest.raises(ValueError, match=r"part word/document\.xml unpacks to .* \(limit 20,000,000 for one part\)"):
        read_report(part, "part.docx")

    packed = tmp_path / "packed.docx"
    _docx_with(packed, "<!--" + " " * 5_000_000 + "-->")  # under both size limits, packed a thousand times
    with pytest.raises(ValueError, match=r"word/document\.xml unpacks to [\d,]+ times its packed size \(limit 100\)"):
        read_report(packed, "packed.docx")


def test_a_word_file_of_too_many_paragraphs_or_characters_is_refused(tmp_path):
    import random

    from assistant import formats

    many = _docx_with(tmp_path / "many.docx", "<w:p/>" * formats.MAX_DOCX_PARAGRAPHS)  # 20,001 with the first
    assert many.stat().st_size < 40_000  # python-docx's own parts are most of it
    with pytest.raises(ValueError, match=r"has 20,001 paragraphs \(limit 20,000, table cells' included\)"):
        read_report(many, "many.docx")
    cells = "<w:tbl><w:tr>" + "<w:tc><w:p/></w:tc>" * 100 + "</w:tr></w:tbl>"
    table = _docx_with(tmp_path / "table.docx", cells * 201)  # 20,100 empty cells
    with pytest.raises(ValueError, match=r"has 20,101 paragraphs"):
        read_report(table, "table.docx")

    words = random.Random(0)
    paragraph = "".join(words.choice("ابپتٹثجچ ") for _ in range(300_000))  # does not pack: no ratio refusal
    long = _docx_with(tmp_path / "long.docx", f"<w:p><w:r><w:t>{paragraph}</w:t></w:r></w:p>" * 4)
    with pytest.raises(ValueError, match=r"its text is longer than 1,000,000 characters \(limit 1,000,000\)"):
        read_report(long, "long.docx")


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".txt", ".html"])
def test_a_report_of_too_many_characters_is_refused_in_every_format(tmp_path, suffix):
    from assistant import formats

    line = "ب" * (formats.MAX_CHARS + 1)  # one line, under the 5 MB file limit
    text = f"<html><body><p>{line}</p></body></html>" if suffix == ".html" else line
    (tmp_path / f"long{suffix}").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"its text is 1,000,001 characters \(limit 1,000,000\): too long"):
        read_report(tmp_path / f"long{suffix}", f"long{suffix}")
    (tmp_path / f"fits{suffix}").write_text(text.replace("ب", "", 1), encoding="utf-8")
    assert len(read_report(tmp_path / f"fits{suffix}", f"fits{suffix}").text) == formats.MAX_CHARS


def test_refused_files_are_skipped_with_the_reason_and_the_rest_read(tmp_path):
    from assistant import formats
    from assistant.corpus import load_reports

    shutil.copy(FIXTURES / "docx" / f"{STEMS[0]}.docx", tmp_path)
    _bomb(tmp_path / "bomb.docx", "word/media/image1.png", formats.MAX_DOCX_UNPACKED + 1)
    _docx_with(tmp_path / "many.docx", "<w:p/>" * formats.MAX_DOCX_PARAGRAPHS)
    reports, skipped = load_reports([tmp_path], tmp_path)
    assert [r.doc_id for r in reports] == [f"{STEMS[0]}.docx"]
    reasons = {s.path.name: s.reason for s in skipped}
    assert "possible zip bomb" in reasons["bomb.docx"] and "20,000 paragraphs" not in reasons["bomb.docx"]
    assert "limit 20,000" in reasons["many.docx"]


def test_running_lines_are_words_or_page_numbers_at_one_height_never_a_row_of_figures():
    from assistant.formats.pdf import Line, _without_running_lines

    def page(number: int, header_top: float = 20.0) -> list[Line]:
        def line(text: str, top: float) -> Line:
            return Line(800 - top, text, 500.0, (40.0, top, 540.0, top + 12))

        return [line("رپورٹ کی سرخی 12/2/26", header_top), line("12,500 3,400 15,900", 60.0),
                line(("پہلا", "دوسرا", "تیسرا")[number - 1] + " صفحہ", 100.0), line(f"{number}/3", 770.0)]  # fmt: skip

    kept = _without_running_lines([page(1), page(2), page(3)])
    assert [[line.text for line in lines] for lines in kept] == [
        ["12,500 3,400 15,900", f"{word} صفحہ"] for word in ("پہلا", "دوسرا", "تیسرا")
    ]  # header and page number gone; the row of figures stays, though it repeats
    moved = _without_running_lines([page(1, 20.0), page(2, 300.0), page(3, 520.0)])
    assert all(lines[0].text.startswith("رپورٹ کی سرخی") for lines in moved)  # not at one height: text
