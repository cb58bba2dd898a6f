"""Ingest time for the corpus (fresh index) and question latency over the eval
questions: the whole ask, and retrieval alone in the same run (the ratio shows what
reading costs on top of finding the passages).

python bench/speed.py [--corpus corpus] [--set evals/dev.jsonl]
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
    parser.add_argument("--set", type=Path, default=Path("evals/dev.jsonl"))
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
        times, retrieval = [], []
        for question in questions:
            started = time.perf_counter()
            assistant.retriever.invoke(question + " ")  # a new string: the query vector is not cached
            retrieval.append(time.perf_counter() - started)
            started = time.perf_counter()
            assistant.ask(question)
            times.append(time.perf_counter() - started)
    times.sort()
    retrieval.sort()
    print(f"ingest: {len(report.added)} reports, {report.chunks} chunks in {ingest_s:.1f} s")
    print(f"re-ingest (nothing changed): {len(again.unchanged)} unchanged in {reingest_s:.2f} s")
    print(
        f"query latency over {len(times)} questions: median {statistics.median(times) * 1000:.0f} ms, "
        f"p95 {times[int(0.95 * len(times)) - 1] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
    )
    print(
        f"retrieval alone: median {statistics.median(retrieval) * 1000:.0f} ms, "
        f"p95 {retrieval[int(0.95 * len(retrieval)) - 1] * 1000:.0f} ms; "
        f"ask / retrieval (median) = {statistics.median(times) / statistics.median(retrieval):.2f}"
    )


if __name__ == "__main__":
    main()
