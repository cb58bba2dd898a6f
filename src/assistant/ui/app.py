"""The staff chat: a thin Gradio layer over `Assistant` (no retrieval or answer logic
here). Follow-ups are rewritten into standalone questions, answers stream in, sources
open beside the chat, and the `ask` API endpoint returns structured data for
`gradio_client`. Questions are answered `chat_workers` at a time from a bounded queue;
the login is throttled (`login.py`). The HTTP API (`http_api.py`) is served beside it."""

import ipaddress
import logging

import gradio as gr

from ..answers import Answer
from ..assistant import Assistant
from ..errors import AssistantError, IndexMissingError
from ..http_api import mount
from .login import LoginThrottle
from .render import chat_text, inert, sources_html

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
.sources mark {{ background: #ffe066; padding: 0 .15em; }}
.sources .searched {{ color: #555; font-size: .9em; }}
h2, h3 {{ line-height: 2.2; padding-top: .3em; }}
"""


def friendly_error(exc: Exception) -> str:
    """A short message with what to do; never a traceback."""
    if isinstance(exc, IndexMissingError):
        return "⚠️ The reports have not been indexed yet: run `assistant ingest`, then ask again. / انڈیکس موجود نہیں۔"
    if isinstance(exc, AssistantError):  # written to be read by users: what is wrong, what to do
        return f"⚠️ {inert(str(exc))}"
    return "⚠️ Something went wrong on the server; the details are in its log. Please try again."


def build_app(assistant: Assistant) -> gr.Blocks:
    def respond(message: str, history: list, turns: list):
        history = [*history, {"role": "user", "content": inert(message if isinstance(message, str) else "")}]
        history.append({"role": "assistant", "content": ""})
        answer: Answer | None = None
        written = ""
        try:
            standalone = assistant.rewrite(message, [t["standalone"] for t in turns])
            for piece in assistant.stream(standalone):
                if isinstance(piece, Answer):
                    answer = piece
                else:
                    written += piece
                    history[-1]["content"] = inert(written)
                    yield history, gr.skip(), turns, ""
        except Exception as exc:  # shown to the user as a short message, logged in full
            if not isinstance(exc, AssistantError):
                log.exception("chat request failed")
            history[-1]["content"] = friendly_error(exc)
            yield history, "", turns, ""
            return
        history[-1]["content"] = chat_text(answer)
        turns = [*turns, {"question": message, "standalone": standalone}]
        yield history, sources_html(answer, standalone), turns, ""

    def ask(question: str, previous_questions: list[str] | None = None) -> dict:
        """Answer one question (rewritten against the previous ones when it is a follow-up);
        returns the Answer as a dict with citations, or {"error": ..., "message": ...}."""
        try:
            standalone = assistant.rewrite(question, previous_questions)
            answer = assistant.ask(standalone)
        except AssistantError as exc:
            return {"error": type(exc).__name__, "message": str(exc)}
        except Exception:  # noqa: BLE001 - logged in full; the caller gets a short message
            log.exception("ask request failed")
            return {"error": "InternalError", "message": friendly_error(RuntimeError())}
        return {"standalone_question": standalone, **answer.model_dump(mode="json")}

    with gr.Blocks(title="Report assistant · رپورٹس اسسٹنٹ") as app:
        gr.Markdown("## رپورٹس سے پوچھیں · Ask the reports")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(elem_id="chat", height=460, label="گفتگو · Chat", latex_delimiters=[])
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="اپنا سوال لکھیں… / Type your question…",
                        show_label=False,
                        elem_id="question",
                        scale=5,
                    )
                    send = gr.Button("بھیجیں · Send", variant="primary", elem_id="send", scale=1)
                new_chat = gr.Button("نئی گفتگو · New chat", elem_id="new-chat")
                gr.Examples(EXAMPLES, inputs=box, label="مثالیں · Examples")
            with gr.Column(scale=2):
                gr.Markdown("### حوالہ جات · Sources")
                sources = gr.HTML(elem_id="sources")
        turns = gr.State([])
        outputs = [chatbot, sources, turns, box]
        box.submit(respond, [box, chatbot, turns], outputs, api_visibility="private")
        send.click(respond, [box, chatbot, turns], outputs, api_visibility="private")
        new_chat.click(lambda: ([], "", [], ""), None, outputs, api_visibility="private")
        gr.api(ask, api_name="ask")
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch(assistant: Assistant, block: bool = True, login: LoginThrottle | None = None):
    """Start the chat on the configured host and port; a login is required off loopback
    (`login` replaces the default throttle settings)."""
    settings = assistant.settings
    auth = None
    if settings.chat_auth:
        user, sep, password = settings.chat_auth.partition(":")
        if not (sep and user and password):
            raise AssistantError("chat_auth must look like 'user:password'")
        auth = (login or LoginThrottle(user, password)).check
    if auth is None and not is_loopback(settings.chat_host):
        raise AssistantError(
            f"refusing to serve on {settings.chat_host} without a login; set --auth user:password "
            "(or ASSISTANT_CHAT_AUTH), or bind to 127.0.0.1"
        )
    local = gr.themes.Font  # local fonts only: nothing is fetched from a font service
    theme = gr.themes.Default(
        font=[local("Noto Naskh Arabic"), local("Noto Sans Arabic"), local("system-ui"), local("sans-serif")],
        font_mono=[local("monospace")],
    )
    app = build_app(assistant)
    app.queue(default_concurrency_limit=settings.chat_workers, max_size=settings.chat_queue_size)
    app.launch(
        server_name=settings.chat_host,
        server_port=settings.chat_port or None,
        auth=auth,
        prevent_thread_lock=True,
        quiet=not block,
        show_error=False,
        theme=theme,
        css=CSS,
        footer_links=["api"],
    )
    mount(app.server_app, assistant, check_login=auth)  # the REST and OpenAI-compatible API (http_api.py)
    if block:
        app.block_thread()
    return app
