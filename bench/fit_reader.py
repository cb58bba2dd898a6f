"""Fit the reader's scorer (src/assistant/answering/reader_weights.json).

Nothing here comes from evals/ or is about the reports evals/ asks about. The reader
learns on eight other reports of the same genre, written for the purpose
(`bench/train/reports/`, never in `corpus/`), and two kinds of questions about them:
- questions written by helpers who saw those reports and nothing else, with their
  answers (`bench/train/questions*.jsonl`: Urdu and natural English, who/which, counts,
  two-part questions, near misses and small talk that have no answer);
- questions the reports make themselves: a figure, date or name in a report sentence is
  replaced with `کتنے` / `کب` / `کون`, the question keeps a window of the sentence's
  words around it with some dropped (as a paraphrase drops them), and the answer is the
  span replaced. Variants that name a year or a province the report does not cover,
  or count something it does not count, have no answer (they teach refusal).

Each question goes through the real retrieval and the reader's own feature code over an
index of the training reports; three logistic models are fitted (sentence: does it hold
the answer; span: is it the answer; answerable: does the best reading answer the
question at all), cross-validated by question, and the refusal threshold is chosen on
out-of-fold answerability of the written questions. Prints the learning curve and
writes the weights by feature name, with the embedding, the data's hashes and the
commit. `assistant eval --set dev` and `--set test` then measure questions the fit
never saw, about reports it never saw.

    python bench/fit_reader.py [--synthetic 3000] [--seed 7]
"""

import argparse
import hashlib
import json
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant import Assistant, Settings
from assistant.answering.extractive import SPAN_SENTENCES, ExtractiveAnswerer, Reading
from assistant.answering.features import answer_features
from assistant.answering.scorer import PLAIN_WEIGHTS, WEIGHTS, Logistic, ReaderScorer, feature_names
from assistant.answering.spans import dates, figures, people, places
from assistant.chunking import sentence_units
from assistant.corpus import load_reports
from assistant.evaluation.matching import matches_all, matches_any
from assistant.normalize import normalize
from assistant.pipeline import to_passages

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "bench" / "train"  # the training reports and the questions written about them
# provinces none of the training reports covers
OTHER_PROVINCES = ["کوانگ نام", "این گیانگ", "کین تھو", "ہائی فونگ", "ون لونگ", "بن تھوان", "لانگ آن"]
OTHER_YEARS = ["2015", "2016", "2017", "2019", "2030"]
# general nouns for things a report might count but these do not: "how many <schools>"
OTHER_THINGS = ["اسکول", "ہسپتال", "گاڑیاں", "درخت", "کھلاڑی", "طلباء", "مریض", "سیاح", "پل", "فیکٹریاں", "ڈاکٹر"]
CHUNK_SIZE = 500  # the default index settings, which the weights are fitted for
PROVINCE_SHARE = 0.08  # made questions that also get a variant naming another province
VARIANTS = 3  # questions made around each span, each with its own window and dropped words
WRITTEN_WEIGHT = 3.0  # a written question counts three times a made one
L2 = 0.01  # ridge penalty on every weight but the bias (chosen by cross-validation: 1, 0.1, 0.01)
CONFIG = {"written_weight": WRITTEN_WEIGHT, "l2": L2}
NAMES = feature_names(tokens=True)  # each model's features: with token matching unless --plain
TOP1 = ("sentence_top1", "span_top1")  # the figures cross-validation reports


@dataclass
class Item:
    question: str
    accept: list[str]  # empty: no answer in the reports
    doc: str | None
    source: str  # "synthetic" or "written"
    form: str = "synthetic"  # a written question's form, as evals/ names them
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


def written(folder: Path) -> list[Item]:
    """The helpers' questions: `answer` holds the short answer (two parts joined by
    ` | `), empty when the reports do not say."""
    items = []
    for path in sorted(folder.glob("questions*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            q = json.loads(line)
            parts = [a.strip() for a in q["answer"].split(" | ") if a.strip()]
            form = (
                "unanswerable" if not parts else "multipart" if len(parts) > 1 else
                "english" if q["lang"] == "en" else "paraphrase"
            )  # fmt: skip
            items.append(Item(q["question"], parts, q["report"] or None, "written", form,
                              parts if len(parts) > 1 else []))  # fmt: skip
    return items


def data_hashes() -> dict[str, str]:
    """sha256 of every training file, so the weights name the data they were fitted on."""
    files = sorted(TRAIN.glob("questions*.jsonl")) + sorted((TRAIN / "reports").glob("*.txt"))
    return {str(f.relative_to(ROOT)): hashlib.sha256(f.read_bytes()).hexdigest()[:16] for f in files}


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


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
        for c, row in zip(reading.spans[i], reader.span_rows(reading, i)):
            item.span_x.append(row)
            item.span_y.append(int(matches_any(item.accept, c.text) and _close(item.accept, c.text)))


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
        ws += [CONFIG["written_weight"] if it.source == "written" else 1.0] * len(y)
    names = NAMES[kind]
    return np.array([[row[n] for n in names] for row in xs]).reshape(-1, len(names)), np.array(ys, float), np.array(ws)


def fit(items: list[Item]) -> tuple[np.ndarray, np.ndarray]:
    return fit_logistic(*_stack(items, "sentence")), fit_logistic(*_stack(items, "span"))


def _p(beta: np.ndarray, rows: list[dict[str, float]], names: tuple[str, ...]) -> np.ndarray:
    x = np.array([[row[n] for n in names] for row in rows])
    return 1 / (1 + np.exp(-np.clip(x @ beta, -30, 30))) if rows else np.array([])


def top1(items: list[Item], sent: np.ndarray, span: np.ndarray) -> dict[str, float]:
    """Among answerable questions whose answer was retrieved at all: is the most likely
    sentence a right one; is the most likely span in a right sentence the answer."""
    s_ok, s_n, p_ok, p_n = 0, 0, 0, 0
    for it in items:
        if it.accept and any(it.sentence_y):
            s_n += 1
            s_ok += it.sentence_y[int(np.argmax(_p(sent, it.sentence_x, NAMES["sentence"])))]
        if it.span_y and any(it.span_y):
            p_n += 1
            p_ok += it.span_y[int(np.argmax(_p(span, it.span_x, NAMES["span"])))]
    return {"sentence_top1": s_ok / max(1, s_n), "span_top1": p_ok / max(1, p_n)}


def folds(items: list[Item], k: int) -> list[tuple[list[Item], list[Item]]]:
    return [([it for j, it in enumerate(items) if j % k != f], items[f::k]) for f in range(k)]


MAX_REFUSED_ANSWERABLE = 0.06  # the product's target: at most 6% of answerable questions refused


def choose_threshold(items: list[Item], best: list[float]) -> tuple[float, dict[str, float]]:
    """The highest refusal threshold that still answers all but MAX_REFUSED_ANSWERABLE of
    the written answerable questions, on out-of-fold answerability probabilities: it
    refuses as many unanswerable questions as that allows."""
    dev = [(it, b) for it, b in zip(items, best) if it.source == "written"]
    answerable = sorted(b for it, b in dev if it.accept)
    unanswerable = [b for it, b in dev if not it.accept]
    t = answerable[int(MAX_REFUSED_ANSWERABLE * len(answerable))]
    return t, {
        "answered_answerable": sum(b >= t for b in answerable) / len(answerable),
        "refused_unanswerable": sum(b < t for b in unanswerable) / len(unanswerable),
    }


def _named(names: tuple[str, ...], beta) -> Logistic:
    return Logistic(dict(zip(names, map(float, beta))))


def _scorer(sent, span, answer=None) -> ReaderScorer:
    answer = answer if answer is not None else np.zeros(len(NAMES["answerable"]))
    return ReaderScorer(
        _named(NAMES["sentence"], sent), _named(NAMES["span"], span), _named(NAMES["answerable"], answer), 0.0
    )


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
    x = np.array([[r[n] for n in NAMES["answerable"]] for _, r in rows])
    y = np.array([float(bool(it.accept) and any(it.sentence_y)) for it, _ in rows])
    w = np.array([CONFIG["written_weight"] if it.source == "written" else 1.0 for it, _ in rows])
    oof = np.zeros(len(rows))
    k = 5
    for f in range(k):
        train = np.array([j % k != f for j in range(len(rows))])
        beta = fit_logistic(x[train], y[train], w[train])
        oof[~train] = 1 / (1 + np.exp(-np.clip(x[~train] @ beta, -30, 30)))
    by_item = {id(it): float(p) for (it, _), p in zip(rows, oof)}
    return fit_logistic(x, y, w), [by_item.get(id(it), 0.0) for it in items]


def answers_out_of_fold(items: list[Item], answerable: list[float], threshold: float) -> dict[str, float]:
    """End to end on the written questions, every model out of fold: the share answered
    right (a figure or name accepted as evals/ accepts it) or, for unanswerable ones,
    refused."""
    right: dict[str, list[bool]] = {}
    for it, p in zip(items, answerable):
        if it.source != "written":
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
    parser.add_argument("--written-weight", type=float, default=WRITTEN_WEIGHT, help="weight of a written question")
    parser.add_argument("--l2", type=float, default=L2, help="ridge penalty")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write no weights")
    parser.add_argument("--plain", action="store_true", help="without token matching (the weights used without torch)")
    parser.add_argument("--embedding", default=None, help="fit for another embedding backend (Settings.embedding)")
    args = parser.parse_args()
    NAMES.update(feature_names(tokens=not args.plain))
    weights = PLAIN_WEIGHTS if args.plain else WEIGHTS
    CONFIG["written_weight"] = args.written_weight
    CONFIG["l2"] = args.l2
    rng = random.Random(args.seed)
    items = synthetic(TRAIN / "reports", args.synthetic, rng) + written(TRAIN)
    rng.shuffle(items)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(corpus_dir=TRAIN / "reports", index_dir=Path(tmp) / "index", chunk_size=CHUNK_SIZE,
                            token_matching=not args.plain,
                            **({"embedding": args.embedding} if args.embedding else {}))  # fmt: skip
        assistant = Assistant(settings)
        assistant.ingest()
        embedding = assistant.index.embedding
        zero = _scorer(np.zeros(len(NAMES["sentence"])), np.zeros(len(NAMES["span"])))
        tokens = assistant.token_states
        reader = ExtractiveAnswerer(lambda: assistant.index, assistant.embeddings, CHUNK_SIZE, scorer=zero,
                                    tokens=tokens)  # fmt: skip
        for n, it in enumerate(items, 1):
            featurize(assistant, reader, it)
            if n % 500 == 0:
                print(f"featurized {n}/{len(items)}", file=sys.stderr)

        # cross-validation: sentence and span models out of fold, then answerability on their outputs
        cv = []
        for train, held in folds(items, args.folds):
            sent, span = fit(train)
            cv.append(top1([it for it in held if it.source == "written"], sent, span) | {"all": top1(held, sent, span)})
            fold_reader = ExtractiveAnswerer(lambda: assistant.index, assistant.embeddings, CHUNK_SIZE,
                                             scorer=_scorer(sent, span), tokens=tokens)  # fmt: skip
            for it in held:
                it.answer_x = answer_row(fold_reader, it)
        answer_beta, oof_answer = fit_answerable(items)
        threshold, refusal = choose_threshold(items, oof_answer)
        end_to_end = answers_out_of_fold(items, oof_answer, threshold)
    cv_written = {k: round(float(np.mean([c[k] for c in cv])), 4) for k in TOP1}
    cv_all = {k: round(float(np.mean([c["all"][k] for c in cv])), 4) for k in TOP1}

    # learning curve: fit on a growing share of the training folds, score the held-out fold
    curve = []
    for share in (0.1, 0.25, 0.5, 0.75, 1.0):
        scores = []
        for train, held in folds(items, args.folds):
            sent, span = fit(train[: max(20, int(share * len(train)))])
            scores.append(top1([it for it in held if it.source == "written"], sent, span))
        curve.append({"train_share": share, "train_questions": int(share * len(items) * (args.folds - 1) / args.folds),
                      **{k: round(float(np.mean([s[k] for s in scores])), 4) for k in TOP1}})  # fmt: skip

    sent, span = fit(items)
    # (the final models: sentence and span on everything, answerability as fitted above)
    print(json.dumps({"cv_written": cv_written, "cv_all": cv_all, "threshold": threshold, "refusal": refusal,
                      "written_answers_out_of_fold": end_to_end}, indent=1))  # fmt: skip
    for row in curve:
        print(row)
    if args.dry_run:
        return
    weights.write_text(
        json.dumps(
            {
                "fitted_by": "bench/fit_reader.py",
                "commit": commit(),
                "embedding": embedding,
                "token_matching": not args.plain,
                "data": data_hashes(),
                "seed": args.seed,
                "written_weight": args.written_weight,
                "chunk_size": CHUNK_SIZE,
                "l2": args.l2,
                "training": {
                    "synthetic_questions": sum(it.source == "synthetic" for it in items),
                    "written_questions": sum(it.source == "written" for it in items),
                    "sentence_rows": int(sum(len(it.sentence_y) for it in items)),
                    "span_rows": int(sum(len(it.span_y) for it in items)),
                },
                "cross_validation": {"folds": args.folds, "written_questions": cv_written, "all_questions": cv_all},
                "learning_curve_written": curve,
                "min_probability": threshold,
                "refusal_out_of_fold": {k: round(v, 4) for k, v in refusal.items()},
                "written_answers_out_of_fold": end_to_end,
                "sentence": {"features": list(NAMES["sentence"]), "weights": [round(float(b), 5) for b in sent]},
                "span": {"features": list(NAMES["span"]), "weights": [round(float(b), 5) for b in span]},
                "answerable": {
                    "features": list(NAMES["answerable"]),
                    "weights": [round(float(b), 5) for b in answer_beta],
                },  # fmt: skip
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"wrote {weights.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
