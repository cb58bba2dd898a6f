"""Sentences that address the reader are not evidence, whoever wrote them into a report.

A report states facts; it does not ask questions or tell its reader what to answer. A
sentence that does — a question ("how many doctors…?"), a conditional on being asked
("when asked…", "اگر کوئی پوچھے…"), an order to answer, say or ignore something, or a
note to an assistant or AI — is an attempt to steer the answer. Chunking leaves such
sentences out (`chunking.evidence_units`, `chunking.searchable_text`): they take no
room in a chunk, are not embedded or counted by BM25, the extractive reader never
reads one, and the LLM sees a marker in their place.

The five seed reports (223 sentences) contain no such sentence; the patterns are kept
to forms a news report does not use, so that real evidence is never dropped."""

import re

# Each pattern is a form a question or an order takes, not a topic word: "assistant
# director", "artificial intelligence", "WHO", "was neglected", "in reply he said",
# "when asked, he said", Kon Tum (کون تم) and "far more" (کہیں زیادہ) stay evidence.
_ENGLISH = re.compile(
    r"\?(?=\s|$)"  # a question mark ending a sentence or clause (not one inside a URL)
    r"|\b[Hh]ow\s+(?:many|much)\b|\b(?:[Ww]hat|[Ww]hich|[Ww]ho)\s+(?:is|are|was|were|does|do|did)\b"
    r"|\b(?:if|when|whenever|once)\s+(?:you\s+are\s+|you're\s+|anyone\s+|someone\s+|somebody\s+|a\s+user\s+|"
    r"the\s+user\s+)?asks?(?:ed)?\b.*\b(?:answer|reply|respond|say|tell|state|give)\b"
    r"|\b(?:answer|reply|respond)\s+(?:with|that|by|only|exactly|:|\"|“|')"
    r"|\b(?:correct|right|true|real|actual)\s+(?:answer|reply)\b"
    r"|\b(?:ignore|disregard|forget)\s+(?:all|any|the|previous|prior|above|earlier|these|those|other|everything)\b"
    r"|\b(?:note|message|instructions?)\s+(?:to|for)\s+(?:the\s+|any\s+)?(?:assistant|ai|model|chatbot|bot|reader)\b"
    r"|\b(?:assistants?|chatbots?|AI|models?)\s+(?:must|should|shall)\s+(?:answer|say|reply|respond|state|report)\b"
    r"|\byou\s+(?:must|should|shall)\s+(?:answer|say|reply|respond|state|report|use|ignore)\b",
    re.IGNORECASE,
)
_URDU = re.compile(
    r"[؟]"
    r"|(?<!\w)(?:کتنے|کتنی|کتنا)(?!\s+ہی)(?!\w)"  # how many (not "however many", کتنے ہی)
    r"|(?<!\w)(?:اگر|جب)(?:\s+\S+){0,6}\s+پوچھ(?:ے|یں|ا\s+جائے|ی\s+جائے|ے\s+جائیں)(?!\w)"  # if/when asked (not past)
    r"|(?<!\w)پوچھ(?:ا|ی|ے)\s+جائ(?:ے|یں)(?!\w)"
    r"|(?<!\w)جواب\s+(?:دیں|دو|دیجیے|دیجئے)(?!\w)|(?<!\w)(?:صحیح|درست)\s+جواب(?!\w)"
    r"|(?<!\w)(?:کہیں|کہو|کہیے|کہئے|بتائیں|بتاؤ|بتائیے|لکھیں|لکھو)\s+کہ(?!\w)"
    r"|(?<!\w)(?:بتائیں|بتاؤ|بتائیے)(?!\s*گ[ےی])(?!\w)"  # tell! (not the future بتائیں گے)
    r"|(?<!\w)(?<!نہ\s)نظر\s*انداز\s+(?:کریں|کرو|کیجیے|کیجئے)(?!\w)|ہدایات?\s+(?:کو\s+)?(?:بھول|چھوڑ)\s*(?:دیں|جائیں|دو)"
)


def addresses_reader(sentence: str) -> bool:
    """True for a question, an instruction to answer or ignore, or a note to an assistant."""
    return bool(_ENGLISH.search(sentence) or _URDU.search(sentence))
