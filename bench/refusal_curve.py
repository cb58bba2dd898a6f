"""The refusal trade-off on a question set: for each refusal threshold on the reader's
answerability probability (`Answer.evidence`), the share of answerable questions
refused, of unanswerable ones refused, and of answerable ones answered right. Every
question is answered once with the threshold at 0, so the curve costs one eval run.
Small talk is refused whatever the threshold (it gets its short reply).

    python bench/refusal_curve.py --index DIR [--set dev] [--choose 0.06]

`--choose` prints the highest threshold that refuses at most that share of the
answerable questions (the product's target is 6%), and what calibrating on the set
would give out of fold: each half of the set at the threshold chosen on the other half.
The reader's own threshold is fitted on the training questions (`bench/fit_reader.py`).
"""

import argparse
from pathlib import Path

from assistant import Assistant, Settings
from assistant.evaluation import load_set
from assistant.evaluation.scoring import score_item

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--set", default="dev")
    parser.add_argument("--choose", type=float, default=0.06, help="most answerable questions refused")
    args = parser.parse_args()
    assistant = Assistant(Settings(index_dir=args.index, min_evidence=0.0))
    rows = []  # (answerable, evidence, right when answered, small talk)
    for item in load_set(ROOT / "evals" / f"{args.set}.jsonl"):
        answer = assistant.ask(item.question)
        result = score_item(item, answer, 0.0)
        rows.append((item.answerable, answer.evidence, bool(result.answer_ok), answer.answerer == "small talk"))
    answerable = [r for r in rows if r[0]]
    print(f"{args.set}: {len(answerable)} answerable, {len(rows) - len(answerable)} unanswerable")
    print("| threshold | answerable refused | unanswerable refused | answer accuracy |\n|---|---|---|---|")
    for t in [x / 100 for x in range(0, 100, 2)]:
        print("| {:.2f} | {:.3f} | {:.3f} | {:.3f} |".format(t, *at(rows, t)))
    chosen = choose(rows, args.choose)
    print(f"highest threshold refusing at most {args.choose:.0%} of answerable questions: {chosen:.3f}")
    # out of fold: each half of the set scored at the threshold chosen on the other half
    halves = rows[0::2], rows[1::2]
    held = [at(h, choose(other, args.choose)) for h, other in zip(halves, halves[::-1])]
    answerable_n = [sum(r[0] for r in h) for h in halves]
    unanswerable_n = [len(h) - n for h, n in zip(halves, answerable_n)]

    def pooled(k: int, counts: list[int]) -> float:  # figure k of `at` over both halves
        return sum(figures[k] * n for figures, n in zip(held, counts)) / max(sum(counts), 1)

    print(
        f"out of fold (two halves): answerable refused {pooled(0, answerable_n):.3f}, "
        f"unanswerable refused {pooled(1, unanswerable_n):.3f}, answers right {pooled(2, answerable_n):.3f}"
    )


def at(rows, t: float) -> tuple[float, float, float]:
    """Answerable refused, unanswerable refused (small talk always is), answerable
    answered right, at threshold `t`."""
    answerable = [r for r in rows if r[0]] or [(True, 1.0, False, False)]
    unanswerable = [r for r in rows if not r[0]] or [(False, 0.0, False, False)]
    return (sum(e < t for _, e, _, _ in answerable) / len(answerable),
            sum(e < t or small for _, e, _, small in unanswerable) / len(unanswerable),
            sum(e >= t and ok for _, e, ok, _ in answerable) / len(answerable))  # fmt: skip


def choose(rows, most_refused: float) -> float:
    """The highest threshold (steps of .005) refusing at most `most_refused` of the answerable."""
    return max(t / 200 for t in range(200) if at(rows, t / 200)[0] <= most_refused)


if __name__ == "__main__":
    main()
