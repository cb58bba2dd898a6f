"""The staff chat: a thin Gradio layer over `Assistant` (no retrieval or answer logic
here). Follow-ups are read against the conversation, answers stream in, sources open
beside the chat, and the `ask` API endpoint returns structured data for
`gradio_client`. Every answer is saved to the person's conversation
(`conversations.py`), with 👍/👎 feedback; admins add reports (`uploads.py`).
Questions are answered `chat_workers` at a time from a bounded queue; the login is
throttled per address and user (`login.py`); Gradio's upload route takes files from
admins only (`guard.py`). `server.py` mounts it on the application that serves the
HTTP API.

Each handler returns a dict keyed by the components it changes; one `gr.State` holds
the person's `Session` (`session.py`)."""

import json
import logging
from collections.abc import Container
from pathlib import Path

import gradio as gr

from ..answers import Answer
from ..assistant import Assistant
from ..conversations import (
    Conversation,
    ConversationNotFound,
    ConversationStore,
    ConversationStoreError,
    Vote,
    conversation_markdown,
)
from ..errors import AssistantError
from ..formats import SUFFIXES
from ..uploads import stage
from .exports import EXPORT_KEEP_SECONDS, download_copy, export_folder, safe_title
from .library_tab import library_tab
from .page import (
    ADMINS_ONLY,
    CONFIRM_DELETE,
    EXAMPLES,
    GONE,
    NOT_SAVED,
    NOTHING_OPEN,
    REASONS,
    SERVER_FAILED,
    STORE_FAILED,
    THANKS,
    TOGGLE_THEME,
    who_html,
)
from .render import (
    chat_history,
    chat_text,
    context_html,
    friendly_error,
    inert,
    source_choices,
    sources_html,
    upload_summary,
    urdu_first,
)
from .session import Bubble, Session

log = logging.getLogger(__name__)
PRIVATE = "private"  # the chat's own events: not part of its public API (`ask` and `add_reports` are)
# a thumb as Gradio reports it -> the vote stored ("": the thumb clicked again, the vote taken back)
VOTES: dict[object, Vote | None] = {True: "up", "Like": "up", "like": "up", False: "down", "Dislike": "down",
                                    "dislike": "down", "": None, None: None}  # fmt: skip


def build_app(assistant: Assistant, store: ConversationStore, admins: Container[str] = frozenset()) -> gr.Blocks:
    """The chat. Conversations are saved in `store`, each person's apart; `admins` may add reports."""

    def choices(user: str, search: str = "") -> list[tuple[str, str]]:
        return [(c.title or "…", c.id) for c in store.conversations(user, search)]

    def no_sources() -> dict:
        return gr.update(choices=[], value=None, visible=False)

    def no_preview() -> dict:
        hidden = gr.update(value=None, visible=False)
        return {page_view: hidden, context_view: "", original: hidden}

    def openable(answer: Answer) -> dict:
        """The «open a source» choice for the answer whose sources are shown."""
        return gr.update(choices=source_choices(answer), value=None, visible=bool(answer.citations))

    def shown_conversation(session: Session, conversation: Conversation | None, user: str | None = None) -> dict:
        """The chat showing `conversation` (None: a new, empty one), with no vote being
        explained and no export shown; the list refreshed when `user` is given."""
        turns = conversation.turns if conversation else []
        session.opened(conversation.id if conversation else None, [Bubble(t.standalone, t.id) for t in turns])
        last = turns[-1] if turns else None
        votes = [{"up": "Like", "down": "Dislike"}.get(t.vote or "") for t in turns]  # earlier votes shown
        shown = {
            chatbot: gr.update(value=chat_history(conversation) if conversation else [], feedback_value=votes),
            sources: sources_html(last.answer, last.standalone) if last else "",
            title: conversation.title if conversation else "",
            feedback_panel: gr.update(visible=False),
            exported: gr.update(value=None, visible=False),
            picker: openable(last.answer) if last else no_sources(),
        }
        if user is not None:
            shown[listed] = gr.update(choices=choices(user), value=None)
        elif conversation is None:
            shown[listed] = gr.update(value=None)
        return shown

    def cleared(session: Session) -> dict:
        return shown_conversation(session, None)

    def open_source(chosen: str | None):
        """A citation opened: its PDF page with the quoted lines marked, or its paragraph in
        context, and the original file to download."""
        if not chosen:
            return no_preview()
        try:  # the choice's value, as `source_choices` wrote it
            wanted = json.loads(chosen)
            cited = (str(wanted["doc_id"]), int(wanted["start"]), int(wanted["end"]), str(wanted["quote"]))
        except (ValueError, KeyError, TypeError):
            raise gr.Error("یہ حوالہ نہیں کھل سکا۔ · That source cannot be opened.", print_exception=False) from None
        try:
            preview = assistant.open_source(*cited)
        except AssistantError as exc:
            raise shown_error(exc) from None
        copy = download_copy(preview.file, preview.sha256)
        shown = preview.image is not None
        return {
            page_view: gr.update(value=preview.image, visible=shown),
            context_view: context_html(preview.before, preview.quote, preview.after),
            original: gr.update(value=str(copy), visible=True),
        }

    def show_turn(session: Session, history: list, data: gr.SelectData, request: gr.Request) -> dict:
        """An earlier answer clicked: its sources are shown, to open like the last one's."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn_id = session.turn_at(history, index) if isinstance(index, int) else None
        if not session.conversation_id or turn_id is None:
            return {}
        try:
            turn = next((t for t in store.get(session.conversation_id, _user(request)).turns if t.id == turn_id), None)
        except AssistantError:
            return {}
        return {sources: sources_html(turn.answer, turn.standalone), picker: openable(turn.answer)} if turn else {}

    def save(user: str, conversation_id: str | None, message: str, answer: Answer) -> tuple[str | None, int | None]:
        """(conversation id, turn id) of the saved answer; a database failure costs the saving, not the answer."""
        try:
            conversation_id = conversation_id or store.create(user)
            return conversation_id, store.add_turn(conversation_id, user, message, answer.question, answer,
                                                   assistant.index.version)  # fmt: skip
        except ConversationNotFound:  # deleted in another tab: this answer starts a new conversation
            return save(user, None, message, answer)
        except AssistantError:
            log.exception("could not save the conversation")
            gr.Warning(NOT_SAVED)
            return conversation_id, None

    def respond(message: str, history: list, session: Session, request: gr.Request):
        history = [*history, {"role": "user", "content": inert(message if isinstance(message, str) else "")}]
        history.append({"role": "assistant", "content": ""})
        answer: Answer | None = None
        written = ""
        # the conversation asked in; another opened meanwhile (New chat, the list) is left as it is
        view, asked_in = session.view, session.conversation_id
        try:
            for piece in assistant.stream(message, session.earlier(assistant.settings.max_previous_questions)):
                if isinstance(piece, Answer):
                    answer = piece
                    continue
                first = not written
                written += piece
                history[-1]["content"] = inert(written)
                if session.view == view:  # the box is emptied once, with the first piece: typing goes on meanwhile
                    yield {chatbot: history, box: ""} if first else {chatbot: history}
        except Exception as exc:  # shown to the user as a short message, logged in full
            if not isinstance(exc, AssistantError):
                log.exception("chat request failed")
            if session.view != view:
                return
            history[-1]["content"] = friendly_error(exc)
            session.answered(Bubble(), asked_in)
            failed = {chatbot: history, sources: "", picker: no_sources()}
            if not written:  # the question goes back in the box, to be corrected rather than typed again
                failed[box] = message
            yield failed
            return
        assert answer is not None  # the pipeline's last item
        history[-1]["content"] = chat_text(answer)
        user = _user(request)
        conversation_id, turn_id = save(user, asked_in, message, answer)  # saved where it was asked, in any case
        if session.view != view:
            return
        session.answered(Bubble(answer.question, turn_id), conversation_id)
        done = {chatbot: history, sources: sources_html(answer, answer.question), picker: openable(answer)}
        if not written:
            done[box] = ""
        try:
            known = choices(user)
        except AssistantError:
            log.exception("could not list the conversations")
            known = []
        if known:
            done[listed] = gr.update(choices=known, value=conversation_id)
            for name in (name for name, cid in known if cid == conversation_id):
                done[title] = name
        yield done

    def ask(question: str, previous_questions: list[str] | None = None) -> dict:
        """Answer one question (read against the previous ones when it is a follow-up);
        returns the Answer as a dict with citations, or {"error": ..., "message": ...}."""
        try:
            answer = assistant.ask(question, previous_questions)
        except AssistantError as exc:
            return {"error": type(exc).__name__, "message": str(exc)}
        except Exception:  # noqa: BLE001 - logged in full; the caller gets a short message
            log.exception("ask request failed")
            return {"error": "InternalError", "message": SERVER_FAILED}
        return {"standalone_question": answer.question, **answer.model_dump(mode="json")}

    def start(request: gr.Request) -> dict:
        user = _user(request)
        shown = {upload_panel: gr.update(visible=user in admins), who: who_html(user)}
        try:
            shown[listed] = gr.update(choices=choices(user), value=None)
        except AssistantError as exc:
            log.error("could not list the conversations: %s", exc)
            gr.Warning(STORE_FAILED)
        return shown

    def open_conversation(chosen: str | None, session: Session, request: gr.Request) -> dict:
        if not chosen:
            return {}
        try:
            conversation = store.get(chosen, _user(request))
        except ConversationNotFound:
            gr.Warning(GONE)
            return shown_conversation(session, None, _user(request))
        except AssistantError as exc:
            raise shown_error(exc) from None
        return shown_conversation(session, conversation)

    def find_conversations(text: str, session: Session, request: gr.Request) -> dict:
        """The list filtered by title or question; the open conversation stays marked when listed."""
        found = choices(_user(request), text or "")
        marked = session.conversation_id if session.conversation_id in {c for _, c in found} else None
        return {listed: gr.update(choices=found, value=marked)}

    def rename(session: Session, name: str, request: gr.Request) -> dict:
        user = _user(request)
        if not session.conversation_id:
            raise gr.Error(NOTHING_OPEN)
        try:
            store.rename(session.conversation_id, user, name)
        except AssistantError as exc:
            raise shown_error(exc) from None
        return {listed: gr.update(choices=choices(user), value=session.conversation_id)}

    def delete(session: Session, confirmed: bool, request: gr.Request) -> dict:
        if not confirmed:  # the confirmation was cancelled
            return {}
        user = _user(request)
        if session.conversation_id:
            try:
                store.delete(session.conversation_id, user)
            except ConversationNotFound:
                pass  # already gone (another tab)
            except AssistantError as exc:
                raise shown_error(exc) from None
        return shown_conversation(session, None, user)

    def export(session: Session, request: gr.Request) -> dict:
        if not session.conversation_id:
            raise gr.Error(NOTHING_OPEN)
        try:
            conversation = store.get(session.conversation_id, _user(request))
        except ConversationNotFound:
            raise gr.Error(GONE) from None
        except AssistantError as exc:
            raise shown_error(exc) from None
        path = export_folder() / f"{safe_title(conversation.title)}.md"
        path.write_text(conversation_markdown(conversation), encoding="utf-8")
        return {exported: gr.update(value=str(path), visible=True)}

    def vote(session: Session, history: list, data: gr.LikeData, request: gr.Request) -> dict:
        """👍 / 👎 on an answer: saved at once; a 👎 opens the box for what was wrong."""
        turn_id = session.turn_at(history, data.index) if isinstance(data.index, int) else None
        if turn_id is None or data.liked not in VOTES:
            return {}
        verdict = VOTES[data.liked]
        try:
            store.set_feedback(turn_id, _user(request), verdict)
        except AssistantError as exc:
            raise shown_error(exc) from None
        session.explaining = turn_id if verdict == "down" else None
        return {feedback_panel: gr.update(visible=verdict == "down")}

    def explain(session: Session, why: str | None, said: str, request: gr.Request) -> dict:
        closed = {feedback_panel: gr.update(visible=False), reason: None, comment: ""}
        if session.explaining is None:
            return closed
        try:
            store.set_feedback(session.explaining, _user(request), "down", REASONS.get(why or ""), said)
        except AssistantError as exc:
            raise shown_error(exc) from None
        session.explaining = None
        gr.Info(THANKS)
        return closed

    def add_reports(files: list[str] | None, request: gr.Request, progress=gr.Progress(track_tqdm=True)):  # noqa: B008
        """Ingest uploaded reports (admins only), saying what it is doing, then what was
        added and what was refused, and why."""
        user = _user(request)
        if user not in admins:  # one log line, no traceback
            log.warning("add_reports refused: %s is not an admin", repr(user) if user else "no login")
            raise gr.Error(ADMINS_ONLY, print_exception=False)
        if not files:
            raise gr.Error("پہلے رپورٹ کی فائلیں منتخب کریں۔ · Choose one or more report files first.")
        settings = assistant.settings
        yield f"⏳ Checking {len(files)} file(s)… / فائلیں جانچی جا رہی ہیں…"
        copied, refused = stage([Path(f) for f in files], settings.corpus_dir)
        report = None
        if copied:
            yield f"⏳ Indexing {len(copied)} report(s)… / رپورٹس انڈیکس ہو رہی ہیں…"
            try:
                # its progress bar shows here (track_tqdm)
                report = assistant.ingest(copied, progress=True, added_by=user)
            except AssistantError as exc:
                raise shown_error(exc) from None
        yield upload_summary(report, refused)

    cache = (EXPORT_KEEP_SECONDS, EXPORT_KEEP_SECONDS)  # Gradio's copies of exports and uploads, cleared hourly
    with gr.Blocks(title="Report assistant · رپورٹس اسسٹنٹ", delete_cache=cache) as app:
        with gr.Row(equal_height=True, elem_id="header"):
            gr.Markdown("## رپورٹس سے پوچھیں · Ask the reports")
            who = gr.HTML(elem_id="who")
            theme_button = gr.Button("🌓", size="sm", scale=0, min_width=48, elem_id="theme-toggle")
        with gr.Tabs():
            with gr.Tab("گفتگو · Chat", elem_id="chat-tab"):
                with gr.Row(elem_id="chat-row"):
                    with gr.Column(scale=1, min_width=280, elem_id="side-col"):
                        with gr.Accordion("گفتگوئیں · Conversations", open=True, elem_id="side-toggle"):
                            new_chat = gr.Button("نئی گفتگو · New chat", elem_id="new-chat")
                            search = gr.Textbox(placeholder="گفتگوؤں میں تلاش · Search conversations", show_label=False,
                                                elem_id="conversation-search", max_lines=1)  # fmt: skip
                            listed = gr.Radio(label="گفتگوئیں · Conversations", choices=[], elem_id="conversations")
                            title = gr.Textbox(label="عنوان · Title", elem_id="title", max_lines=1)
                            with gr.Row():
                                rename_button = gr.Button("نام بدلیں · Rename", elem_id="rename", size="sm")
                                delete_button = gr.Button("حذف · Delete", elem_id="delete", size="sm", variant="stop")
                                confirmed = gr.Checkbox(visible=False)  # the browser's answer to «delete?»
                            export_button = gr.Button("Markdown میں محفوظ کریں · Export", elem_id="export", size="sm")
                            exported = gr.File(label="Markdown", visible=False, elem_id="exported", interactive=False)
                            with gr.Group(visible=False, elem_id="upload-panel") as upload_panel:
                                files = gr.File(label="رپورٹس شامل کریں · Add reports", file_count="multiple",
                                                file_types=list(SUFFIXES), elem_id="upload")  # fmt: skip
                                upload_button = gr.Button("شامل کریں · Add", elem_id="upload-send", size="sm")
                                upload_result = gr.Markdown(elem_id="upload-result")
                    with gr.Column(scale=3, elem_id="main-col"):
                        chatbot = gr.Chatbot(elem_id="chat", height=460, label="گفتگو · Chat", latex_delimiters=[],
                                             buttons=["copy", "copy_all"])  # fmt: skip  # no share: offline
                        with gr.Group(visible=False, elem_id="feedback") as feedback_panel:
                            reason = gr.Radio(list(REASONS), label="کیا غلط تھا؟ · What was wrong?", elem_id="reason")
                            comment = gr.Textbox(label="تبصرہ · Comment", elem_id="comment", max_lines=3)
                            explain_button = gr.Button("بھیجیں · Send feedback", elem_id="feedback-send", size="sm")
                        with gr.Row():
                            box = gr.Textbox(
                                placeholder="اپنا سوال لکھیں… / Type your question…",
                                show_label=False,
                                elem_id="question",
                                scale=5,
                            )
                            send = gr.Button("بھیجیں · Send", variant="primary", elem_id="send", scale=1)
                        gr.Examples(EXAMPLES, inputs=box, label="مثالیں · Examples")
                    with gr.Column(scale=2, elem_id="sources-col"):
                        with gr.Accordion("حوالہ جات · Sources", open=True, elem_id="sources-toggle"):
                            sources = gr.HTML(elem_id="sources")
                            picker = gr.Radio(label="حوالہ کھولیں · Open a source", choices=[], visible=False,
                                              elem_id="open-source")  # fmt: skip
                            page_view = gr.Image(label="صفحہ · Page", visible=False, interactive=False, format="png",
                                                 elem_id="source-page")  # fmt: skip
                            context_view = gr.HTML(elem_id="source-context")
                            original = gr.DownloadButton("اصل فائل · Original file", visible=False, size="sm",
                                                         elem_id="source-file")  # fmt: skip
            library_tab(assistant, admins, _user)
        session = gr.State(Session())  # each browser session gets its own copy
        chat_parts = [chatbot, sources, title, listed, feedback_panel, exported, picker]
        box.submit(respond, [box, chatbot, session], [chatbot, sources, box, listed, title, picker],
                   api_visibility=PRIVATE)  # fmt: skip
        send.click(respond, [box, chatbot, session], [chatbot, sources, box, listed, title, picker],
                   api_visibility=PRIVATE)  # fmt: skip
        new_chat.click(cleared, session, chat_parts, api_visibility=PRIVATE)
        chatbot.clear(cleared, session, chat_parts, api_visibility=PRIVATE)  # the chat's own 🗑 starts afresh too
        listed.input(open_conversation, [listed, session], chat_parts, api_visibility=PRIVATE)
        rename_button.click(rename, [session, title], listed, api_visibility=PRIVATE)
        delete_button.click(delete, [session, confirmed], chat_parts, js=CONFIRM_DELETE, api_visibility=PRIVATE)
        search.change(find_conversations, [search, session], listed, api_visibility=PRIVATE)  # typed, pasted, cleared
        export_button.click(export, session, exported, api_visibility=PRIVATE)
        # votes and their reasons are saved one at a time, in the order clicked: a 👍 taken
        # back at once must not be overtaken by the 👍 itself (the workers run events side by side)
        chatbot.like(vote, [session, chatbot], feedback_panel, concurrency_id="feedback", concurrency_limit=1,
                     api_visibility=PRIVATE)  # fmt: skip
        explain_button.click(explain, [session, reason, comment], [feedback_panel, reason, comment],
                             concurrency_id="feedback", concurrency_limit=1, api_visibility=PRIVATE)  # fmt: skip
        chatbot.select(show_turn, [session, chatbot], [sources, picker], api_visibility=PRIVATE)
        picker.input(open_source, picker, [page_view, context_view, original], api_visibility=PRIVATE)
        sources.change(no_preview, None, [page_view, context_view, original], api_visibility=PRIVATE)
        upload_button.click(add_reports, files, upload_result, api_name="add_reports")
        app.load(start, None, [listed, upload_panel, who], api_visibility=PRIVATE)
        theme_button.click(None, js=TOGGLE_THEME)
        gr.api(ask, api_name="ask")
    return app


def _user(request: gr.Request | None) -> str:
    """The chat login of the person asking ("" without a login)."""
    return (getattr(request, "username", None) or "") if request else ""


def shown_error(exc: AssistantError) -> gr.Error:
    """A store failure is logged with its details (paths); the person sees what to do."""
    if isinstance(exc, ConversationStoreError) and not isinstance(exc, ConversationNotFound):
        log.error("conversation store: %s", exc)
        return gr.Error(STORE_FAILED)
    return gr.Error(urdu_first(exc))
