"""A synthetic corpus of any size, made from the seed reports' sentences, so the scale
benchmarks can be rerun by anyone (`python bench/synthetic.py OUT --reports 400`).

Each report takes a title line and 20-40 sentences drawn from the seeds, with every
figure changed at random (so reports differ and figures stay report-like), and the
seeds' `ماخذ:` line form. Deterministic for a given `--seed`."""

import argparse
import random
import re
from pathlib import Path

from assistant.chunking import sentences

ROOT = Path(__file__).resolve().parent.parent
_FIGURE = re.compile(r"\d[\d,،]*")


def seed_sentences(corpus: Path = ROOT / "corpus") -> list[str]:
    return [s.text for f in sorted(corpus.glob("*.txt")) for s in sentences(f.read_text(encoding="utf-8"))]


def make_report(rng: random.Random, pool: list[str], number: int) -> str:
    def refigure(text: str) -> str:
        return _FIGURE.sub(lambda m: f"{rng.randint(1, 99_999):,}", text)

    body = [refigure(s) for s in rng.sample(pool, rng.randint(20, 40))]
    paragraphs = [" ".join(body[i : i + 4]) for i in range(0, len(body), 4)]
    title = refigure(rng.choice(pool))[:80]
    return "\n".join([title, *paragraphs, f"ماخذ: https://example.gov.vn/report/{number}"]) + "\n"


def write_corpus(out: Path, reports: int, seed: int = 0) -> list[Path]:
    rng = random.Random(seed)
    pool = seed_sentences()
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(reports):
        path = out / f"{n // 1000:03d}" / f"report_{n:06d}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(make_report(rng, pool, n), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--reports", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_corpus(args.out, args.reports, args.seed)
    print(f"{args.reports} reports in {args.out}")


if __name__ == "__main__":
    main()
