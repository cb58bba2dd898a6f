"""Answer and citations as safe display text. Everything that comes from a report or a
question is escaped here, so markup inside it shows as text and never runs: HTML in
the sources panel, HTML and Markdown (links, images, emphasis) in chat messages."""

import json
import re
from html import escape

from ..answers import Answer, location_label
from ..conversations import Conversation, ConversationInputError, ConversationNotFound
from ..corpus import SkippedFile
from ..errors import (
    AssistantError,
    BackendUnavailableError,
    CorpusPathError,
    IndexBusyError,
    IndexCorruptError,
    IndexEmptyError,
    IndexMismatchError,
    IndexMissingError,
    IndexPathError,
    InvalidQuestionError,
)
from ..ingest import IngestReport
from ..library import ReportNotFoundError
from ..normalize import language
from ..preview import SourceUnavailableError
from .page import SERVER_FAILED

SEARCHED = {"ur": "تلاش کیا گیا سوال", "en": "Searched for"}
FILE = {"ur": "فائل", "en": "File"}
SOURCE = {"ur": "ماخذ", "en": "Source"}
UNVERIFIED = {"ur": "غیر مصدقہ، حوالوں میں نہیں ملا", "en": "Not verified against the cited passages"}
FELL_BACK = {
    "ur": "ماڈل کا جواب حوالوں سے ثابت نہیں ہوا، اس لیے رپورٹ کا متعلقہ جملہ دکھایا گیا ہے۔",
    "en": "The model's answer did not check out against the passages, so the report's own sentence is shown.",
}
NO_SOURCES = {"ur": "اس سوال کے لیے رپورٹس میں کوئی حوالہ نہیں ملا۔", "en": "No passage in the reports answers this."}


# what went wrong, in Urdu, put before an error's own (English) sentence, which says the details
SAID_IN_URDU: dict[type[AssistantError], str] = {
    InvalidQuestionError: "یہ سوال قبول نہیں ہوا",
    IndexEmptyError: "ابھی کوئی رپورٹ نہیں",
    IndexBusyError: "رپورٹس ابھی شامل کی جا رہی ہیں؛ تھوڑی دیر بعد دوبارہ کوشش کریں",
    IndexCorruptError: "رپورٹس کا انڈیکس پڑھا نہیں جا سکا؛ منتظم کو بتائیں",
    IndexMismatchError: "انڈیکس کسی اور ماڈل سے بنا ہے؛ منتظم کو بتائیں",
    IndexPathError: "انڈیکس کا فولڈر استعمال نہیں ہو سکا؛ منتظم کو بتائیں",
    BackendUnavailableError: "جواب دینے والا ایک حصہ دستیاب نہیں؛ منتظم کو بتائیں",
    CorpusPathError: "رپورٹ کی فائل استعمال نہیں ہو سکی",
    ReportNotFoundError: "یہ رپورٹ موجود نہیں",
    SourceUnavailableError: "یہ حوالہ نہیں کھل سکا",
    ConversationNotFound: "یہ گفتگو اب موجود نہیں",
    ConversationInputError: "یہ اندراج قبول نہیں ہوا",
}


def urdu_first(exc: AssistantError) -> str:
    """An error as staff read it: Urdu first, the error's own sentence beside. A message
    already written both ways (`اردو · English`) is kept as it is."""
    message = str(exc)
    urdu, beside, _ = message.partition(" · ")
    if beside and language(urdu) == "ur":
        return message
    said = next((SAID_IN_URDU[kind] for kind in type(exc).__mro__ if kind in SAID_IN_URDU), "یہ کام نہیں ہو سکا")
    return f"{said}۔ · {message}"


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$=])")


def inert(text: str) -> str:
    """Text from a report or a user, for a Markdown chat message: every Markdown mark
    backslash-escaped (no link, image, emphasis or heading can form; `:` too, so no bare
    URL becomes a link), then HTML-escaped. The chat renders no LaTeX (`app.py`)."""
    return escape(_MARKDOWN.sub(r"\\\1", text), quote=False)


def chat_text(answer: Answer) -> str:
    """The assistant's chat message (Markdown): short answer, supporting sentences, [n] marks."""
    if answer.refused:
        return f"ℹ️ {inert(answer.answer)}"
    if answer.answerer == "llm":  # the LLM's text already carries [n] marks
        parts = [inert(answer.answer)]
        if answer.grounding and not answer.grounding.passed:
            missing = ", ".join(answer.grounding.unsupported_figures) or "citations"
            parts.append(f"⚠️ {UNVERIFIED[answer.language]}: {inert(missing)}")
        return "\n\n".join(parts)
    parts = [f"**{inert(answer.answer)}**"]
    parts += [f"«{inert(sentence)}» \\[{n}\\]" for n, sentence in enumerate(answer.supporting, start=1)]
    if answer.grounding and answer.grounding.fell_back:
        parts.append(f"<small>{FELL_BACK[answer.language]}</small>")
    return "\n\n".join(parts)


def highlight(quote: str, answer: str) -> str:
    """Escaped quote with each part of the answer (e.g. the figure) wrapped in <mark>."""
    spans = []
    for part in {p.strip() for p in answer.split("، ") if p.strip()}:
        at = quote.find(part)
        if at >= 0:
            spans.append((at, at + len(part)))
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out += [escape(quote[pos:start]), "<mark>", escape(quote[start:end]), "</mark>"]
        pos = end
    out.append(escape(quote[pos:]))
    return "".join(out)


def _link(url: str | None) -> str:
    if not url or not url.startswith(("http://", "https://")):
        return "—"
    return f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{escape(url)}</a>'


def _location(location: str | None, lang: str) -> str:
    """The page or paragraph a quote is on, in the answer's language, kept left to right."""
    if not location:
        return ""
    shown = location_label(location, lang)
    return f', <bdi class="location" data-location="{escape(location, quote=True)}">{escape(shown)}</bdi>'


def sources_html(answer: Answer, searched: str) -> str:
    lang = answer.language
    html = [f'<div class="sources" dir="auto"><p class="searched">{SEARCHED[lang]}: <bdi>{escape(searched)}</bdi></p>']
    if not answer.citations:
        html.append(f'<p class="no-sources">{NO_SOURCES[lang]}</p></div>')
        return "".join(html)
    html.append("<ol>")
    for c in answer.citations:
        html.append(
            f'<li class="source" id="source-{c.number}"><details open>'
            f'<summary><span class="num">[{c.number}]</span> <span class="title">{escape(c.title)}</span></summary>'
            f'<div class="file">{FILE[lang]}: <bdi>{escape(c.file)}</bdi>{_location(c.location, lang)}</div>'
            f'<div class="url">{SOURCE[lang]}: {_link(c.source_url)}</div>'
            f'<blockquote dir="rtl">{highlight(c.quote, answer.answer)}</blockquote></details></li>'
        )
    html.append("</ol></div>")
    return "".join(html)


def source_choices(answer: Answer) -> list[tuple[str, str]]:
    """The citations of an answer as (label, value) for the chat's «open a source» choice;
    the value carries what opening it needs (report id, offsets and the quote), as JSON."""
    return [
        (f"[{c.number}] {location_label(c.location, answer.language) or c.file}",
         json.dumps({"doc_id": c.doc_id, "start": c.start, "end": c.end, "quote": c.quote}, ensure_ascii=False))
        for c in answer.citations
    ]  # fmt: skip


def context_html(before: str, quote: str, after: str) -> str:
    """A cited passage in its paragraphs, the quote marked; everything escaped."""

    def paragraphs(text: str) -> str:
        return escape(text).replace("\n", "</p><p>")

    marked = "<mark>" + escape(quote.replace("\n", " ")) + "</mark>"
    return f'<div class="source-context" dir="auto"><p>{paragraphs(before)}{marked}{paragraphs(after)}</p></div>'


def upload_summary(report: IngestReport | None, refused: list[SkippedFile]) -> str:
    """What an upload added, replaced and refused (with why), as chat Markdown."""
    lines = []
    if report:
        for label, names in (("✅ Added · شامل", report.added), ("🔄 Updated · تازہ", report.updated),
                             ("= Unchanged · بغیر تبدیلی", report.unchanged)):  # fmt: skip
            if names:
                lines.append(f"{label}: " + ", ".join(inert(n) for n in names))
        refused = [*refused, *report.skipped]
    lines += [f"⚠️ {inert(s.path.name)}: {inert(s.reason)}" for s in refused]
    return "\n\n".join(lines) or "Nothing to add."


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


def chat_history(conversation: Conversation) -> list[dict]:
    """A saved conversation as the chat shows it: each question, then its answer."""
    messages = []
    for turn in conversation.turns:
        messages.append({"role": "user", "content": inert(turn.question)})
        messages.append({"role": "assistant", "content": chat_text(turn.answer)})
    return messages
