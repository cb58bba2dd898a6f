"""The staff chat, started for real on a free loopback port and driven by headless
Chromium (Debian's package, through Playwright) and by `gradio_client`."""

import os
import shutil
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")

from servers import free_port  # noqa: E402

from assistant import Assistant, AssistantError, Settings  # noqa: E402
from assistant.ui.app import launch  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]  # fmt: skip
TITLE_000 = "کانفرنس کا انعقاد صوبائی پل سے صوبے کے 38 کمیونز"


def _serve(assistant: Assistant):
    port = free_port()
    served = Assistant(assistant.settings, chat_host="127.0.0.1", chat_port=port) if assistant else None
    app = launch(served, block=False)
    return app, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def chat_url(assistant):
    app, url = _serve(assistant)
    yield url
    app.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
        yield b
        b.close()


def _ask(page, question: str) -> None:
    answers_before = page.locator("#chat .bot").count()
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()
    page.wait_for_function(
        "n => document.querySelectorAll('#chat .bot').length > n && !document.querySelector('#chat .pending')",
        arg=answers_before,
        timeout=30_000,
    )
    page.wait_for_timeout(300)


def test_question_answer_citation_and_follow_up(browser, chat_url, tmp_path):
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.goto(chat_url, wait_until="domcontentloaded")
    _ask(page, "پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟")
    page.locator("#sources .source").first.wait_for()
    assert "17,418" in page.locator("#chat .bot").last.inner_text()
    source = page.locator("#sources .source").first
    assert TITLE_000 in source.locator(".title").inner_text()
    assert source.locator("mark").inner_text() == "17,418"  # the answering figure is highlighted
    assert source.locator(".url a").get_attribute("href").startswith("https://laichau.gov.vn/")

    _ask(page, "اور کمیون کی سطح پر کتنے؟")
    page.wait_for_function("document.querySelector('#sources mark').innerText === '2،334'", timeout=30_000)
    assert "2،334" in page.locator("#chat .bot").last.inner_text()
    assert "کیڈرز" in page.locator("#sources .searched").inner_text()  # the rewritten question is shown
    direction = page.evaluate("getComputedStyle(document.querySelector('#sources blockquote')).direction")
    assert direction == "rtl"
    page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
    assert (tmp_path / "chat.png").stat().st_size > 10_000

    page.locator("#new-chat").click()
    page.wait_for_function("document.querySelectorAll('#chat .bot').length === 0", timeout=10_000)
    page.close()


def test_refusal_reads_as_a_refusal(browser, chat_url):
    page = browser.new_page()
    page.goto(chat_url, wait_until="domcontentloaded")
    _ask(page, "How many hospitals does Thanh Hoa province have?")
    reply = page.locator("#chat .bot").last.inner_text()
    assert "The reports do not say." in reply and "⚠️" not in reply
    assert "No passage in the reports answers this." in page.locator("#sources").inner_text()
    page.close()


def test_gradio_client_gets_structured_answers(chat_url):
    from gradio_client import Client

    client = Client(chat_url, verbose=False)
    result = client.predict("How many incoming documents had the office received by 31 December 2023?", [],
                            api_name="/ask")  # fmt: skip
    assert result["answer"] == "55,279" and result["refused"] is False
    assert result["citations"][0]["doc_id"] == "002_3524ae84067e7f36.txt"
    assert "55,279" in result["citations"][0]["quote"]
    follow = client.predict("اور کمیون کی سطح پر کتنے؟", ["پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟"],
                            api_name="/ask")  # fmt: skip
    assert follow["answer"] == "2،334" and "کیڈرز" in follow["standalone_question"]
    error = client.predict("   ", [], api_name="/ask")
    assert error["error"] == "InvalidQuestionError"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """An index over one report that carries markup, to check it is shown as text."""
    corpus = tmp_path_factory.mktemp("hostile")
    (corpus / "x.txt").write_text(
        "خطرناک رپورٹ۔\nدفتر میں 77 کمپیوٹر ہیں <script>window.__xss = 1</script> "
        '<img src=x onerror="window.__xss = 2"> اور سب چلتے ہیں۔\n',
        encoding="utf-8",
    )
    a = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("hostile-index")))
    a.ingest()
    app, url = _serve(a)
    yield url
    app.close()


def test_markup_in_reports_and_questions_is_shown_as_text(browser, hostile):
    page = browser.new_page()
    page.goto(hostile, wait_until="domcontentloaded")
    _ask(page, 'دفتر میں کتنے کمپیوٹر ہیں؟ <img src=y onerror="window.__xss = true">')
    page.locator("#sources .source").first.wait_for()
    assert page.evaluate("window.__xss") is None
    quote = page.locator("#sources blockquote").inner_text()
    assert "<script>window.__xss = 1</script>" in quote and "onerror" in quote
    assert "onerror" in page.locator("#chat .user").last.inner_text()
    assert page.locator("#sources img, #chat img[src=x], #chat img[src=y]").count() == 0
    page.close()


def test_missing_index_is_a_short_message(browser, tmp_path):
    app, url = _serve(Assistant(Settings(index_dir=tmp_path / "none")))
    try:
        page = browser.new_page()
        page.goto(url, wait_until="domcontentloaded")
        _ask(page, "کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟")
        reply = page.locator("#chat .bot").last.inner_text()
        assert "assistant ingest" in reply and "Traceback" not in reply
        page.close()
    finally:
        app.close()


def test_login_required_off_loopback(assistant):
    with pytest.raises(AssistantError, match="without a login"):
        launch(Assistant(assistant.settings, chat_host="0.0.0.0", chat_port=free_port()), block=False)
