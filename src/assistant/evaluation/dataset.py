"""Question sets: JSONL files in `evals/`, one question per line, reviewable by hand."""

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError, model_validator

FORMS = ("verbatim", "paraphrase", "english", "multipart", "unanswerable")


class EvalItem(BaseModel):
    id: str
    form: str
    language: str
    question: str
    accept: list[str]
    require_all: list[str] = []
    gold_doc: str | None
    gold_passage: str | None

    @property
    def answerable(self) -> bool:
        return self.form != "unanswerable"

    @model_validator(mode="after")
    def _consistent(self) -> "EvalItem":
        if self.form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, got {self.form!r}")
        if self.answerable and not (self.accept and self.gold_doc and self.gold_passage):
            raise ValueError("an answerable question needs accept, gold_doc and gold_passage")
        if not self.answerable and (self.accept or self.gold_doc):
            raise ValueError("an unanswerable question has no accepted answers or gold document")
        return self


def load_set(path: Path) -> list[EvalItem]:
    if not path.exists():
        raise FileNotFoundError(f"question set not found: {path}")
    items: list[EvalItem] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(EvalItem(**json.loads(line)))
        except (json.JSONDecodeError, ValidationError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    if not items:
        raise ValueError(f"{path} holds no questions; an empty set would pass every threshold")
    ids = [i.id for i in items]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: duplicate question ids")
    return items
