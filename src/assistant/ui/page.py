"""What the chat page is made of besides its handlers: the examples, the CSS and the
scripts that run in the browser, and every message staff read (Urdu first)."""

from html import escape

from ..conversations import Reason

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


REASONS: dict[str, Reason] = {  # shown -> stored with a 👎
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
