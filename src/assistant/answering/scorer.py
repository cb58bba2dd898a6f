"""The reader's fitted scorer: three logistic models (is the answer in this sentence;
is this span the answer; is the question answered in the passages at all) and the
probability below which the assistant refuses. Weights are stored by feature name,
with the embedding, the training data's hashes and the commit they were fitted under,
in `reader_weights.json`, written by `bench/fit_reader.py`; nothing here is hand-set.
Loading refuses weights fitted for other features; weights fitted under another
embedding than the index's are used with a warning in the log (refusing them would
leave a sentence-transformers index with no reader at all)."""

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from .features import (
    ANSWER_FEATURES,
    SENTENCE_FEATURES,
    SPAN_FEATURES,
    TOKEN_ANSWER_FEATURES,
    TOKEN_SENTENCE_FEATURES,
    TOKEN_SPAN_FEATURES,
    Row,
)

log = logging.getLogger(__name__)
WEIGHTS = Path(__file__).with_name("reader_weights.json")  # with token matching
PLAIN_WEIGHTS = Path(__file__).with_name("reader_weights_plain.json")  # without (no torch installed)


def feature_names(tokens: bool) -> dict[str, tuple[str, ...]]:
    """Each model's features, with or without the token-matching ones."""
    return {
        "sentence": SENTENCE_FEATURES + (TOKEN_SENTENCE_FEATURES if tokens else ()),
        "span": SPAN_FEATURES + (TOKEN_SPAN_FEATURES if tokens else ()),
        "answerable": ANSWER_FEATURES + (TOKEN_ANSWER_FEATURES if tokens else ()),
    }


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class Logistic:
    weights: dict[str, float]

    def probability(self, row: Row) -> float:
        return _sigmoid(sum(w * row[name] for name, w in self.weights.items()))


@dataclass(frozen=True)
class ReaderScorer:
    sentence: Logistic
    span: Logistic
    answerable: Logistic  # is the answer in the retrieved passages at all
    min_probability: float  # refuse when `answerable` is below this
    embedding: str | None = None  # the embedding the weights were fitted under

    @classmethod
    def load(cls, path: Path | None = None, embedding: str | None = None, tokens: bool = True) -> "ReaderScorer":
        """The fitted weights, with token matching or without; `embedding` (the index's)
        must be the one they were fitted under."""
        path = path or (WEIGHTS if tokens else PLAIN_WEIGHTS)
        data = json.loads(path.read_text(encoding="utf-8"))
        models: dict[str, Logistic] = {}
        for name, expected in feature_names(tokens).items():
            if sorted(data[name]["features"]) != sorted(expected):
                raise ValueError(f"{path}: the {name} weights were fitted for other features; run bench/fit_reader.py")
            models[name] = Logistic(dict(zip(data[name]["features"], map(float, data[name]["weights"]))))
        fitted_under = data.get("embedding")
        if embedding is not None and fitted_under != embedding:
            log.warning(
                "%s: the reader was fitted under the %r embedding and the index uses %r: its dense features are "
                "scored as if they were %r's, so answers and refusals are less sure (bench/fit_reader.py "
                "--embedding fits it for this one)", path.name, fitted_under, embedding, fitted_under,
            )  # fmt: skip
        return cls(
            sentence=models["sentence"],
            span=models["span"],
            answerable=models["answerable"],
            min_probability=float(data["min_probability"]),
            embedding=fitted_under,
        )
