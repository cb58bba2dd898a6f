"""Greetings, thanks and questions about the assistant itself get a short reply saying
what it can do, never a cited "answer" (a page footer is not a reply to "hello").

A line is small talk when every word in it is a word of greeting, thanks, farewell or
politeness (`hello`, `thanks a lot`, `السلام علیکم`, `بہت شکریہ`), or when it asks who
the assistant is or what it can do. A line that also asks about anything else ("hi,
how many schools opened?") goes to the reader as usual. The word lists are a general
phrasebook of both languages, written without reference to any eval question."""

import re

from .normalize import normalize

_POLITE_EN = set(
    """hi hello hey hiya greetings morning afternoon evening day good thanks thank you thx ty cheers
    appreciated appreciate much very so lot a bye goodbye see later ok okay great nice cool fine
    please welcome sir madam dear there all everyone friend yes no yeah how are doing what's whats up
    sup yo salam salaam assalamu alaikum assalam o aoa walaikum shukriya khuda hafiz allah and""".split()
)
_POLITE_UR = {
    normalize(w)
    for w in """السلام علیکم اسلام علیکم سلام وعلیکم آداب ہیلو ہائے شکریہ بہت بہت مہربانی نوازش جزاک اللہ
    خدا حافظ اللہ الوداع صبح بخیر شب بخیر شام دن کیا حال ہے ہیں آپ کیسے کیسی ٹھیک اچھا جی ہاں نہیں جناب
    صاحب محترم دوست اور""".split()
}
_ABOUT_ASSISTANT = re.compile(
    r"\bwho (?:are|r) (?:you|u)\b|\bwhat (?:are|r) (?:you|u)\b|\bwhat (?:can|do|could) (?:you|u) do\b|"
    r"\bhow (?:can|could|do) (?:you|u) help\b|\bare (?:you|u) (?:a |an )?(?:bot|robot|human|machine|ai|person)\b|"
    r"\bwhat(?:'s| is) your name\b|\bwhat can i ask\b|\bhow does this (?:work|tool work)\b|^\s*help\s*[?!.]*$|"
    r"آپ کون ہیں|تم کون ہو|آپ کیا کر سکتے|تم کیا کر سکتے|آپ کیا کرتے ہیں|آپ کا نام کیا|تمہارا نام کیا|"
    r"میں کیا پوچھ سکتا|میں کیا پوچھ سکتی|آپ کیسے مدد|آپ میری کیا مدد|^\s*مدد\s*[؟?!۔]*$",
    re.I,
)
_THANKS = re.compile(r"\bthank|\bthx\b|\bty\b|\bcheers\b|appreciate|شکریہ|مہربانی|نوازش|جزاک", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:'[a-z]+)?", re.I)

REPLIES = {
    "en": "I answer questions about the reports in this library: figures, dates, names, places and "
    "offices, each answer with a citation to the report it comes from. Ask, for example, how many "
    "people something reached, or who chaired a conference.",
    "ur": "میں اس ذخیرے کی رپورٹس کے بارے میں سوالوں کے جواب دیتا ہوں: اعداد، تاریخیں، نام، مقامات اور "
    "محکمے، ہر جواب کے ساتھ اس رپورٹ کا حوالہ جس سے وہ لیا گیا۔ مثلاً پوچھیں کہ کسی کانفرنس کی صدارت کس نے کی، "
    "یا کسی کام سے کتنے لوگوں کو فائدہ ہوا۔",
}
THANKS = {"en": "You're welcome. ", "ur": "آپ کا شکریہ۔ "}


def is_small_talk(question: str) -> bool:
    """Only greetings, thanks and politeness, or a question about the assistant itself."""
    if _ABOUT_ASSISTANT.search(question):
        return True
    words = _WORD.findall(question)
    if not words or any(ch.isdigit() for ch in question):
        return False
    return all(w.lower() in _POLITE_EN or normalize(w) in _POLITE_UR for w in words)


def small_talk_reply(question: str, language: str) -> str | None:
    """The short reply to small talk, in the asker's language; None for a real question."""
    if not is_small_talk(question):
        return None
    lang = "ur" if language == "ur" else "en"
    return (THANKS[lang] if _THANKS.search(question) else "") + REPLIES[lang]
