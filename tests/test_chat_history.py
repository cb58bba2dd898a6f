"""The chat that remembers, driven by headless Chromium with real logins: an admin adds
a PDF and a Word report, asks about them and sees the page in the citation; the chat
restarts and the conversation reopens with its sources; a 👎 with a reason becomes a
candidate eval item; a second user sees none of it and cannot add reports."""

import json
import shutil
import time
from pathlib import Path

import pytest
from conftest import CORPUS, require  # noqa: E402
from servers import free_port  # noqa: E402
from test_chat import _ask  # noqa: E402

gr = require("gradio")

from assistant import Assistant, Settings  # noqa: E402
from assistant.cli import main  # noqa: E402
from assistant.conversations import conversation_store  # noqa: E402
from assistant.server import serve  # noqa: E402

FORMATS = Path(__file__).resolve().parent / "fixtures" / "formats"
PDF, DOCX = FORMATS / "pdf" / "000_63192892e5e1be8e.pdf", FORMATS / "docx" / "001_887231cad6e8cc3d.docx"
USERS = {"amna": "first-pass-1", "bilal": "second-pass-2"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    """Two reports as text; the PDF and Word reports arrive through the chat."""
    work = tmp_path_factory.mktemp("history")
    corpus = work / "corpus"
    corpus.mkdir()
    for name in ("002_3524ae84067e7f36.txt", "003_eac06c45b3d3fc17.txt"):
        shutil.copy(CORPUS / name, corpus / name)
    s = Settings(corpus_dir=corpus, index_dir=work / "index", data_dir=work / "data", chat_port=free_port(),
                 chat_auth=",".join(f"{u}:{p}" for u, p in USERS.items()), chat_admins="amna")  # fmt: skip
    Assistant(s).ingest(progress=False)
    return s


def _page(browser, url: str, user: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    assert context.request.post(url + "login", form={"username": user, "password": USERS[user]}).ok
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#question textarea").wait_for()
    page.wait_for_timeout(800)  # the conversation list and the upload panel arrive on load
    return page


def _conversations(page) -> list[str]:
    return [t.strip() for t in page.locator("#conversations label").all_inner_texts()]


def _until_saved(check, seconds: float = 20) -> None:
    """Wait for what the page sent to reach the database (events are queued on the server)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not saved"
        time.sleep(0.2)


def _refused_before_sending(page, tmp_path: Path) -> None:
    """Gradio's page turns away a file of another kind or over the size limit before
    sending it, in English: the notice reads Urdu first, English beside."""
    from assistant.formats import UPLOAD_MAX_BYTES

    (tmp_path / "tool.exe").write_bytes(b"MZ")
    with (tmp_path / "huge.pdf").open("wb") as huge:
        huge.truncate(UPLOAD_MAX_BYTES + 1)
    for name, urdu, english in (("tool.exe", "یہ فائل قبول نہیں: tool.exe", "Invalid file type: tool.exe"),
                                ("huge.pdf", "فائل حد (", "exceed the maximum allowed size")):  # fmt: skip
        page.locator("#upload input[type=file]").set_input_files([str(tmp_path / name)])
        notice = page.locator("[data-testid=toast-text]", has_text=english)
        notice.wait_for(timeout=10_000)
        page.wait_for_timeout(200)  # the page's own text first, then its Urdu
        said = notice.inner_text()
        assert said.startswith(urdu) and said.index(urdu) < said.index(english), said
        assert page.locator(".toast-body", has=notice).get_by_text("خطا · Error").count() == 1
        page.locator(".toast-body", has=notice).locator("[data-testid=toast-close]").click()
    assert page.locator("#upload").get_by_text("خطا · Error").count() == 1  # the upload box's own mark
    page.close()


def test_upload_ask_restart_reopen_vote_and_export(browser, settings, tmp_path, monkeypatch):
    app = serve(Assistant(settings), block=False)
    url = f"http://127.0.0.1:{settings.chat_port}/"
    try:
        stranger = browser.new_page()
        stranger.goto(url, wait_until="domcontentloaded")
        stranger.get_by_text("اپنے نام اور پاس ورڈ سے لاگ اِن کریں").wait_for()  # the login page speaks Urdu first
        stranger.close()
        _refused_before_sending(_page(browser, url, "amna"), tmp_path)
        page = _page(browser, url, "amna")
        page.locator("#upload input[type=file]").set_input_files([str(PDF), str(DOCX)])
        page.locator("#upload-send").click()
        page.wait_for_function("(document.querySelector('#upload-result') || {}).innerText?.includes('Added')",
                               timeout=120_000)  # fmt: skip
        result = page.locator("#upload-result").inner_text()
        assert PDF.name in result and DOCX.name in result
        assert (settings.corpus_dir / "uploads" / PDF.name).exists()

        _ask(page, "پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟")
        assert "17,418" in page.locator("#chat .bot").last.inner_text()
        source = page.locator("#sources .source").first
        assert PDF.name in source.locator(".file").inner_text()
        assert source.locator(".location").get_attribute("data-location") == "page 1"
        assert source.locator(".location").inner_text() == "صفحہ 1"  # shown in the question's language
        _ask(page, "لاؤ کائی نے انڈیکس رینکنگ ٹیبل کے مطابق کتنے پوائنٹس حاصل کیے؟")
        assert "85.59/100" in page.locator("#chat .bot").last.inner_text()
        assert DOCX.name in page.locator("#sources .source .file").first.inner_text()
        assert page.locator("#sources .source .location").first.inner_text().startswith("¶ ")
        assert _conversations(page) == ["پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟"]
    finally:
        app.close()

    app = serve(Assistant(settings), block=False)  # a restart: only the database remembers
    try:
        page = _page(browser, url, "amna")
        assert page.locator("#chat .bot").count() == 0
        page.locator("#conversations label").first.click()
        page.wait_for_function("document.querySelectorAll('#chat .bot').length === 2", timeout=30_000)
        assert "85.59/100" in page.locator("#chat .bot").last.inner_text()
        assert page.locator("#sources .source .location").first.inner_text().startswith("¶ ")  # sources reopened

        page.locator("#title input, #title textarea").first.fill("کیڈرز اور انڈیکس")
        page.locator("#rename").click()
        page.wait_for_function("document.querySelector('#conversations').innerText.includes('کیڈرز اور انڈیکس')",
                               timeout=10_000)  # fmt: skip

        page.locator('#chat button[aria-label="Dislike"]').first.click()  # the first answer, not the last
        page.locator("#feedback").first.wait_for(state="visible", timeout=10_000)
        page.locator("#reason label").filter(has_text="Wrong figure").click()
        page.locator("#comment textarea").fill("the report says 17,418 is wrong")
        page.locator("#feedback-send").click()
        page.locator("#feedback").first.wait_for(state="hidden", timeout=10_000)
        page.locator('#chat button[aria-label="Like"]').last.click()
        page.locator('#chat button[aria-label="Liked"]').click()  # clicked again: the 👍 is taken back
        page.wait_for_function("!document.querySelector('#chat button[aria-label=\"Liked\"]')", timeout=10_000)
        store = conversation_store(settings)
        (saved,) = store.conversations("amna")
        _until_saved(lambda: [t.vote for t in store.get(saved.id, "amna").turns] == ["down", None])

        page.locator("#export").click()
        link = page.locator("#exported a").first
        link.wait_for(timeout=10_000)
        markdown = page.context.request.get(link.get_attribute("href")).text()
        assert markdown.startswith("# کیڈرز اور انڈیکس") and "17,418" in markdown and "page 1" in markdown
        first_turn = markdown.split("\n---\n")[0]
        assert "👎 wrong figure — the report says 17,418 is wrong" in first_turn  # the vote sits on its answer
        assert "👍" not in markdown
    finally:
        app.close()

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(settings.data_dir))
    assert main(["feedback", "export", "--out", str(tmp_path)]) == 0
    (written,) = tmp_path.glob("feedback-*.jsonl")
    (candidate,) = [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
    assert candidate["asked"] == "پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟"
    assert candidate["reason"] == "wrong figure" and candidate["accept"] == []
    assert candidate["gold_doc"] == f"uploads/{PDF.name}"


def test_a_second_user_sees_no_other_conversation_and_cannot_add_reports(browser, settings):
    from gradio_client import Client, handle_file

    app = serve(Assistant(settings), block=False)
    url = f"http://127.0.0.1:{settings.chat_port}/"
    try:
        page = _page(browser, url, "bilal")
        assert not page.locator("#upload").is_visible()  # no admin role: no upload control
        _ask(page, "How many incoming documents had the office received by 31 December 2023?")
        (listed,) = _conversations(page)  # titled by its first question, shortened
        assert listed.startswith("How many incoming documents had the office")
        owner = _page(browser, url, "amna")
        assert "How many incoming documents" not in " ".join(_conversations(owner))

        client = Client(url, auth=("bilal", USERS["bilal"]), verbose=False)
        with pytest.raises(Exception, match="403 Forbidden"):  # the file is refused before it is stored
            client.predict([handle_file(str(PDF))], api_name="/add_reports")
        with pytest.raises(Exception, match="admin role"):  # the endpoint refuses, not just the page
            client.predict(None, api_name="/add_reports")
    finally:
        app.close()


def test_two_tabs_keep_two_conversations(browser, settings):
    from assistant.conversations import conversation_store

    store = conversation_store(settings)
    before = {c.id for c in store.conversations("amna")}
    app = serve(Assistant(settings), block=False)
    url = f"http://127.0.0.1:{settings.chat_port}/"
    try:
        first = _page(browser, url, "amna")
        second = first.context.new_page()  # another tab of the same login
        second.goto(url, wait_until="domcontentloaded")
        second.locator("#question textarea").wait_for()
        _ask(first, "How many incoming documents had the office received by 31 December 2023?")
        _ask(second, "صوبائی پیپلز کمیٹی کے دفتر میں اس وقت پارٹی کے کتنے ارکان ہیں؟")
        _ask(first, "And how many outgoing documents?")
    finally:
        app.close()
    new = [store.get(c.id, "amna") for c in store.conversations("amna") if c.id not in before]
    asked = sorted([t.question for t in c.turns] for c in new)
    assert asked == [
        [
            "How many incoming documents had the office received by 31 December 2023?",
            "And how many outgoing documents?",
        ],
        ["صوبائی پیپلز کمیٹی کے دفتر میں اس وقت پارٹی کے کتنے ارکان ہیں؟"],
    ]


def test_only_admins_fill_the_upload_cache(settings, caplog, capfd):
    """Gradio's upload route stores any logged-in user's files; only admins may add
    reports, so only they may upload: the others are refused, in one log line each."""
    import logging

    import httpx

    caplog.set_level(logging.WARNING)
    app = serve(Assistant(settings), block=False)
    url = f"http://127.0.0.1:{settings.chat_port}/"
    try:
        with httpx.Client(base_url=url, timeout=60) as bilal, httpx.Client(base_url=url, timeout=60) as amna:
            for http_client, user in ((bilal, "bilal"), (amna, "amna")):
                assert http_client.post("login", data={"username": user, "password": USERS[user]}).status_code == 200
            capfd.readouterr()
            caplog.clear()
            report = ("report.txt", b"x" * 4_900_000, "text/plain")
            refused = bilal.post("gradio_api/upload", files={"files": report})
            assert refused.status_code == 403 and "admin role" in refused.json()["message"]
            assert httpx.post(f"{url}gradio_api/upload", files={"files": report}).status_code == 403  # no login
            assert bilal.post("gradio_api/process_recording", files={"files": report}).status_code == 403
            stored = amna.post("gradio_api/upload", files={"files": ("admin.txt", b"report text", "text/plain")})
            assert stored.status_code == 200 and stored.json()[0].endswith("admin.txt")

            call = bilal.post("gradio_api/call/add_reports", json={"data": [None]})
            events = bilal.get(f"gradio_api/call/add_reports/{call.json()['event_id']}").text
            assert "event: error" in events, events
    finally:
        app.close()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("assistant")]
    assert lines == ["upload refused: 'bilal' is not an admin (from 127.0.0.1)",
                     "upload refused: no login is not an admin (from 127.0.0.1)",
                     "upload refused: 'bilal' is not an admin (from 127.0.0.1)",  # the recording route
                     "add_reports refused: 'bilal' is not an admin"], lines  # fmt: skip
    printed = capfd.readouterr()
    assert "Traceback" not in printed.out + printed.err and USERS["bilal"] not in printed.out + printed.err


def test_who_is_logged_in_search_confirmed_delete_and_votes_kept(browser, settings):
    """The page names its user with a way out; the list is searched; a delete asks first
    (cancelled, nothing goes); a vote is shown again when the conversation reopens; a
    refused question stays in the box."""
    app = serve(Assistant(settings), block=False)
    url = f"http://127.0.0.1:{settings.chat_port}/"
    try:
        page = _page(browser, url, "bilal")
        assert "bilal" in page.locator("#who").inner_text()
        assert page.locator("#logout").get_attribute("href") == "/logout"
        assert page.locator("#chat button[aria-label='Share']").count() == 0  # nothing that needs the internet
        page.locator("#new-chat").click()
        page.wait_for_function("!document.querySelector('#chat .bot')", timeout=10_000)
        _ask(page, "How many incoming documents had the office received by 31 December 2023?")
        page.locator("#new-chat").click()
        page.wait_for_function("!document.querySelector('#chat .bot')", timeout=10_000)
        _ask(page, "31 دسمبر 2023 تک دفتر کو کتنی آنے والی دستاویزات موصول ہوئی ہیں؟")
        page.locator('#chat button[aria-label="Dislike"]').last.click()
        page.locator("#feedback").first.wait_for(state="visible", timeout=10_000)
        before = _conversations(page)

        page.locator("#conversation-search input, #conversation-search textarea").first.fill("incoming")
        page.wait_for_function("n => document.querySelectorAll('#conversations label').length < n",
                               arg=len(before), timeout=10_000)  # fmt: skip
        assert all(c.startswith("How many incoming documents") for c in _conversations(page))
        page.locator("#conversation-search input, #conversation-search textarea").first.fill("")
        page.wait_for_function(f"document.querySelectorAll('#conversations label').length === {len(before)}",
                               timeout=10_000)  # fmt: skip

        page.reload(wait_until="domcontentloaded")
        page.locator("#question textarea").wait_for()
        page.wait_for_timeout(800)
        page.locator("#conversations label").filter(has_text="دستاویزات").click()
        page.wait_for_function("document.querySelectorAll('#chat .bot').length === 1", timeout=30_000)
        page.locator('#chat button[aria-label="Disliked"]').wait_for(timeout=10_000)  # the vote, shown again
        page.locator("#new-chat").click()
        page.wait_for_function("!document.querySelector('#chat .bot')", timeout=10_000)
        _ask(page, "31 دسمبر 2023 تک دفتر کو کتنی آنے والی دستاویزات موصول ہوئی ہیں؟")
        assert page.locator('#chat button[aria-label="Disliked"]').count() == 0  # not carried to a new chat
        page.locator("#conversations label").filter(has_text="دستاویزات").last.click()
        page.locator('#chat button[aria-label="Disliked"]').wait_for(timeout=10_000)
        before = _conversations(page)

        page.once("dialog", lambda dialog: dialog.dismiss())
        page.locator("#delete").click()
        page.wait_for_timeout(1500)
        assert _conversations(page) == before  # cancelled: nothing deleted
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#delete").click()
        page.wait_for_function(f"document.querySelectorAll('#conversations label').length === {len(before) - 1}",
                               timeout=10_000)  # fmt: skip

        page.locator("#question textarea").fill("😀😀")
        page.locator("#send").click()
        page.wait_for_function("document.querySelector('#chat .bot')?.innerText.includes('⚠️')", timeout=30_000)
        page.wait_for_timeout(500)
        assert page.locator("#question textarea").input_value() == "😀😀"  # kept, to be corrected
    finally:
        app.close()
