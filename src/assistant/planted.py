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

_ENGLISH = (
    r"[?]"
    r"|\b(?:how\s+(?:many|much)|what|who|whom|which|when|where|why)\b"
    r"|\b(?:if|when|whenever|once)\s+(?:you\s+are\s+|you're\s+|it\s+is\s+)?asked\b"
    r"|\basks?\s+(?:you|about|for|how|what|who)\b"
    r"|\b(?:answer|reply|respond|say|state|tell|write|report|output|print)\s+(?:with|that|by|only|exactly|:|\"|“|')"
    r"|\b(?:correct|right|true|real|actual)\s+(?:answer|figure|number|reply)\b"
    r"|\b(?:ignore|disregard|forget|override)\b"
    r"|\b(?:assistant|chatbot|bot|ai|a\.i\.|language\s+model|llm|gpt|reader)\b"
    r"|\byou\s+(?:must|should|shall|need\s+to|have\s+to|will)\b"
)
_URDU = (
    r"[؟]"
    r"|(?<!\w)(?:کتنے|کتنی|کتنا|کون|کونسا|کونسی|کونسے|کب|کہاں|کیوں|کیسے|کس)(?!\w)"
    r"|(?<!\w)(?:اگر|جب|جیسے\s+ہی)(?:\s+\S+){0,5}\s+پوچھ|پوچھ(?:ا|ی|ے)\s+جائ|سوال\s+(?:کیا\s+جائ|کرے|کریں)"
    r"|جواب\s+(?:دیں|دو|دیجیے|دیجئے|دینا\s+ہے|یہ|میں\s+(?:کہ|لکھ|بتا))|(?:صحیح|درست|اصل)\s+جواب"
    r"|(?<!\w)(?:بتائیں|بتاؤ|بتائیے|بتانا|کہیں|کہو|کہیے|کہئے|لکھیں|لکھو)(?!\w)"
    r"|نظر\s*انداز|ہدایات?\s+(?:کو\s+)?(?:بھول|چھوڑ)"
    r"|(?<!\w)(?:اسسٹنٹ|اے\s*آئی|چیٹ\s*بوٹ|مصنوعی\s+ذہانت|آپ\s+کو|آپ\s+سے|تم)(?!\w)"
)
_ADDRESSES_READER = re.compile(f"{_ENGLISH}|{_URDU}", re.IGNORECASE)


def addresses_reader(sentence: str) -> bool:
    """True for a question, an instruction to answer or ignore, or a note to an assistant."""
    return bool(_ADDRESSES_READER.search(sentence))
