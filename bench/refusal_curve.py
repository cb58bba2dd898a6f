"""The refusal trade-off on a question set: for each refusal threshold on the reader's
answerability probability (`Answer.evidence`), the share of answerable questions
refused, of unanswerable ones refused, and of answerable ones answered right. Every
question is answered once with the threshold at 0, so the curve costs one eval run.
Small talk is refused whatever the threshold (it gets its short reply).

    python bench/refusal_curve.py --index DIR [--set dev] [--choose 0.06]

`--choose` prints the highest threshold that refuses at most that share of the
answerable questions: the product's target is 6%.
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
    unanswerable = [r for r in rows if not r[0]]
    print(f"{args.set}: {len(answerable)} answerable, {len(unanswerable)} unanswerable")
    print("| threshold | answerable refused | unanswerable refused | answer accuracy |\n|---|---|---|---|")
    chosen = 0.0
    for t in [x / 100 for x in range(0, 100, 2)]:
        refused_a = sum(e < t for _, e, _, _ in answerable) / len(answerable)
        refused_u = sum(e < t or small for _, e, _, small in unanswerable) / len(unanswerable)
        right = sum(e >= t and ok for _, e, ok, _ in answerable) / len(answerable)
        if refused_a <= args.choose:
            chosen = t
        print(f"| {t:.2f} | {refused_a:.3f} | {refused_u:.3f} | {right:.3f} |")
    print(f"highest threshold refusing at most {args.choose:.0%} of answerable questions: {chosen:.2f}")


if __name__ == "__main__":
    main()
