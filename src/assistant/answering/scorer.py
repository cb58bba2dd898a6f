"""The reader's fitted scorer: three logistic models (is the answer in this sentence;
is this span the answer; is the question answered in the passages at all) and the
probability below which the assistant refuses. Weights,
the feature names they were fitted for and the numbers the fit reached live in
`reader_weights.json`, written by `bench/fit_reader.py`; nothing here is hand-set."""

import json
import math
from dataclasses import dataclass
from pathlib import Path

from .features import ANSWER_FEATURES, SENTENCE_FEATURES, SPAN_FEATURES

WEIGHTS = Path(__file__).with_name("reader_weights.json")


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class Logistic:
    weights: tuple[float, ...]

    def probability(self, row: list[float]) -> float:
        return _sigmoid(sum(w * x for w, x in zip(self.weights, row)))


@dataclass(frozen=True)
class ReaderScorer:
    sentence: Logistic
    span: Logistic
    answerable: Logistic  # is the answer in the retrieved passages at all
    min_probability: float  # refuse when `answerable` is below this

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> "ReaderScorer":
        data = json.loads(path.read_text(encoding="utf-8"))
        for name, expected in (
            ("sentence", SENTENCE_FEATURES),
            ("span", SPAN_FEATURES),
            ("answerable", ANSWER_FEATURES),
        ):
            if tuple(data[name]["features"]) != expected:
                raise ValueError(f"{path}: the {name} weights were fitted for other features; run bench/fit_reader.py")
        return cls(
            Logistic(tuple(data["sentence"]["weights"])),
            Logistic(tuple(data["span"]["weights"])),
            Logistic(tuple(data["answerable"]["weights"])),
            float(data["min_probability"]),
        )
