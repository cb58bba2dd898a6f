"""The chat's report library tab: every report the assistant knows (`library.py`), with
a search by title or file and a warning on reports held in two files. Everyone sees the
list; admins may also remove a report (after confirming it), replace it with a new
version of its file, or have it read and indexed again. The list is read afresh
each time the tab is opened, so reports added or removed elsewhere (the CLI, the API,
another server) show without a restart."""

import logging
from collections.abc import Callable, Container
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import gradio as gr

from ..assistant import Assistant
from ..errors import AssistantError
from ..ingest import IngestReport
from ..library import ReportInfo
from .render import inert, urdu_first

log = logging.getLogger(__name__)
T = TypeVar("T")

COLUMNS = ["عنوان · Title", "فائل · File", "حجم · Size", "کب، کس نے · Indexed (UTC), by", "ماخذ · Source site", "⚠"]
WIDTHS: list[str | int] = ["34%", "16%", "14%", "14%", "12%", "10%"]
NO_REPORTS = "ابھی کوئی رپورٹ نہیں۔ · No reports yet."
NO_REPORTS_ADMIN = (
    "ابھی کوئی رپورٹ نہیں: گفتگو کے صفحے پر «رپورٹس شامل کریں» سے شامل کریں۔ · "
    "No reports yet: add them with «Add reports»."
)
ADMINS_ONLY = "رپورٹس بدلنا یا حذف کرنا منتظم کا کام ہے۔ · Changing or removing reports needs the admin role."
NEW_VERSION_FIRST = "پہلے نئے نسخے کی فائل منتخب کریں۔ · Choose the new version's file first."
CHOOSE_FIRST = "پہلے رپورٹ منتخب کریں۔ · Choose a report first."


def report_row(r: ReportInfo) -> list[str]:
    size = [f"{r.pages} pages" if r.pages else "", f"{r.paragraphs} ¶" if r.paragraphs else "", f"{r.chunks} chunks"]
    when = r.indexed_at[:16].replace("T", " ") if r.indexed_at else ""
    twins = "دوسری فائل میں بھی · also in " + ", ".join(r.same_report_as) if r.same_report_as else ""
    return [r.title, f"{r.file} ({r.format})", " · ".join(s for s in size if s),
            " · ".join(s for s in (when, r.added_by or "") if s), urlsplit(r.source_url or "").hostname or "",
            twins]  # fmt: skip


def summary(listed: list[ReportInfo], search: str, admin: bool) -> str:
    if not listed and not search:
        return NO_REPORTS_ADMIN if admin else NO_REPORTS
    twice = sum(1 for r in listed if r.same_report_as)
    line = f"{len(listed)} رپورٹس · reports" + (f" «{inert(search)}»" if search else "")
    if twice:
        line += f"\n\n⚠️ {twice} رپورٹس دو فائلوں میں ہیں · {twice} reports are held in two files (cited twice)"
    return line


def library_tab(assistant: Assistant, admins: Container[str], user_of: Callable[[gr.Request], str]) -> gr.Tab:
    """Build the tab inside the current Blocks and wire its events; returns the tab."""

    def read(search: str, request: gr.Request):
        admin = user_of(request) in admins
        try:
            listed = assistant.reports(search or "")
        except AssistantError as exc:
            raise gr.Error(urdu_first(exc)) from None
        choices = [(f"{r.title} — {r.file}", r.doc_id) for r in listed]
        return ([report_row(r) for r in listed], summary(listed, search or "", admin),
                gr.update(choices=choices, value=None), gr.update(visible=admin))  # fmt: skip

    def as_admin(action: Callable[[str], T], doc_id: str | None, request: gr.Request) -> T:
        """`action` on the chosen report, for an admin only (checked here: the buttons
        are only hidden from staff); every refusal is a short message, one log line."""
        user = user_of(request)
        if user not in admins:
            log.warning("report change refused: %s is not an admin", repr(user) if user else "no login")
            raise gr.Error(ADMINS_ONLY, print_exception=False)
        if not doc_id:
            raise gr.Error(CHOOSE_FIRST, print_exception=False)
        try:
            return action(doc_id)
        except AssistantError as exc:
            raise gr.Error(urdu_first(exc), print_exception=False) from None

    def confirm(doc_id: str | None, request: gr.Request):
        r = as_admin(assistant.report, doc_id, request)
        question = (f"«{inert(r.title)}» ({inert(r.file)}) حذف کریں؟ اس کی فائل اور {r.chunks} ٹکڑے مٹ جائیں گے۔ · "
                    f"Remove it? Its file and its {r.chunks} chunks are deleted.")  # fmt: skip
        return gr.update(visible=True), question

    def remove(doc_id: str | None, search: str, request: gr.Request):
        removed = as_admin(assistant.remove_report, doc_id, request)
        log.info("report %s removed by %s", removed.doc_id, user_of(request))
        done = f"🗑 حذف ہو گئی · Removed: {inert(removed.file)}"
        return *read(search, request), gr.update(visible=False), done

    def changed(report: IngestReport, verb: str) -> str:
        if report.skipped:
            return "⚠️ " + "; ".join(f"{inert(s.path.name)}: {inert(s.reason)}" for s in report.skipped)
        return f"{verb}: {inert(', '.join(report.updated + report.added) or 'unchanged · بغیر تبدیلی')}"

    def replace(doc_id: str | None, new_file: str | None, search: str, request: gr.Request):
        if not new_file:
            raise gr.Error(NEW_VERSION_FIRST, print_exception=False)
        user = user_of(request)
        report = as_admin(lambda d: assistant.replace_report(d, Path(new_file), added_by=user), doc_id, request)
        log.info("report %s replaced by %s", doc_id, user)
        return *read(search, request), None, changed(report, "🔄 نیا نسخہ انڈیکس ہو گیا · New version indexed")

    def reindex(doc_id: str | None, search: str, request: gr.Request):
        user = user_of(request)
        report = as_admin(lambda d: assistant.reindex_report(d, added_by=user), doc_id, request)
        log.info("report %s re-indexed by %s", doc_id, user)
        return *read(search, request), changed(report, "🔁 دوبارہ انڈیکس ہو گئی · Indexed again")

    with gr.Tab("رپورٹس · Reports", elem_id="reports-tab") as tab:
        search = gr.Textbox(label="عنوان یا فائل سے تلاش · Search by title or file", elem_id="report-search",
                            max_lines=1)  # fmt: skip
        note = gr.Markdown(elem_id="report-summary")
        table = gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True, column_widths=WIDTHS, elem_id="reports")
        with gr.Group(visible=False, elem_id="report-admin") as admin_panel:
            chosen = gr.Dropdown(label="رپورٹ · Report", choices=[], elem_id="report-choice")
            with gr.Row():
                reindex_button = gr.Button("دوبارہ انڈیکس · Re-index", size="sm", elem_id="report-reindex")
                remove_button = gr.Button("حذف کریں · Remove", variant="stop", size="sm", elem_id="report-remove")
            new_version = gr.File(label="نیا نسخہ (اسی قسم کی فائل) · New version (same kind of file)",
                                  elem_id="report-new-version")  # fmt: skip
            replace_button = gr.Button("نیا نسخہ لگائیں · Replace", size="sm", elem_id="report-replace")
            with gr.Group(visible=False, elem_id="report-confirm") as confirm_panel:
                question = gr.Markdown(elem_id="report-confirm-text")
                with gr.Row():
                    yes = gr.Button("ہاں، حذف کریں · Yes, remove", variant="stop", size="sm", elem_id="report-yes")
                    no = gr.Button("نہیں · Cancel", size="sm", elem_id="report-no")
            result = gr.Markdown(elem_id="report-result")
    listing = [table, note, chosen, admin_panel]  # none of these events is offered to API clients
    tab.select(read, search, listing, api_visibility="private")
    search.submit(read, search, listing, api_visibility="private")
    remove_button.click(confirm, chosen, [confirm_panel, question], api_visibility="private")
    no.click(lambda: gr.update(visible=False), None, confirm_panel, api_visibility="private")
    yes.click(remove, [chosen, search], [*listing, confirm_panel, result], api_visibility="private")
    replace_button.click(replace, [chosen, new_version, search], [*listing, new_version, result],
                         api_visibility="private")  # fmt: skip
    reindex_button.click(reindex, [chosen, search], [*listing, result], api_visibility="private")
    return tab
