"""The staff chat: a thin Gradio layer over `Assistant` (no retrieval or answer logic
here). Follow-ups are rewritten into standalone questions, answers stream in, sources
open beside the chat, and the `ask` API endpoint returns structured data for
`gradio_client`. Every answer is saved to the person's conversation
(`conversations.py`), with 👍/👎 feedback; admins add reports (`uploads.py`).
Questions are answered `chat_workers` at a time from a bounded queue; the login is
throttled per address and user (`login.py`); Gradio's upload route takes files from
admins only (`Guard`). The HTTP API (`http_api.py`) is served beside it."""

import ipaddress
import json
import logging
from collections.abc import Container
from html import escape
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from ..answers import Answer
from ..assistant import Assistant
from ..conversations import (
    Conversation,
    ConversationNotFound,
    ConversationStore,
    ConversationStoreError,
    conversation_markdown,
    conversation_store,
)
from ..errors import AssistantError, IndexMissingError
from ..formats import SUFFIXES, UPLOAD_MAX_BYTES
from ..http_api import BodyLimit, TokenThrottle, check_inputs, mount
from ..settings import Settings
from ..uploads import stage
from ..users import Admins, Logins, parse_logins, users_file
from .exports import EXPORT_KEEP_SECONDS, download_copy, export_folder, safe_title
from .library_tab import library_tab
from .login import CLIENT, LoginThrottle
from .render import chat_text, context_html, inert, source_choices, sources_html, upload_summary, urdu_first

log = logging.getLogger(__name__)

EXAMPLES = [
    "پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟",
    "لاؤ کائی نے انڈیکس رینکنگ ٹیبل کے مطابق کتنے پوائنٹس حاصل کیے؟",
    "How many incoming documents had the office received by 31 December 2023?",
    "Who is the Chief of the Central Party Office?",
]
URDU_FONTS = (
    '"Noto Nastaliq Urdu", "Jameel Noori Nastaleeq", "Noto Naskh Arabic", "Noto Sans Arabic", Tahoma, sans-serif'
)
CSS = f"""
body, .gradio-container {{ font-family: {URDU_FONTS}; }}
#chat .message, #question textarea, .sources {{ unicode-bidi: plaintext; text-align: start; line-height: 2; }}
.sources blockquote {{ border-inline-start: 3px solid #bbb; padding-inline-start: .6em; margin: .3em 0; }}
.sources mark, .source-context mark {{ background: #ffe066; color: #111; padding: 0 .15em; }}
.source-context {{ unicode-bidi: plaintext; text-align: start; line-height: 2; max-height: 24em; overflow-y: auto; }}
.sources .searched {{ color: #555; font-size: .9em; }}
#upload {{ direction: ltr; }}
h2, h3 {{ line-height: 2.2; padding-top: .3em; }}
.dark .sources .searched {{ color: #aaa; }}
#who {{ text-align: end; }}
[data-testid=toast-text] {{ unicode-bidi: plaintext; text-align: start; }}
#chat .message-row:has(.answer-failed) + .message-buttons button:is([aria-label="Like"], [aria-label="Dislike"]) {{
  display: none;  /* a failure is not an answer to judge */
}}
@media (max-width: 640px) {{  /* a phone: the chat first; conversations and sources after it, behind their toggles */
  #chat-row, #header {{ flex-direction: column; }}
  #main-col {{ order: -1; }}
  #side-col {{ order: 1; }}
}}
"""
# runs when the page loads: the theme chosen earlier in this browser; on a phone, the
# conversations and sources panels start closed (their headers open them); and Gradio's
# own notices, which its page writes in English (a file of the wrong kind or over the
# size limit, refused before it is sent), are given their Urdu sentence first
ON_LOAD = """() => {
  const said = [
    [/^Invalid file types?: (.*)\\. Only (.*) allowed\\.$/,
     m => `یہ فائل قبول نہیں: ${m[1]}۔ صرف یہ قسمیں شامل ہو سکتی ہیں: ${m[2]}۔ · ${m[0]}`],
    [/^File\\(s\\) exceed the maximum allowed size of (.*?): (.*)$/,
     m => `فائل حد (${m[1]}) سے بڑی ہے: ${m[2]}۔ · ${m[0]}`],
  ];
  const titles = {Error: "خطا · Error", Warning: "انتباہ · Warning", Info: "اطلاع · Info"};
  const inUrdu = () => {
    for (const text of document.querySelectorAll("[data-testid=toast-text]:not([data-urdu])")) {
      text.dataset.urdu = "";
      for (const [english, urdu] of said) {
        const m = text.textContent.trim().match(english);
        if (m) { text.textContent = urdu(m); break; }
      }
    }
    for (const label of document.querySelectorAll(".toast-header *, .wrap > span.error")) {
      const title = label.childElementCount === 0 && titles[label.textContent.trim()];
      if (title) label.textContent = title;
    }
  };
  new MutationObserver(inUrdu).observe(document.body, {childList: true, subtree: true});
  const theme = localStorage.getItem("assistant-theme");
  if (theme) document.body.classList.toggle("dark", theme === "dark");
  if (window.matchMedia("(max-width: 640px)").matches) {
    for (const id of ["side-toggle", "sources-toggle"]) {
      const header = document.querySelector(`#${id} > .label-wrap`);
      if (header && header.classList.contains("open")) header.click();
    }
  }
}"""
TOGGLE_THEME = """() => {
  const dark = document.body.classList.toggle("dark");
  localStorage.setItem("assistant-theme", dark ? "dark" : "light");
}"""


REASONS = {  # shown -> stored with a 👎
    "غلط عدد · Wrong figure": "wrong figure",
    "غلط حوالہ · Wrong source": "wrong source",
    "جواب نہیں دینا چاہیے تھا · Should have refused": "should have refused",
    "دیگر · Other": "other",
}
NOT_SAVED = (
    "یہ جواب گفتگو میں محفوظ نہیں ہو سکا۔ · This answer could not be saved to the conversation history (see the "
    "server log)."
)
GONE = "یہ گفتگو اب موجود نہیں۔ · That conversation no longer exists."
NOTHING_OPEN = "پہلے کوئی گفتگو کھولیں یا شروع کریں۔ · Open or start a conversation first."
STORE_FAILED = (
    "محفوظ شدہ گفتگوئیں ابھی دستیاب نہیں۔ · The conversation history could not be read or written (see the server log)."
)
SERVER_FAILED = (
    "سرور پر کچھ غلط ہو گیا؛ دوبارہ کوشش کریں۔ · Something went wrong on the server; the details are in its log. "
    "Please try again."
)
THANKS = "شکریہ، آپ کی رائے محفوظ ہو گئی۔ · Thank you: your feedback was saved."
ADMINS_ONLY = "رپورٹس شامل کرنا منتظم کا کام ہے۔ · Adding reports needs the admin role."
UPLOAD_ROUTES = ("/gradio_api/upload", "/gradio_api/process_recording")  # Gradio's routes that take files


def logged_in_user(scope) -> str | None:
    """The chat login of a request, from Gradio's session cookie (None without one), the
    way Gradio's own routes know it."""
    app = scope.get("app")
    cookie_id = getattr(app, "cookie_id", None)
    if cookie_id is None:
        return None
    cookies = HTTPConnection(scope).cookies
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return getattr(app, "tokens", {}).get(token) if token else None


def end_sessions(scope, user: str) -> None:
    """Forget every Gradio session of `user` (a login removed while they were logged in)."""
    tokens = getattr(scope.get("app"), "tokens", {})
    for token in [t for t, name in tokens.items() if name == user]:
        tokens.pop(token, None)
    log.warning("sessions of %r ended: the login was removed", user)


class Guard:
    """ASGI middleware in front of the chat: remembers each request's client address for
    the login throttle (`CLIENT`); ends the session of a user removed from the logins
    since they logged in; and lets only admins put files in Gradio's upload cache,
    since only they may add reports (anyone else is answered 403, in one log line)."""

    def __init__(self, app, admins: Container[str], logins: Container[str] | None = None) -> None:
        self.app, self.admins, self.logins = app, admins, logins

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        remembered = CLIENT.set(client[0] if client else "unknown")
        try:
            user = logged_in_user(scope)
            if user and self.logins is not None and user not in self.logins:
                end_sessions(scope, user)  # Gradio now sees no login: its login page, or 401
                user = None
            if scope["type"] == "http" and scope["path"].rstrip("/").endswith(UPLOAD_ROUTES):
                if user not in self.admins:
                    log.warning("upload refused: %s is not an admin (from %s)",
                                repr(user) if user else "no login", CLIENT.get())  # fmt: skip
                    refused = JSONResponse({"error": "Forbidden", "message": ADMINS_ONLY}, status_code=403,
                                           headers={"Connection": "close"})  # fmt: skip
                    await refused(scope, receive, send)
                    return
            await self.app(scope, receive, send)
        finally:
            CLIENT.reset(remembered)


def friendly_error(exc: Exception) -> str:
    """A short message with what to do; never a traceback. Marked as a failure, so its
    bubble offers no 👍/👎 (CSS): there is no answer to judge."""
    if isinstance(exc, IndexMissingError):
        said = ("ابھی کوئی رپورٹ نہیں: منتظم «رپورٹس شامل کریں» سے شامل کرے۔ · No reports yet: an admin adds them "
                "with «Add reports» (or `assistant ingest` on the server), then ask again.")  # fmt: skip
    elif isinstance(exc, AssistantError):  # written to be read by users: what is wrong, what to do
        said = inert(urdu_first(exc))
    else:
        said = SERVER_FAILED
    return f'<span class="answer-failed">⚠️ {said}</span>'


def _user(request: gr.Request | None) -> str:
    """The chat login of the person asking ("" without a login)."""
    return (getattr(request, "username", None) or "") if request else ""


def _history(conversation: Conversation) -> list[dict]:
    messages = []
    for turn in conversation.turns:
        messages.append({"role": "user", "content": inert(turn.question)})
        messages.append({"role": "assistant", "content": chat_text(turn.answer)})
    return messages


def shown_error(exc: AssistantError) -> gr.Error:
    """A store failure is logged with its details (paths); the person sees what to do."""
    if isinstance(exc, ConversationStoreError) and not isinstance(exc, ConversationNotFound):
        log.error("conversation store: %s", exc)
        return gr.Error(STORE_FAILED)
    return gr.Error(urdu_first(exc))


def build_app(assistant: Assistant, store: ConversationStore, admins: Container[str] = frozenset()) -> gr.Blocks:
    """The chat. Conversations are saved in `store`, each person's apart; `admins` may add reports."""

    def choices(user: str, search: str = "") -> list[tuple[str, str]]:
        return [(c.title or "…", c.id) for c in store.conversations(user, search)]

    def closed() -> tuple:
        """No answer voted on, the feedback box and the exported file hidden: how any
        conversation opens."""
        return None, gr.update(visible=False), gr.update(value=None, visible=False)

    def cleared(user: str | None = None) -> tuple:
        """What an empty chat shows: no messages, sources, turns, conversation or title,
        and `closed` (the list refreshed when `user` is given)."""
        listed = gr.update(choices=choices(user), value=None) if user is not None else gr.update(value=None)
        empty = gr.update(value=[], feedback_value=[])  # no earlier conversation's votes on new answers
        return empty, "", [], None, [], listed, "", *closed(), no_sources()

    def no_sources():
        return gr.update(choices=[], value=None, visible=False)

    def openable(answer: Answer):
        """The «open a source» choice for the answer whose sources are shown."""
        return gr.update(choices=source_choices(answer), value=None, visible=bool(answer.citations))

    def open_source(chosen: str | None):
        """A citation opened: its PDF page with the quoted lines marked, or its paragraph in
        context, and the original file to download."""
        hidden = gr.update(value=None, visible=False)
        if not chosen:
            return hidden, "", hidden
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
        image = gr.update(value=preview.image, visible=True) if preview.image is not None else hidden
        return (
            image,
            context_html(preview.before, preview.quote, preview.after),
            gr.update(value=str(copy), visible=True),
        )

    def show_turn(conversation_id: str | None, turn_ids: list, history: list, data: gr.SelectData,
                  request: gr.Request):  # fmt: skip
        """An earlier answer clicked: its sources are shown, to open like the last one's."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        if not conversation_id or not isinstance(index, int) or history[index].get("role") != "assistant":
            return gr.skip(), gr.skip()
        ordinal = sum(1 for m in history[:index] if m.get("role") == "assistant")
        turn_id = turn_ids[ordinal] if ordinal < len(turn_ids) else None  # None: an error bubble, nothing saved
        try:
            turn = next((t for t in store.get(conversation_id, _user(request)).turns if t.id == turn_id), None)
        except AssistantError:
            return gr.skip(), gr.skip()
        if turn is None:
            return gr.skip(), gr.skip()
        return sources_html(turn.answer, turn.standalone), openable(turn.answer)

    def save(user: str, conversation_id: str | None, message: str, standalone: str, answer: Answer):
        """(conversation id, turn id) of the saved answer; a database failure costs the saving, not the answer."""
        try:
            conversation_id = conversation_id or store.create(user)
            return conversation_id, store.add_turn(conversation_id, user, message, standalone, answer,
                                                   assistant.index.version)  # fmt: skip
        except ConversationNotFound:  # deleted in another tab: this answer starts a new conversation
            return save(user, None, message, standalone, answer)
        except AssistantError:
            log.exception("could not save the conversation")
            gr.Warning(NOT_SAVED)
            return conversation_id, None

    def respond(message: str, history: list, turns: list, conversation_id: str | None, turn_ids: list,
                request: gr.Request):  # fmt: skip
        history = [*history, {"role": "user", "content": inert(message if isinstance(message, str) else "")}]
        history.append({"role": "assistant", "content": ""})
        answer: Answer | None = None
        written = ""
        keep = (gr.skip(),) * 5
        try:
            standalone = assistant.rewrite(message, [t["standalone"] for t in turns])
            for piece in assistant.stream(standalone):
                if isinstance(piece, Answer):
                    answer = piece
                else:
                    emptied = "" if not written else gr.skip()  # the box is emptied once: typing goes on meanwhile
                    written += piece
                    history[-1]["content"] = inert(written)
                    yield history, gr.skip(), turns, emptied, *keep
        except Exception as exc:  # shown to the user as a short message, logged in full
            if not isinstance(exc, AssistantError):
                log.exception("chat request failed")
            history[-1]["content"] = friendly_error(exc)
            # the question goes back in the box, to be corrected rather than typed again
            kept = message if not written else gr.skip()  # mid-stream, the box may already hold a new question
            yield history, "", turns, kept, conversation_id, [*turn_ids, None], gr.skip(), gr.skip(), no_sources()
            return
        history[-1]["content"] = chat_text(answer)
        turns = [*turns, {"question": message, "standalone": standalone}]
        user = _user(request)
        conversation_id, turn_id = save(user, conversation_id, message, standalone, answer)
        try:
            known = choices(user)
        except AssistantError:
            log.exception("could not list the conversations")
            known = []
        title = next((name for name, cid in known if cid == conversation_id), gr.skip())
        listed = gr.update(choices=known, value=conversation_id) if known else gr.skip()
        emptied = gr.skip() if written else ""
        shown = sources_html(answer, standalone)
        yield history, shown, turns, emptied, conversation_id, [*turn_ids, turn_id], listed, title, openable(answer)

    def ask(question: str, previous_questions: list[str] | None = None) -> dict:
        """Answer one question (rewritten against the previous ones when it is a follow-up);
        returns the Answer as a dict with citations, or {"error": ..., "message": ...}."""
        try:
            settings = assistant.settings
            check_inputs(question, previous_questions, settings.max_question_chars, settings.max_previous_questions)
            standalone = assistant.rewrite(question, previous_questions)
            answer = assistant.ask(standalone)
        except AssistantError as exc:
            return {"error": type(exc).__name__, "message": str(exc)}
        except Exception:  # noqa: BLE001 - logged in full; the caller gets a short message
            log.exception("ask request failed")
            return {"error": "InternalError", "message": SERVER_FAILED}
        return {"standalone_question": standalone, **answer.model_dump(mode="json")}

    def start(request: gr.Request):
        user = _user(request)
        try:
            listed = gr.update(choices=choices(user), value=None)
        except AssistantError as exc:
            log.error("could not list the conversations: %s", exc)
            gr.Warning(STORE_FAILED)
            listed = gr.skip()
        return listed, gr.update(visible=user in admins), who_html(user)

    def open_conversation(conversation_id: str | None, request: gr.Request):
        if not conversation_id:
            return (gr.skip(),) * 11
        try:
            conversation = store.get(conversation_id, _user(request))
        except ConversationNotFound:
            gr.Warning(GONE)
            return cleared(_user(request))
        except AssistantError as exc:
            raise shown_error(exc) from None
        turns = [{"question": t.question, "standalone": t.standalone} for t in conversation.turns]
        last = conversation.turns[-1] if conversation.turns else None
        shown = sources_html(last.answer, last.standalone) if last else ""
        ids = [t.id for t in conversation.turns]
        picker = openable(last.answer) if last else no_sources()
        votes = [{"up": "Like", "down": "Dislike"}.get(t.vote or "") for t in conversation.turns]
        return (
            gr.update(value=_history(conversation), feedback_value=votes),  # earlier votes shown
            shown,
            turns,
            conversation.id,
            ids,
            gr.skip(),
            conversation.title,
            *closed(),
            picker,
        )

    def find_conversations(text: str, conversation_id: str | None, request: gr.Request):
        """The list filtered by title or question; the open conversation stays marked when listed."""
        found = choices(_user(request), text or "")
        return gr.update(choices=found, value=conversation_id if conversation_id in {c for _, c in found} else None)

    def rename(conversation_id: str | None, title: str, request: gr.Request):
        user = _user(request)
        if not conversation_id:
            raise gr.Error(NOTHING_OPEN)
        try:
            store.rename(conversation_id, user, title)
        except AssistantError as exc:
            raise shown_error(exc) from None
        return gr.update(choices=choices(user), value=conversation_id)

    def delete(conversation_id: str | None, confirmed: bool, request: gr.Request):
        if not confirmed:  # the confirmation was cancelled
            return (gr.skip(),) * 11
        user = _user(request)
        if conversation_id:
            try:
                store.delete(conversation_id, user)
            except ConversationNotFound:
                pass  # already gone (another tab)
            except AssistantError as exc:
                raise shown_error(exc) from None
        return cleared(user)

    def export(conversation_id: str | None, request: gr.Request):
        if not conversation_id:
            raise gr.Error(NOTHING_OPEN)
        try:
            conversation = store.get(conversation_id, _user(request))
        except ConversationNotFound:
            raise gr.Error(GONE) from None
        except AssistantError as exc:
            raise shown_error(exc) from None
        path = export_folder() / f"{safe_title(conversation.title)}.md"
        path.write_text(conversation_markdown(conversation), encoding="utf-8")
        return gr.update(value=str(path), visible=True)

    def vote(turn_ids: list, history: list, data: gr.LikeData, request: gr.Request):
        """👍 / 👎 on an answer: saved at once; a 👎 opens the box for what was wrong."""
        if not isinstance(data.index, int):
            return gr.skip(), gr.skip()
        ordinal = sum(1 for m in history[: data.index] if m.get("role") == "assistant")
        turn_id = turn_ids[ordinal] if ordinal < len(turn_ids) else None
        votes = {True: "up", "Like": "up", "like": "up", False: "down", "Dislike": "down", "dislike": "down",
                 "": None, None: None}  # fmt: skip  # "": the thumb clicked again, the vote taken back
        if turn_id is None or data.liked not in votes:
            return gr.skip(), gr.skip()
        verdict = votes[data.liked]
        try:
            store.set_feedback(turn_id, _user(request), verdict)
        except AssistantError as exc:
            raise shown_error(exc) from None
        return (turn_id if verdict == "down" else None), gr.update(visible=verdict == "down")

    def explain(turn_id: int | None, reason: str | None, comment: str, request: gr.Request):
        if turn_id is None:
            return gr.update(visible=False), None, ""
        try:
            store.set_feedback(turn_id, _user(request), "down", REASONS.get(reason or ""), comment)
        except AssistantError as exc:
            raise shown_error(exc) from None
        gr.Info(THANKS)
        return gr.update(visible=False), None, ""

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
        turns = gr.State([])
        conversation_id = gr.State(None)
        turn_ids = gr.State([])
        voted = gr.State(None)
        private = {"api_visibility": "private"}
        outputs = [chatbot, sources, turns, box, conversation_id, turn_ids, listed, title, picker]
        inputs = [box, chatbot, turns, conversation_id, turn_ids]
        box.submit(respond, inputs, outputs, **private)
        send.click(respond, inputs, outputs, **private)
        shown = [chatbot, sources, turns, conversation_id, turn_ids, listed, title, voted, feedback_panel, exported,
                 picker]  # fmt: skip
        new_chat.click(cleared, None, shown, **private)
        chatbot.clear(cleared, None, shown, **private)  # the chat's own 🗑 button starts afresh too
        listed.input(open_conversation, listed, shown, **private)
        rename_button.click(rename, [conversation_id, title], listed, **private)
        delete_button.click(delete, [conversation_id, confirmed], shown, js=CONFIRM_DELETE, **private)
        search.change(find_conversations, [search, conversation_id], listed, **private)  # typed, pasted or cleared
        export_button.click(export, conversation_id, exported, **private)
        # votes and their reasons are saved one at a time, in the order clicked: a 👍 taken
        # back at once must not be overtaken by the 👍 itself (the workers run events side by side)
        in_order = {"concurrency_id": "feedback", "concurrency_limit": 1, **private}
        chatbot.like(vote, [turn_ids, chatbot], [voted, feedback_panel], **in_order)
        chatbot.select(show_turn, [conversation_id, turn_ids, chatbot], [sources, picker], **private)
        picker.input(open_source, picker, [page_view, context_view, original], **private)
        sources.change(lambda: (gr.update(value=None, visible=False), "", gr.update(visible=False)), None,
                       [page_view, context_view, original], **private)  # fmt: skip
        explain_button.click(explain, [voted, reason, comment], [feedback_panel, reason, comment], **in_order)
        upload_button.click(add_reports, files, upload_result, api_name="add_reports")
        app.load(start, None, [listed, upload_panel, who], **private)
        theme_button.click(None, js=TOGGLE_THEME)
        gr.api(ask, api_name="ask")
    return app


# runs in the browser before `delete`; its answer reaches the server as `confirmed` (a State's value cannot be
# changed from the browser, so the answer travels in a hidden checkbox)
CONFIRM_DELETE = (
    '(id, ok) => [id, confirm("یہ گفتگو حذف کریں؟ یہ واپس نہیں آئے گی۔ · Delete this conversation? It cannot be '
    'undone.")]'
)


def who_html(user: str) -> str:
    """Who is logged in, and the way out; nothing without a login."""
    if not user:
        return ""
    return (f'<div class="who" dir="auto">👤 <bdi>{escape(user)}</bdi> · '
            '<a href="/logout" id="logout">لاگ آؤٹ · Log out</a></div>')  # fmt: skip


LOGIN_MESSAGE = (
    "رپورٹس اسسٹنٹ: اپنے نام اور پاس ورڈ سے لاگ اِن کریں۔ پاس ورڈ بھول گئے ہوں تو منتظم سے کہیں۔ · "
    "Report assistant: log in with your name and password; an admin resets a forgotten one."
)


def chat_logins(settings: Settings) -> Logins:
    """The chat's logins: the users file under data_dir and chat_auth; AssistantError says what is wrong."""
    try:
        plain = parse_logins(settings.chat_auth) if settings.chat_auth else {}
        named = [a.strip() for a in (settings.chat_admins or "").split(",") if a.strip()]
        return Logins(plain, users_file(settings.data_dir), named)
    except ValueError as exc:
        raise AssistantError(str(exc)) from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch(assistant: Assistant, block: bool = True, login: LoginThrottle | None = None,
           tokens: TokenThrottle | None = None):  # fmt: skip
    """Start the chat on the configured host and port; a login is required off loopback
    (`login` and `tokens` replace the default throttles of logins and API tokens)."""
    settings = assistant.settings
    logins = chat_logins(settings)
    auth = (login or LoginThrottle(logins)).check if logins else None
    if auth is None and not is_loopback(settings.chat_host):
        raise AssistantError(
            f"refusing to serve on {settings.chat_host} without a login; add one with `assistant users add NAME` "
            "(or set ASSISTANT_CHAT_AUTH), or bind to 127.0.0.1"
        )
    local = gr.themes.Font  # local fonts only: nothing is fetched from a font service
    theme = gr.themes.Default(
        font=[local("Noto Naskh Arabic"), local("Noto Sans Arabic"), local("system-ui"), local("sans-serif")],
        font_mono=[local("monospace")],
    )
    admins = Admins(logins)
    app = build_app(assistant, conversation_store(settings), admins)
    app.queue(default_concurrency_limit=settings.chat_workers, max_size=settings.chat_queue_size)
    app.launch(
        server_name=settings.chat_host,
        server_port=settings.chat_port or None,
        auth=auth,
        auth_message=LOGIN_MESSAGE,
        prevent_thread_lock=True,
        quiet=not block,
        show_error=False,
        theme=theme,
        css=CSS,
        js=ON_LOAD,
        footer_links=["api"],
        max_file_size=UPLOAD_MAX_BYTES,
        app_kwargs={"middleware": [Middleware(Guard, admins=admins, logins=logins if logins else None),
                                   Middleware(BodyLimit, limit=settings.api_max_body_bytes)]},
    )  # fmt: skip
    mount(app.server_app, assistant, check_login=auth, tokens=tokens)  # the REST and OpenAI-compatible API
    if block:
        app.block_thread()
    return app
