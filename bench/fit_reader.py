"""Fit the reader's scorer (src/assistant/answering/reader_weights.json).

Training questions come from two places, never from the test split:
- questions the reports make themselves: a figure, date or name in a report sentence is
  replaced with `کتنے` / `کب` / `کون`, the question keeps a window of the sentence's
  words around it with some dropped (as a paraphrase drops them), and the answer is the
  span replaced. Variants that name a year or a province the report does not cover,
  or count something it does not count, have no answer (they teach refusal);
- the `dev` split of evals/ (real paraphrased Urdu and English questions).

Each question goes through the real retrieval and the reader's own feature code; three
logistic models are fitted (sentence: does it hold the answer; span: is it the answer;
answerable: does the best reading answer the question at all), cross-validated by
question, and the refusal threshold is chosen on out-of-fold answerability. Prints the
learning curve and writes the weights with the numbers. The variants made from one
report span fall in different folds, so the synthetic figures are optimistic; the dev
figures are the ones to read.

    python bench/fit_reader.py [--synthetic 3000] [--seed 7]
"""

import argparse
import json
import random
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant import Assistant, Settings
from assistant.answering.extractive import SPAN_SENTENCES, ExtractiveAnswerer, Reading
from assistant.answering.features import ANSWER_FEATURES, SENTENCE_FEATURES, SPAN_FEATURES, answer_features
from assistant.answering.scorer import WEIGHTS, Logistic, ReaderScorer
from assistant.answering.spans import dates, figures, people, places
from assistant.chain import to_passages
from assistant.chunking import sentence_units
from assistant.corpus import load_reports
from assistant.evaluation import load_set
from assistant.evaluation.matching import matches_all, matches_any
from assistant.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
OTHER_PROVINCES = ["کوانگ نام", "تھان ہوا", "ڈاک لک", "این گیانگ", "کین تھو", "ہائی فونگ", "بن ڈنہ"]
OTHER_YEARS = ["2015", "2016", "2017", "2019", "2030"]
# general nouns for things a report might count but these do not: "how many <schools>"
OTHER_THINGS = ["اسکول", "ہسپتال", "گاڑیاں", "درخت", "کھلاڑی", "طلباء", "مریض", "سیاح", "پل", "فیکٹریاں", "ڈاکٹر"]
CHUNK_SIZE = 500  # the default index settings, which the weights are fitted for
PROVINCE_SHARE = 0.08  # made questions that also get a variant naming another province
VARIANTS = 3  # questions made around each span, each with its own window and dropped words
DEV_WEIGHT = 3.0  # a real question counts three times a made one
L2 = 0.01  # ridge penalty on every weight but the bias (chosen by cross-validation: 1, 0.1, 0.01)
CONFIG = {"dev_weight": DEV_WEIGHT, "l2": L2}
TOP1 = ("sentence_top1", "span_top1")  # the figures cross-validation reports


@dataclass
class Item:
    question: str
    accept: list[str]  # empty: no answer in the reports
    doc: str | None
    source: str  # "synthetic" or "dev"
    form: str = "synthetic"  # the eval form of a dev question
    require_all: list[str] = field(default_factory=list)
    reading: Reading | None = None
    said: str | None = None  # the out-of-fold reader's answer, before refusal
    answer_x: list[float] | None = None
    sentence_x: list[list[float]] = field(default_factory=list)
    sentence_y: list[int] = field(default_factory=list)
    span_x: list[list[float]] = field(default_factory=list)
    span_y: list[int] = field(default_factory=list)


# --- questions the reports make -------------------------------------------------------
def _question_around(sentence: str, start: int, end: int, word: str, rng: random.Random) -> str:
    before = sentence[:start].split()[-rng.randint(3, 8) :]
    after = sentence[end:].split()[: rng.randint(3, 8)]
    keep = [w for w in before if rng.random() > 0.25] + [word] + [w for w in after if rng.random() > 0.25]
    return " ".join(keep).strip(" ،,۔.") + "؟"


def synthetic(corpus: Path, n: int, rng: random.Random) -> list[Item]:
    made: list[Item] = []
    for report in load_reports([corpus], corpus)[0]:
        for unit in sentence_units(report.text, CHUNK_SIZE):
            s = unit.text
            for finder, word in ((figures, "کتنے"), (dates, "کب"), (people, "کون")):
                for c in [c for c in finder(s) for _ in range(VARIANTS)]:
                    q = _question_around(s, c.start, c.end, word, rng)
                    made.append(Item(q, [c.text], report.doc_id, "synthetic"))
                    years = re.findall(r"(?<!\d)20\d\d(?!\d)", q)
                    if years and rng.random() < 0.5:  # the same question about a year the report does not cover
                        made.append(Item(q.replace(years[0], rng.choice(OTHER_YEARS)), [], None, "synthetic"))
                    elif (where := places(q)) and rng.random() < 0.5:  # ... or about another province
                        p = where[0]
                        made.append(
                            Item(q[: p.start] + rng.choice(OTHER_PROVINCES) + q[p.end :], [], None, "synthetic")
                        )
                    elif word == "کتنے" and (after := q.split(word, 1)[1].split()) and rng.random() < 0.5:
                        # ... or counting something the report does not count
                        asked = f"{word} {rng.choice(OTHER_THINGS)} " + " ".join(after[1:])
                        made.append(Item(q.split(word, 1)[0] + asked, [], None, "synthetic"))
                    if rng.random() < PROVINCE_SHARE:  # ... or asked of a province that is not the report's
                        made.append(Item(f"{rng.choice(OTHER_PROVINCES)} صوبے میں {q}", [], None, "synthetic"))
    rng.shuffle(made)
    return made[:n]


# --- features and labels --------------------------------------------------------------
def featurize(assistant: Assistant, reader: ExtractiveAnswerer, item: Item) -> None:
    passages = to_passages(assistant.retriever.invoke(item.question))
    reading = reader.read(item.question, passages)
    item.reading = reading
    for s, row in zip(reading.sentences, reading.sentence_rows):
        doc = passages[s.passage].doc_id
        item.sentence_x.append(row)
        item.sentence_y.append(int(bool(item.accept) and doc == item.doc and matches_any(item.accept, s.span.text)))
    for i, label in enumerate(item.sentence_y):
        if not label or not reading.spans[i]:
            continue
        for c, row in zip(reading.spans[i], _span_rows(reader, reading, i)):
            item.span_x.append(row)
            item.span_y.append(int(matches_any(item.accept, c.text) and _close(item.accept, c.text)))


def _span_rows(reader: ExtractiveAnswerer, reading, i: int) -> list[list[float]]:
    from assistant.answering.features import span_features

    return span_features(reading.question, reading.sentences[i].span.text, reading.spans[i], reader._index().bm25.idf)


def _close(accept: list[str], text: str) -> bool:
    """A span is the answer when it is not much longer than an accepted answer (a whole
    clause that merely contains the figure is not the short answer)."""
    return any(len(normalize(text)) <= 2 * len(normalize(a)) + 12 for a in accept)


# --- logistic regression (L2, Newton steps) -------------------------------------------
def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    beta = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], CONFIG["l2"])
    penalty[0] = 1e-6  # the bias is not shrunk
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(x @ beta, -30, 30)))
        grad = x.T @ (w * (p - y)) + penalty * beta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def _stack(items: list[Item], kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, ws = [], [], []
    for it in items:
        x, y = (it.sentence_x, it.sentence_y) if kind == "sentence" else (it.span_x, it.span_y)
        xs += x
        ys += y
        ws += [CONFIG["dev_weight"] if it.source == "dev" else 1.0] * len(y)
    width = len(SENTENCE_FEATURES if kind == "sentence" else SPAN_FEATURES)
    return np.array(xs).reshape(-1, width), np.array(ys, float), np.array(ws)


def fit(items: list[Item]) -> tuple[np.ndarray, np.ndarray]:
    return fit_logistic(*_stack(items, "sentence")), fit_logistic(*_stack(items, "span"))


def _p(beta: np.ndarray, rows: list[list[float]]) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(np.array(rows) @ beta, -30, 30))) if rows else np.array([])


def top1(items: list[Item], sent: np.ndarray, span: np.ndarray) -> dict[str, float]:
    """Among answerable questions whose answer was retrieved at all: is the most likely
    sentence a right one; is the most likely span in a right sentence the answer."""
    s_ok, s_n, p_ok, p_n = 0, 0, 0, 0
    for it in items:
        if it.accept and any(it.sentence_y):
            s_n += 1
            s_ok += it.sentence_y[int(np.argmax(_p(sent, it.sentence_x)))]
        if it.span_y and any(it.span_y):
            p_n += 1
            p_ok += it.span_y[int(np.argmax(_p(span, it.span_x)))]
    return {"sentence_top1": s_ok / max(1, s_n), "span_top1": p_ok / max(1, p_n)}


def folds(items: list[Item], k: int) -> list[tuple[list[Item], list[Item]]]:
    return [([it for j, it in enumerate(items) if j % k != f], items[f::k]) for f in range(k)]


MAX_REFUSED_ANSWERABLE = 0.05  # the product's target: at most 5% of answerable questions refused


def choose_threshold(items: list[Item], best: list[float]) -> tuple[float, dict[str, float]]:
    """The highest refusal threshold that still answers all but MAX_REFUSED_ANSWERABLE of
    the real (dev) answerable questions, on out-of-fold answerability probabilities: it
    refuses as many unanswerable questions as that allows."""
    dev = [(it, b) for it, b in zip(items, best) if it.source == "dev"]
    answerable = sorted(b for it, b in dev if it.accept)
    unanswerable = [b for it, b in dev if not it.accept]
    t = answerable[int(MAX_REFUSED_ANSWERABLE * len(answerable))]
    return t, {
        "dev_answered_answerable": sum(b >= t for b in answerable) / len(answerable),
        "dev_refused_unanswerable": sum(b < t for b in unanswerable) / len(unanswerable),
    }


def _scorer(sent, span, answer=None) -> ReaderScorer:
    answer = answer if answer is not None else np.zeros(len(ANSWER_FEATURES))
    return ReaderScorer(Logistic(tuple(sent)), Logistic(tuple(span)), Logistic(tuple(answer)), 0.0)


def answer_row(reader: ExtractiveAnswerer, it: Item) -> list[float] | None:
    """The answerability features the reader computes at question time, with its scorer;
    records what the reader would answer (`it.said`)."""
    r = it.reading
    if not r.sentences:
        return None
    r.sentence_probs = [reader.scorer.sentence.probability(x) for x in r.sentence_rows]
    ranked = sorted(range(len(r.sentences)), key=r.sentence_probs.__getitem__, reverse=True)
    _, it.said, span_p = reader._short_answer(r, ranked[:SPAN_SENTENCES])
    return answer_features(r.question, r.sentences[ranked[0]], r.sentence_rows, r.sentence_probs, ranked[0], span_p)


def fit_answerable(items: list[Item]) -> tuple[np.ndarray, list[float]]:
    """Answerability model on out-of-fold reader outputs; returns the model fitted on
    all rows and every item's out-of-fold answerability probability."""
    rows = [(it, it.answer_x) for it in items if it.answer_x is not None]
    x = np.array([r for _, r in rows])
    y = np.array([float(bool(it.accept) and any(it.sentence_y)) for it, _ in rows])
    w = np.array([CONFIG["dev_weight"] if it.source == "dev" else 1.0 for it, _ in rows])
    oof = np.zeros(len(rows))
    k = 5
    for f in range(k):
        train = np.array([j % k != f for j in range(len(rows))])
        beta = fit_logistic(x[train], y[train], w[train])
        oof[~train] = 1 / (1 + np.exp(-np.clip(x[~train] @ beta, -30, 30)))
    by_item = {id(it): float(p) for (it, _), p in zip(rows, oof)}
    return fit_logistic(x, y, w), [by_item.get(id(it), 0.0) for it in items]


def answers_out_of_fold(items: list[Item], answerable: list[float], threshold: float) -> dict[str, float]:
    """End to end on the dev questions, every model out of fold: the share answered
    right (a figure or name the eval accepts) or, for unanswerable ones, refused. This is
    what `assistant eval --set dev` would give for questions the fit never saw."""
    right: dict[str, list[bool]] = {}
    for it, p in zip(items, answerable):
        if it.source != "dev":
            continue
        answered = it.said is not None and p >= threshold
        if not it.accept:
            ok = not answered
        elif it.require_all:
            ok = answered and matches_all(it.require_all, it.said)
        else:
            ok = answered and matches_any(it.accept, it.said)
        right.setdefault(it.form, []).append(ok)
        right.setdefault("all", []).append(ok)
    return {form: round(sum(v) / len(v), 4) for form, v in sorted(right.items())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--dev-weight", type=float, default=DEV_WEIGHT, help="weight of a dev question's rows")
    parser.add_argument("--l2", type=float, default=L2, help="ridge penalty")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write no weights")
    args = parser.parse_args()
    CONFIG["dev_weight"] = args.dev_weight
    CONFIG["l2"] = args.l2
    rng = random.Random(args.seed)
    items = synthetic(ROOT / "corpus", args.synthetic, rng)
    items += [Item(e.question, e.accept, e.gold_doc, "dev", e.form, e.require_all)
              for e in load_set(ROOT / "evals" / "dev.jsonl")]  # fmt: skip
    rng.shuffle(items)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(corpus_dir=ROOT / "corpus", index_dir=Path(tmp) / "index", chunk_size=CHUNK_SIZE)
        assistant = Assistant(settings)
        assistant.ingest()
        zero = _scorer(np.zeros(len(SENTENCE_FEATURES)), np.zeros(len(SPAN_FEATURES)))
        reader = ExtractiveAnswerer(lambda: assistant.index, assistant.embeddings, CHUNK_SIZE, scorer=zero)
        for n, it in enumerate(items, 1):
            featurize(assistant, reader, it)
            if n % 500 == 0:
                print(f"featurized {n}/{len(items)}", file=sys.stderr)

        # cross-validation: sentence and span models out of fold, then answerability on their outputs
        cv = []
        for train, held in folds(items, args.folds):
            sent, span = fit(train)
            cv.append(top1([it for it in held if it.source == "dev"], sent, span) | {"all": top1(held, sent, span)})
            fold_reader = ExtractiveAnswerer(lambda: assistant.index, assistant.embeddings, CHUNK_SIZE,
                                             scorer=_scorer(sent, span))  # fmt: skip
            for it in held:
                it.answer_x = answer_row(fold_reader, it)
        answer_beta, oof_answer = fit_answerable(items)
        threshold, refusal = choose_threshold(items, oof_answer)
        end_to_end = answers_out_of_fold(items, oof_answer, threshold)
    cv_dev = {k: round(float(np.mean([c[k] for c in cv])), 4) for k in ("sentence_top1", "span_top1")}
    cv_all = {k: round(float(np.mean([c["all"][k] for c in cv])), 4) for k in ("sentence_top1", "span_top1")}

    # learning curve: fit on a growing share of the training folds, score the held-out fold
    curve = []
    for share in (0.1, 0.25, 0.5, 0.75, 1.0):
        scores = []
        for train, held in folds(items, args.folds):
            sent, span = fit(train[: max(20, int(share * len(train)))])
            scores.append(top1([it for it in held if it.source == "dev"], sent, span))
        curve.append({"train_share": share, "train_questions": int(share * len(items) * (args.folds - 1) / args.folds),
                      **{k: round(float(np.mean([s[k] for s in scores])), 4) for k in TOP1}})  # fmt: skip

    sent, span = fit(items)
    # (the final models: sentence and span on everything, answerability as fitted above)
    print(json.dumps({"cv_dev": cv_dev, "cv_all": cv_all, "threshold": threshold, "refusal": refusal,
                      "dev_answers_out_of_fold": end_to_end}, indent=1))  # fmt: skip
    for row in curve:
        print(row)
    if args.dry_run:
        return
    WEIGHTS.write_text(
        json.dumps(
            {
                "fitted_by": "bench/fit_reader.py",
                "seed": args.seed,
                "dev_weight": args.dev_weight,
                "chunk_size": CHUNK_SIZE,
                "l2": args.l2,
                "training": {
                    "synthetic_questions": sum(it.source == "synthetic" for it in items),
                    "dev_questions": sum(it.source == "dev" for it in items),
                    "sentence_rows": int(sum(len(it.sentence_y) for it in items)),
                    "span_rows": int(sum(len(it.span_y) for it in items)),
                },
                "cross_validation": {"folds": args.folds, "dev_questions": cv_dev, "all_questions": cv_all},
                "learning_curve_dev": curve,
                "min_probability": threshold,
                "refusal_out_of_fold": {k: round(v, 4) for k, v in refusal.items()},
                "dev_answers_out_of_fold": end_to_end,
                "sentence": {"features": list(SENTENCE_FEATURES), "weights": [round(float(b), 5) for b in sent]},
                "span": {"features": list(SPAN_FEATURES), "weights": [round(float(b), 5) for b in span]},
                "answerable": {"features": list(ANSWER_FEATURES), "weights": [round(float(b), 5) for b in answer_beta]},
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"wrote {WEIGHTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
