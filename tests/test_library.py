"""The report library, one model behind three faces: the list and its two-format flag
(`library.py`), `assistant reports list|show|remove` on a real index, the HTTP API on
two real server processes sharing one index while questions are asked throughout, and
the chat's library tab in headless Chromium with an admin and a staff login."""

import json
import shutil
import subprocess
import sys
import time

import pytest
from conftest import require
from servers import free_port, wait_until_up
from test_chat import _ask
from test_live_ingest import MODELS, NEW_QUESTION, NEW_REPORT, REMOVED, Asker, _env, _serve, _stop, _until

from assistant import Assistant, Settings
from assistant.cli import main
from assistant.errors import CorpusPathError
from assistant.library import ReportNotFoundError, find_report, list_reports

TOKEN = "library-token-0123456789"
DOCUMENTS_REPORT = "002_3524ae84067e7f36.txt"
DOCUMENTS_QUESTION = "31 دسمبر 2023 تک دفتر کو کتنی آنے والی دستاویزات موصول ہوئی ہیں؟"  # 55,279
USERS = {"admin": "admin-pass-1", "staff": "staff-pass-2"}


def _entry(doc_id: str, title: str, **more) -> dict:
    return {"doc_id": doc_id, "sha256": "0" * 64, "path": f"/c/{doc_id}", "file": doc_id, "title": title,
            "source_url": None, "chunks": 3, "sentences": 9, "chunking": {"size": 500, "overlap": 0, "version": 1},
            "state": "done", **more}  # fmt: skip


def test_the_list_is_by_title_and_flags_a_report_held_in_two_files():
    docs = {e["doc_id"]: e for e in (
        _entry("budget.txt", "Budget 2024"),
        _entry("uploads/budget.docx", "Budget  2024"),  # same title, other spacing and folder
        _entry("health.pdf", "Health", pages=4, indexed_at=1_764_000_000.0, added_by="admin"),
        _entry("health.txt", "Health services"),  # same file name, other title
        _entry("roads.md", "Roads"),
        _entry("half.txt", "Half written", state="writing"),  # an interrupted write is not listed
    )}  # fmt: skip
    listed = list_reports(docs)
    assert [r.doc_id for r in listed] == ["budget.txt", "uploads/budget.docx", "health.pdf", "health.txt", "roads.md"]
    by_id = {r.doc_id: r for r in listed}
    assert by_id["budget.txt"].same_report_as == ["uploads/budget.docx"]
    assert by_id["health.txt"].same_report_as == ["health.pdf"] and by_id["roads.md"].same_report_as == []
    health = by_id["health.pdf"]
    assert (health.format, health.pages, health.added_by) == ("pdf", 4, "admin")
    assert health.indexed_at == "2025-11-24T16:00:00+00:00"
    assert by_id["uploads/budget.docx"].format == "docx" and by_id["roads.md"].indexed_at is None


def test_search_matches_title_or_file_in_any_case_and_form():
    docs = {e["doc_id"]: e for e in (_entry("a.txt", "لائی چاؤ کانفرنس"), _entry("Roads.md", "Roads"))}
    assert [r.doc_id for r in list_reports(docs, "لائی")] == ["a.txt"]
    assert [r.doc_id for r in list_reports(docs, "ﻻﺋﯽ")] == ["a.txt"]  # presentation forms fold to letters
    assert [r.doc_id for r in list_reports(docs, "roads.MD")] == ["Roads.md"]
    assert list_reports(docs, "nothing") == []
    with pytest.raises(ReportNotFoundError, match="'b.txt'"):
        find_report(docs, "b.txt")


TWIN = REMOVED.replace(".txt", ".md")  # the same report in a second file


def test_removing_from_a_fresh_install_says_no_such_report_and_creates_no_index(tmp_path):
    fresh = Assistant(Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path))
    assert fresh.reports() == []
    with pytest.raises(ReportNotFoundError, match="'a.txt'"):
        fresh.remove_report("a.txt")
    assert not (tmp_path / "index").exists()


def test_the_command_line_lists_shows_and_removes_only_when_confirmed(copied, capsys, monkeypatch):
    corpus, index = copied
    shutil.copy(corpus / REMOVED, corpus / TWIN)
    flags = ["--index", str(index), "--corpus", str(corpus)]
    assert main([*flags, "ingest", "--no-progress"]) == 0
    capsys.readouterr()
    assert main([*flags, "reports", "list", "--json"]) == 0
    listed = {r["doc_id"]: r for r in json.loads(capsys.readouterr().out)}
    twin = TWIN
    assert len(listed) == 6 and listed[twin]["same_report_as"] == [REMOVED]
    assert listed[twin]["added_by"].startswith("command line (") and listed[REMOVED]["paragraphs"] > 0

    assert main([*flags, "reports", "show", twin]) == 0
    shown = capsys.readouterr().out
    assert f"file: {twin} (md)" in shown and f"the same report in another file: {REMOVED}" in shown
    assert main([*flags, "reports", "show", "missing.txt"]) == 2
    assert "no report 'missing.txt'" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main([*flags, "reports", "remove", twin]) == 2  # no terminal to confirm on: nothing removed
    assert "--yes" in capsys.readouterr().err and (corpus / twin).exists()
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main([*flags, "reports", "remove", twin]) == 1 and (corpus / twin).exists()
    assert main([*flags, "reports", "remove", twin, "--yes"]) == 0
    assert not (corpus / twin).exists()
    capsys.readouterr()
    assert main([*flags, "reports", "list", "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert len(after) == 5 and all(not r["same_report_as"] for r in after)
    answer = Assistant(Settings(index_dir=index, corpus_dir=corpus)).ask(MODELS)
    assert answer.answer == "1,635" and {c.doc_id for c in answer.citations} == {REMOVED}
    assert main([*flags, "ingest", "--no-progress"]) == 0  # the file is gone: no ingest brings it back
    assert "0 added" in capsys.readouterr().out


def test_a_report_is_replaced_by_a_checked_new_version_or_read_again(copied, tmp_path):
    corpus, index = copied
    served = Assistant(Settings(corpus_dir=corpus, index_dir=index))
    report = corpus / DOCUMENTS_REPORT
    before = report.read_bytes()
    wrong_kind = tmp_path / "new.md"
    wrong_kind.write_text("# نیا\n\nکچھ۔", encoding="utf-8")
    with pytest.raises(CorpusPathError, match="must be a .txt file too"):
        served.replace_report(DOCUMENTS_REPORT, wrong_kind)
    unreadable = tmp_path / "new.txt"
    unreadable.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(CorpusPathError, match="cannot be used: .*not valid UTF-8"):
        served.replace_report(DOCUMENTS_REPORT, unreadable)
    assert report.read_bytes() == before  # a refused version changes nothing
    with pytest.raises(ReportNotFoundError):
        served.replace_report("no-such.txt", unreadable)

    indexed = served.report(DOCUMENTS_REPORT).indexed_at
    again = served.reindex_report(DOCUMENTS_REPORT, added_by="admin")  # the same bytes, read again
    assert again.updated == [DOCUMENTS_REPORT] and served.report(DOCUMENTS_REPORT).indexed_at > indexed
    assert served.report(DOCUMENTS_REPORT).added_by == "admin"

    good = tmp_path / "newer.txt"
    good.write_text(before.decode("utf-8").replace("55,279", "61,004"), encoding="utf-8")
    replaced = served.replace_report(DOCUMENTS_REPORT, good, added_by="admin")
    assert replaced.updated == [DOCUMENTS_REPORT] and report.read_bytes() == good.read_bytes()
    assert "61,004" in served.ask(DOCUMENTS_QUESTION).answer


def test_a_removal_through_the_api_reaches_another_server_while_it_answers(copied, tmp_path):
    require("gradio")
    import httpx

    corpus, index = copied
    env = _env(index, corpus, ASSISTANT_API_TOKEN=TOKEN)  # on loopback without logins: open but for changes
    first, first_url = _serve(env, tmp_path / "first.log")
    second, second_url = _serve(env, tmp_path / "second.log")
    asker = Asker(first_url)
    try:
        staff = httpx.Client(base_url=first_url, timeout=120)
        admin = httpx.Client(base_url=second_url, timeout=120, headers={"Authorization": f"Bearer {TOKEN}"})
        assert staff.get("/api/reports").status_code == 200
        assert len(staff.get("/api/reports").json()["reports"]) == 5
        assert staff.get("/api/reports", params={"search": "nothing like it"}).json()["reports"] == []
        one = staff.get(f"/api/reports/{REMOVED}").json()
        assert one["doc_id"] == REMOVED and one["chunks"] > 0 and "path" not in one
        missing = staff.get("/api/reports/uploads/none.pdf")
        assert missing.status_code == 404 and missing.json()["error"] == "ReportNotFoundError"
        refused = staff.delete(f"/api/reports/{REMOVED}")  # removing needs the token, even on loopback
        assert refused.status_code == 403 and (corpus / REMOVED).exists()

        asker.start()
        time.sleep(2)
        removed = admin.delete(f"/api/reports/{REMOVED}")
        assert removed.status_code == 200 and removed.json()["removed"]["doc_id"] == REMOVED
        assert not (corpus / REMOVED).exists()
        _until(lambda: len(staff.get("/api/reports").json()["reports"]), lambda n: n == 4, "the removal")
        mark = len(asker.replies) + 1
        body = staff.post("/api/ask", json={"question": MODELS}).json()
        assert "1,635" not in body["answer"] and REMOVED not in [c["doc_id"] for c in body["citations"]]
        assert admin.delete(f"/api/reports/{REMOVED}").status_code == 404
        time.sleep(2)  # the asker keeps asking after the removal
        asker.finish(mark, REMOVED, at_least=4)
    finally:
        asker.stop.set()
        _stop(first)
        _stop(second)


def test_the_library_tab_lists_for_staff_and_an_admin_removes_after_confirming_and_replaces(browser, copied,
                                                                                             tmp_path):  # fmt: skip
    require("gradio")
    from assistant.server import serve

    corpus, index = copied
    shutil.copy(corpus / REMOVED, corpus / TWIN)
    settings = Settings(corpus_dir=corpus, index_dir=index, chat_port=free_port(), chat_admins="admin",
                        chat_auth=",".join(f"{u}:{p}" for u, p in USERS.items()))  # fmt: skip
    served = Assistant(settings)
    served.ingest(added_by="admin")  # the Markdown copy
    app = serve(served, block=False)
    url = f"http://127.0.0.1:{settings.chat_port}/"
    try:
        staff = _library(browser, url, "staff")
        assert _rows(staff) == 6
        assert "2 reports are held in two files" in staff.locator("#report-summary").inner_text()
        assert not staff.locator("#report-remove").is_visible()

        page = _library(browser, url, "admin")
        page.locator("#report-search input, #report-search textarea").first.fill("md")
        page.locator("#report-search input, #report-search textarea").first.press("Enter")
        page.wait_for_function(f"{ROWS} === 2")  # the heading and one report
        listed = page.locator("#reports").inner_text()
        assert f"{TWIN} (md)" in listed and "admin" in listed and REMOVED in listed  # flagged: also in the .txt
        page.locator("#report-choice input").click()
        page.get_by_role("option").first.click()
        page.locator("#report-remove").click()
        page.locator("#report-confirm-text").get_by_text("Remove it?").wait_for()
        page.locator("#report-no").click()  # cancelled: nothing removed
        page.wait_for_timeout(500)
        assert (corpus / TWIN).exists()
        page.locator("#report-remove").click()
        page.locator("#report-yes").click()
        page.locator("#report-result").get_by_text("Removed").wait_for(timeout=60_000)
        assert not (corpus / TWIN).exists()
        assert len(served.reports()) == 5 and not any(r.same_report_as for r in served.reports())

        newer = tmp_path / DOCUMENTS_REPORT  # a new version, uploaded for the chosen report
        newer.write_text((corpus / DOCUMENTS_REPORT).read_text(encoding="utf-8").replace("55,279", "61,004"),
                         encoding="utf-8")  # fmt: skip
        page.locator("#report-search input, #report-search textarea").first.fill("")
        page.locator("#report-search input, #report-search textarea").first.press("Enter")
        page.wait_for_function(f"{ROWS} === 6")
        page.locator("#report-choice input").click()
        page.get_by_role("option").filter(has_text=DOCUMENTS_REPORT).click()
        page.locator("#report-new-version input[type=file]").set_input_files(str(newer))
        page.locator("#report-replace").click()
        page.locator("#report-result").get_by_text("New version indexed").wait_for(timeout=120_000)
        assert "61,004" in served.ask(DOCUMENTS_QUESTION).answer
        page.locator("#report-choice input").click()
        page.get_by_role("option").filter(has_text=DOCUMENTS_REPORT).click()
        page.locator("#report-reindex").click()
        page.locator("#report-result").get_by_text("Indexed again").wait_for(timeout=120_000)
    finally:
        app.close()


ROWS = "Number(document.querySelector('#reports [role=grid]').getAttribute('aria-rowcount'))"  # heading included


def _rows(page) -> int:
    """The reports the library tab lists (the grid counts its heading row too)."""
    return page.evaluate(ROWS) - 1


def _library(browser, url: str, user: str, empty: bool = False):
    """A logged-in page on the library tab, its list arrived."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    assert context.request.post(url + "login", form={"username": user, "password": USERS[user]}).ok
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#question textarea").wait_for()
    page.get_by_role("tab", name="رپورٹس · Reports").click()
    if empty:
        page.locator("#report-summary").get_by_text("No reports yet").wait_for(timeout=60_000)
    else:
        page.wait_for_function(f"{ROWS} > 1", timeout=60_000)
    return page


def test_a_first_run_starts_empty_and_an_admin_adds_the_first_report_in_the_browser(browser, tmp_path):
    require("gradio")
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    port = free_port()
    env = _env(index, corpus, ASSISTANT_CHAT_PORT=str(port), ASSISTANT_CHAT_ADMINS="admin",
               ASSISTANT_CHAT_AUTH=",".join(f"{u}:{p}" for u, p in USERS.items()))  # fmt: skip
    log = tmp_path / "chat.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "chat"], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, server, 180, f"assistant chat on an empty index (log: {log})")
        assert "no reports yet" in log.read_text()
        staff = _library(browser, url, "staff", empty=True)
        assert "add them" not in staff.locator("#report-summary").inner_text()
        page = _library(browser, url, "admin", empty=True)
        assert "add them with «Add reports»" in page.locator("#report-summary").inner_text()
        page.get_by_role("tab", name="گفتگو · Chat").click()
        first = tmp_path / "first.txt"
        first.write_text(NEW_REPORT, encoding="utf-8")
        page.locator("#upload input[type=file]").set_input_files([str(first)])
        page.locator("#upload-send").click()
        page.locator("#upload-result").get_by_text("Added").wait_for(timeout=180_000)
        _ask(page, NEW_QUESTION)
        assert "4,321" in page.locator("#chat .bot").last.inner_text()
        staff.get_by_role("tab", name="گفتگو · Chat").click()
        staff.get_by_role("tab", name="رپورٹس · Reports").click()  # read afresh on opening
        staff.wait_for_function(f"{ROWS} === 2")
        assert "uploads/first.txt" in staff.locator("#reports").inner_text()
    finally:
        _stop(server)
