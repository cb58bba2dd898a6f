"""Ingest time for the corpus (fresh index) and query latency over the eval questions.

python bench/speed.py [--corpus corpus] [--set evals/questions.jsonl]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from assistant import Assistant, Settings
from assistant.evaluation import load_set


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--set", type=Path, default=Path("evals/questions.jsonl"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant(Settings(corpus_dir=args.corpus, index_dir=Path(tmp) / "index"))
        started = time.perf_counter()
        report = assistant.ingest()
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        again = assistant.ingest()
        reingest_s = time.perf_counter() - started
        questions = [item.question for item in load_set(args.set)]
        assistant.ask(questions[0])  # first query opens BM25 and warms caches
        times = []
        for question in questions:
            started = time.perf_counter()
            assistant.ask(question)
            times.append(time.perf_counter() - started)
    times.sort()
    print(f"ingest: {len(report.added)} reports, {report.chunks} chunks in {ingest_s:.1f} s")
    print(f"re-ingest (nothing changed): {len(again.unchanged)} unchanged in {reingest_s:.2f} s")
    print(
        f"query latency over {len(times)} questions: median {statistics.median(times) * 1000:.0f} ms, "
        f"p95 {times[int(0.95 * len(times)) - 1] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
