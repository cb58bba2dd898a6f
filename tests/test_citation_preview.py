"""Citations that open: a PDF's page drawn with the quoted lines marked, any other
report's paragraph in its context with the quote marked, and the original file to
download; from the last answer or any earlier one. Real files, a real index, a real
chat server and headless Chromium."""

import shutil
from pathlib import Path

import pytest
from conftest import CORPUS, require  # noqa: E402
from servers import free_port  # noqa: E402
from test_chat import _ask  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.corpus import file_sha256, read_report  # noqa: E402
from assistant.preview import SourceUnavailableError, open_citation  # noqa: E402
from assistant.ui.render import context_html  # noqa: E402

BROWSER_PDF = Path(__file__).resolve().parent / "fixtures" / "formats" / "browser_pdf" / "001_887231cad6e8cc3d.pdf"
TEXT = CORPUS / "002_3524ae84067e7f36.txt"
POINTS = "لاؤ کائی نے انڈیکس رینکنگ ٹیبل کے مطابق کتنے پوائنٹس حاصل کیے؟"  # 85.59/100, page 1 of the PDF
DOCUMENTS = "31 دسمبر 2023 تک دفتر کو کتنی آنے والی دستاویزات موصول ہوئی ہیں؟"  # 55,279, in the text report


def _sentence(text: str, figure: str) -> tuple[int, int]:
    at = text.index(figure)
    return text.rfind("۔", 0, at) + 1, text.index("۔", at) + 1


def _opened(source: Path, copy: Path, figure: str):
    """A copy of `source` read as indexed, and its sentence holding `figure` opened."""
    shutil.copy(source, copy)
    text = read_report(copy, copy.name).text
    start, end = _sentence(text, figure)
    return text, start, end, open_citation(copy, file_sha256(copy), start, end)


@pytest.mark.slow
def test_a_pdf_citation_opens_its_page_with_the_quoted_lines_marked(tmp_path):
    text, start, end, preview = _opened(BROWSER_PDF, tmp_path / "report.pdf", "85.59/100")
    assert preview.location == "page 1" and preview.page == 1 and "85.59/100" in preview.quote
    assert 1 <= len(preview.marked) <= 4  # the lines the sentence is drawn on, no more
    image = preview.image
    assert image.size[0] > 800  # a page at 108 dpi
    marked = {(x, y) for x in range(0, image.size[0], 4) for y in range(0, image.size[1], 4)
              if image.getpixel((x, y))[2] < 200 and image.getpixel((x, y))[0] > 230}  # fmt: skip  # yellow
    top, bottom = min(b.top for b in preview.marked) * 1.5, max(b.bottom for b in preview.marked) * 1.5
    assert marked and all(top - 4 <= y <= bottom + 4 for _, y in marked)  # yellow where the quote is, only there
    assert preview.before.endswith(text[start - 20 : start]) and preview.after.startswith(text[end : end + 20])
    pdf = tmp_path / "report.pdf"  # a citation made before the report was read again, by another reader
    with pytest.raises(SourceUnavailableError, match="no longer at that place"):
        open_citation(pdf, file_sha256(pdf), start, end, quote="کوئی اور جملہ جو یہاں نہیں تھا۔")
    assert open_citation(pdf, file_sha256(pdf), start, end, quote=text[start:end]).page == 1


def test_a_download_is_one_copy_per_file_version(tmp_path):
    from assistant.ui.exports import download_copy

    report = tmp_path / "r.txt"
    shutil.copy(TEXT, report)
    first = download_copy(report, file_sha256(report))
    assert first.read_bytes() == report.read_bytes() and download_copy(report, file_sha256(report)) == first
    report.write_text("نیا نسخہ۔", encoding="utf-8")
    assert download_copy(report, file_sha256(report)) != first


def test_a_text_citation_opens_its_paragraph_in_context(tmp_path):
    report = tmp_path / "r.txt"
    text, start, end, preview = _opened(TEXT, report, "55,279")
    assert preview.image is None and preview.page is None
    shown = context_html(preview.before, preview.quote, preview.after)
    assert "<mark>" in shown and "55,279" in shown.split("<mark>")[1].split("</mark>")[0]
    assert preview.before.count("\n") == 1 and preview.after.count("\n") == 1  # a paragraph either side
    report.write_text(text.replace("55,279", "61,004"), encoding="utf-8")  # changed since it was indexed
    with pytest.raises(SourceUnavailableError, match="changed since it was indexed"):
        open_citation(report, file_sha256(TEXT), start, end)
    report.unlink()
    with pytest.raises(SourceUnavailableError, match="no longer there"):
        open_citation(report, file_sha256(TEXT), start, end)


def test_any_answers_citation_opens_in_the_chat(browser, tmp_path):
    require("gradio")
    from assistant.server import serve

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(BROWSER_PDF, corpus / "points.pdf")
    shutil.copy(TEXT, corpus / "documents.txt")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", data_dir=tmp_path / "data",
                        chat_port=free_port())  # fmt: skip
    Assistant(settings).ingest(progress=False)
    app = serve(Assistant(settings), block=False)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"http://127.0.0.1:{settings.chat_port}/", wait_until="domcontentloaded")
        page.locator("#question textarea").wait_for()
        _ask(page, POINTS)
        assert "85.59/100" in page.locator("#chat .bot").last.inner_text()
        assert "–" not in page.locator("#sources .file").first.inner_text()  # no character offsets for staff
        page.locator("#open-source label").first.click()
        image = page.locator("#source-page img")
        image.wait_for(timeout=30_000)
        page.wait_for_function("document.querySelector('#source-page img').naturalWidth > 800", timeout=30_000)
        assert "85.59/100" in page.locator("#source-context mark").inner_text()
        download = page.locator("#source-file")
        assert download.is_visible()
        with page.expect_download() as downloaded:
            download.click()
        assert Path(downloaded.value.path()).read_bytes() == BROWSER_PDF.read_bytes()  # the original file

        _ask(page, DOCUMENTS)
        assert "55,279" in page.locator("#chat .bot").last.inner_text()
        page.wait_for_function("!document.querySelector('#source-context mark')", timeout=10_000)  # new sources
        page.locator("#open-source label").first.click()
        page.wait_for_function("document.querySelector('#source-context mark')?.innerText.includes('55,279')",
                               timeout=30_000)  # fmt: skip
        assert not page.locator("#source-page img").is_visible()  # a text report has no page to draw
        assert "documents.txt" in page.locator("#sources .file").first.inner_text()

        page.locator("#chat .bot").first.click()  # the earlier answer: its sources come back
        page.wait_for_function("document.querySelector('#sources').innerText.includes('points.pdf')",
                               timeout=30_000)  # fmt: skip
        page.locator("#open-source label").first.click()
        page.wait_for_function("document.querySelector('#source-page img')?.naturalWidth > 800", timeout=30_000)
    finally:
        app.close()
