"""The chat on a phone (390 px) and a desktop (1280 px), light and dark, in headless
Chromium: the chat comes first on a phone with conversations and sources behind their
toggles; the dark-mode toggle is remembered by the browser; highlights stay readable;
no line of an answer is clipped. Screenshots of each go to reports/ui/ (git-ignored)
for people to look at after a run."""

import shutil
from pathlib import Path

import pytest
from conftest import CORPUS, require
from servers import free_port
from test_chat import _ask

from assistant import Assistant, Settings

SHOTS = Path(__file__).resolve().parent.parent / "reports" / "ui"
POINTS = "لاؤ کائی نے انڈیکس رینکنگ ٹیبل کے مطابق کتنے پوائنٹس حاصل کیے؟"

TOP = "id => document.getElementById(id).getBoundingClientRect().top"
CLIPPED = """() => [...document.querySelectorAll('#chat .bot, #chat .bot *')].filter(e => {
  const s = getComputedStyle(e);
  return /hidden|clip/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1;
}).length"""
CONTRAST = """() => {
  const mark = document.querySelector('#sources mark');
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const linear = v => { v /= 255; return v <= .03928 ? v / 12.92 : ((v + .055) / 1.055) ** 2.4; };
  const lum = c => { const [r, g, b] = rgb(c).map(linear); return .2126 * r + .7152 * g + .0722 * b; };
  const s = getComputedStyle(mark);
  const [a, b] = [lum(s.color), lum(s.backgroundColor)].sort((x, y) => y - x);
  return (a + .05) / (b + .05);
}"""


@pytest.fixture(scope="module")
def chat_url(tmp_path_factory):
    require("gradio")
    from assistant.server import serve

    work = tmp_path_factory.mktemp("layout")
    corpus = work / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "001_887231cad6e8cc3d.txt", corpus)
    settings = Settings(corpus_dir=corpus, index_dir=work / "index", data_dir=work / "data", chat_port=free_port())
    Assistant(settings).ingest(progress=False)
    app = serve(Assistant(settings), block=False)
    yield f"http://127.0.0.1:{settings.chat_port}/"
    app.close()


def _open(browser, url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#question textarea").wait_for()
    page.wait_for_timeout(800)  # the page's own script has run
    return page


def test_a_phone_shows_the_chat_first_with_the_panels_behind_toggles(browser, chat_url):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _open(browser, chat_url, 390)
    _ask(page, POINTS)
    assert page.evaluate(TOP, "main-col") < page.evaluate(TOP, "sources-col") < page.evaluate(TOP, "side-col")
    assert not page.locator("#conversations").is_visible() and not page.locator("#sources").is_visible()
    assert page.evaluate(CLIPPED) == 0
    page.screenshot(path=SHOTS / "phone-390-light.png", full_page=True)
    page.locator("#sources-toggle > .label-wrap").click()  # the sources, behind their toggle
    page.locator("#sources mark").wait_for()
    assert "85.59/100" in page.locator("#sources mark").first.inner_text()
    page.locator("#side-toggle > .label-wrap").click()
    page.locator("#conversations").wait_for()
    page.locator("#theme-toggle").click()
    assert "dark" in page.evaluate("document.body.className")
    assert page.evaluate(CONTRAST) >= 4.5  # the highlighted figure stays readable in the dark
    page.screenshot(path=SHOTS / "phone-390-dark.png", full_page=True)


def test_a_desktop_shows_three_columns_and_remembers_dark_mode(browser, chat_url):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _open(browser, chat_url, 1280)
    _ask(page, POINTS)
    tops = [page.evaluate(TOP, column) for column in ("side-col", "main-col", "sources-col")]
    assert max(tops) - min(tops) < 2  # side by side
    assert page.locator("#conversations").is_visible() and page.locator("#sources mark").is_visible()
    assert page.evaluate(CLIPPED) == 0
    assert page.evaluate(CONTRAST) >= 4.5
    page.screenshot(path=SHOTS / "desktop-1280-light.png", full_page=True)
    page.locator("#theme-toggle").click()
    page.reload(wait_until="domcontentloaded")
    page.locator("#question textarea").wait_for()
    page.wait_for_function("document.body.classList.contains('dark')", timeout=10_000)  # remembered
    _ask(page, POINTS)
    assert page.evaluate(CONTRAST) >= 4.5 and page.evaluate(CLIPPED) == 0
    page.screenshot(path=SHOTS / "desktop-1280-dark.png", full_page=True)
    page.locator("#theme-toggle").click()
    assert "dark" not in page.evaluate("document.body.className")
