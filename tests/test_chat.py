"""The staff chat, started for real on a free loopback port and driven by headless
Chromium (Debian's package, through Playwright) and by `gradio_client`."""

import http.server
import json
import threading

import pytest
from conftest import require  # noqa: E402
from servers import free_port  # noqa: E402

gr = require("gradio")

from assistant import Assistant, AssistantError, Settings  # noqa: E402
from assistant.server import serve  # noqa: E402

TITLE_000 = "کانفرنس کا انعقاد صوبائی پل سے صوبے کے 38 کمیونز"


def _serve(assistant: Assistant):
    port = free_port()
    served = Assistant(assistant.settings, chat_host="127.0.0.1", chat_port=port) if assistant else None
    app = serve(served, block=False)
    return app, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def chat_url(assistant):
    app, url = _serve(assistant)
    yield url
    app.close()


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


VISIBLE_BUTTONS = """() => [...document.querySelectorAll('#chat .bot-row + .message-buttons')].map(
    row => [...row.querySelectorAll('button')].filter(b => b.offsetParent !== null).map(b => b.ariaLabel))"""


def test_a_refused_question_reads_urdu_first_stays_in_the_box_and_offers_no_vote(browser, chat_url):
    page = browser.new_page()
    page.goto(chat_url, wait_until="domcontentloaded")
    _ask(page, "کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟")
    too_long = "کتنے " * 500
    _ask(page, too_long)
    failed = page.locator("#chat .bot").last.inner_text()
    assert failed.index("مختصر سوال پوچھیں") < failed.index("Ask something shorter")  # Urdu first, English beside
    assert page.locator("#question textarea").input_value() == too_long  # to shorten, not to type again
    *_, answer_buttons, failed_buttons = page.evaluate(VISIBLE_BUTTONS)  # under each of the assistant's bubbles
    assert {"Like", "Dislike"} <= set(answer_buttons)  # an answer can be judged ...
    assert failed_buttons == ["Copy message"]  # ... a failure cannot
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


@pytest.mark.parametrize(
    ("question", "previous", "says"),
    [
        (123, [], "must be text"),
        (None, None, "must be text"),
        (["کتنے؟"], [], "must be text"),
        ("اور کمیون کی سطح پر کتنے؟", [None], "previous_questions must be a list"),
        ("اور کمیون کی سطح پر کتنے؟", "not a list", "previous_questions must be a list"),
        ("\u202e\u202c", [], "empty"),
        ("😀", [], "no words or figures"),
        ("کتنے \ud800", [], "lone UTF-16 surrogate"),
    ],
)
def test_ask_api_validates_its_inputs(chat_url, question, previous, says):
    import httpx

    with httpx.Client(base_url=chat_url, timeout=60) as http_client:
        body = json.dumps({"data": [question, previous]})  # ASCII escapes: a lone surrogate travels as \\ud800
        response = http_client.post("gradio_api/call/ask", content=body, headers={"Content-Type": "application/json"})
        event = response.json()["event_id"]
        stream = http_client.get(f"gradio_api/call/ask/{event}").text
    assert "event: complete" in stream, stream
    data = json.loads(stream.split("data: ", 1)[1].splitlines()[0])[0]
    assert data["error"] == "InvalidQuestionError" and says in data["message"]


def test_simultaneous_questions_each_get_their_own_answer(chat_url):
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    questions = {
        "کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟": "2،334",
        "How many incoming documents had the office received by 31 December 2023?": "55,279",
        "پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟": "17,418",
        "صوبائی پیپلز کمیٹی کے دفتر میں اس وقت پارٹی کے کتنے ارکان ہیں؟": "82",
    }
    asked = list(questions) * 4

    def ask(question):
        return question, Client(chat_url, verbose=False).predict(question, [], api_name="/ask")

    with ThreadPoolExecutor(len(asked)) as pool:
        results = list(pool.map(ask, asked))
    assert [r["answer"] for _, r in results] == [questions[q] for q, _ in results]


class RequestLog(http.server.BaseHTTPRequestHandler):
    """A real local HTTP server that records every request: a page that fetched an
    image or followed a link from report or question text would show up here."""

    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        RequestLog.seen.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def tripwire():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), RequestLog)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, tripwire):
    """An index over one report that carries HTML and Markdown in its title, file name
    and text, to check all of it is shown as text."""
    corpus = tmp_path_factory.mktemp("hostile")
    (corpus / "x<b>bold.txt").write_text(
        "خطرناک <i>رپورٹ</i> [سرخی](https://evil.example/title)۔\n"
        "دفتر میں 77 کمپیوٹر ہیں <script>window.__xss = 1</script> "
        '<img src=x onerror="window.__xss = 2"> اور سب چلتے ہیں۔\n'
        f"دفتر میں 12 پرنٹر ہیں، تفصیل [یہاں لاگ ان کریں]({tripwire}/phish) اور ![لوگو]({tripwire}/logo.png) پر، "
        f"یا {tripwire}/bare پر دیکھیں۔\n",
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
    title = page.locator("#sources .title").first.inner_text()
    assert "<i>رپورٹ</i>" in title and "[سرخی](https://evil.example/title)" in title
    assert "x<b>bold.txt" in page.locator("#sources .file").first.inner_text()
    assert page.locator("#sources i, #sources b, #sources a[href*='evil']").count() == 0
    page.close()


def test_markdown_links_and_images_stay_inert(browser, hostile, tripwire):
    RequestLog.seen.clear()
    page = browser.new_page()
    page.goto(hostile, wait_until="domcontentloaded")
    _ask(page, f"دفتر میں کتنے پرنٹر ہیں؟ ![t]({tripwire}/question.png) [click]({tripwire}/q)")
    page.locator("#sources .source").first.wait_for()
    page.wait_for_timeout(500)
    chat = page.locator("#chat")
    assert "12" in chat.locator(".bot").last.inner_text()
    assert f"[یہاں لاگ ان کریں]({tripwire}/phish)" in chat.locator(".bot").last.inner_text()
    assert f"![t]({tripwire}/question.png)" in chat.locator(".user").last.inner_text()
    assert chat.locator(f"a[href^='{tripwire}'], img[src^='{tripwire}']").count() == 0
    assert RequestLog.seen == []  # nothing was fetched from the planted addresses
    page.close()


def test_exported_markdown_keeps_hostile_text_inert(browser, hostile, tripwire):
    """The chat's Markdown export of a conversation whose question, report title and quote
    carry links, images and HTML: rendered by a real Markdown renderer, none of it is live."""
    from markdown_it import MarkdownIt

    page = browser.new_page()
    page.goto(hostile, wait_until="domcontentloaded")
    _ask(page, f'دفتر میں کتنے پرنٹر ہیں؟ ![t]({tripwire}/export.png) [click]({tripwire}/q) <img src=x onerror="x()">')
    page.locator("#export").click()
    link = page.locator("#exported a").first
    link.wait_for(timeout=10_000)
    markdown = page.context.request.get(link.get_attribute("href")).text()
    page.close()
    html = MarkdownIt("commonmark", {"html": True}).render(markdown)
    assert "12" in markdown and "[سرخی]" in html and "onerror" in html  # all there, shown as text
    assert "<a " not in html and "<img" not in html and "<script" not in html and "<i>" not in html, html
    assert tripwire not in markdown and "https://evil" not in markdown  # no bare address to autolink either


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


def test_login_is_throttled(assistant):
    import time

    import httpx

    from assistant.ui.login import LoginThrottle
    from assistant.users import Logins

    port = free_port()
    served = Assistant(assistant.settings, chat_port=port, chat_auth="staff:right-horse")
    throttle = LoginThrottle(Logins({"staff": "right-horse"}), free_failures=3, lock_seconds=1.5, failure_pause=0.05)
    app = serve(served, block=False, login=throttle)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http_client:

            def login(password: str) -> int:
                return http_client.post("/login", data={"username": "staff", "password": password}).status_code

            assert [login(f"guess-{i}") for i in range(3)] == [400, 400, 400]
            assert throttle.locked("staff")
            assert login("right-horse") == 400  # locked: even the right password is refused
            time.sleep(1.6)
            assert login("right-horse") == 200  # the lock expires
            assert not throttle.locked("staff") and login("guess") == 400 and not throttle.locked("staff")
    finally:
        app.close()


def test_a_login_lock_holds_the_guessing_address_only(assistant, caplog):
    """Someone who knows a user name and guesses from another address locks only that
    address out: the real user still logs in, and the lock grows for the guesser."""
    import logging
    import time

    import httpx

    from assistant.ui.login import LoginThrottle
    from assistant.users import Logins

    caplog.set_level(logging.WARNING, logger="assistant.ui.login")
    port = free_port()
    served = Assistant(assistant.settings, chat_port=port, chat_auth="staff:right-horse")
    throttle = LoginThrottle(Logins({"staff": "right-horse"}), free_failures=3, lock_seconds=1, failure_pause=0.05)
    app = serve(served, block=False, login=throttle)
    url = f"http://127.0.0.1:{port}"

    def client(address: str) -> httpx.Client:
        return httpx.Client(base_url=url, timeout=30, transport=httpx.HTTPTransport(local_address=address))

    try:
        with client("127.0.0.2") as attacker, client("127.0.0.1") as staff:

            def login(http_client: httpx.Client, password: str) -> int:
                return http_client.post("/login", data={"username": "staff", "password": password}).status_code

            assert [login(attacker, f"guess-{i}") for i in range(3)] == [400, 400, 400]
            assert throttle.locked("staff", "127.0.0.2") and not throttle.locked("staff", "127.0.0.1")
            assert login(attacker, "right-horse") == 400  # locked for this address, even with the password
            assert login(staff, "right-horse") == 200  # the owner, from elsewhere, is not locked out
            assert staff.get("/api/reports", auth=("staff", "right-horse")).status_code == 200  # nor from the API
            time.sleep(1.1)
            assert login(attacker, "guess-3") == 400  # the lock expired; one more failure locks it twice as long
            time.sleep(1.1)
            assert throttle.locked("staff", "127.0.0.2")  # backoff: 2 s this time
            assert login(staff, "right-horse") == 200
    finally:
        app.close()
    locks = [r.getMessage() for r in caplog.records if r.name == "assistant.ui.login"]
    assert len(locks) == 2 and all("127.0.0.2" in line and "right-horse" not in line for line in locks), locks


def test_login_required_off_loopback(assistant):
    with pytest.raises(AssistantError, match="without a login"):
        serve(Assistant(assistant.settings, chat_host="0.0.0.0", chat_port=free_port()), block=False)


def test_login_lock_survives_a_flood_of_other_names():
    import asyncio

    from assistant.ui.login import LoginThrottle
    from assistant.users import Logins

    throttle = LoginThrottle(Logins({"staff": "right-horse"}), free_failures=2, lock_seconds=60, failure_pause=0,
                             max_accounts=50)  # fmt: skip

    async def attempts():
        for _ in range(2):
            assert not await throttle.check("staff", "guess")
        assert throttle.locked("staff")
        await asyncio.gather(*(throttle.check(f"junk-{i}", "x") for i in range(200)))
        assert throttle.locked("staff")
        assert not await throttle.check("staff", "right-horse")
        checked.append(True)

    checked = []

    worker = threading.Thread(target=asyncio.run, args=(attempts(),))  # the browser tests' loop runs in this thread
    worker.start()
    worker.join()
    assert checked == [True]  # the assertions above ran


def test_a_real_account_still_locks_when_made_up_names_fill_the_table():
    import asyncio

    from assistant.ui.login import LoginThrottle
    from assistant.users import Logins

    throttle = LoginThrottle(Logins({"staff": "right-horse"}), free_failures=2, lock_seconds=60, failure_pause=0,
                             max_accounts=50)  # fmt: skip

    async def attempts():
        for _ in range(3):  # every made-up name locked: the table is full of locks
            await asyncio.gather(*(throttle.check(f"junk-{i}", "x") for i in range(50)))
        for _ in range(2):
            assert not await throttle.check("staff", "guess")
        assert throttle.locked("staff")
        assert not await throttle.check("staff", "right-horse")
        checked.append(True)

    checked = []
    worker = threading.Thread(target=asyncio.run, args=(attempts(),))
    worker.start()
    worker.join()
    assert checked == [True]


@pytest.mark.parametrize(
    ("chat_auth", "says"),
    [
        ("amna:p1,", "login 2 must look like"),
        ("amna", "login 1 must look like"),
        (" amna:p1", "cannot start or end with a space"),
        ("amna:p1,amna:p2", "twice"),
    ],
)
def test_bad_login_lists_are_refused_saying_which(chat_auth, says):
    from assistant.users import parse_logins

    with pytest.raises(ValueError, match=says):
        parse_logins(chat_auth)


def test_passwords_are_kept_exactly():
    from assistant.users import parse_logins

    assert parse_logins("amna: secret ,bilal:a:b") == {"amna": " secret ", "bilal": "a:b"}
