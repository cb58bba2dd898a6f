"""Ingest time for the corpus (fresh index) and question latency over the eval
questions: the whole ask, and within it the time spent retrieving and the time spent
reading (`Answer.retrieve_ms`, `Answer.answer_ms`); and retrieval alone in the same run.
`--no-tokens` measures without token matching (the reader before it, or without torch).

python bench/speed.py [--corpus corpus] [--set evals/dev.jsonl] [--no-tokens]
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
    parser.add_argument("--no-tokens", action="store_true", help="without token matching")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(corpus_dir=args.corpus, index_dir=Path(tmp) / "index", token_matching=not args.no_tokens)
        assistant = Assistant(settings)
        assistant.token_states  # noqa: B018 - the encoder is loaded (or built) before the ingest is timed
        started = time.perf_counter()
        report = assistant.ingest()
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        again = assistant.ingest()
        reingest_s = time.perf_counter() - started
        questions = [item.question for item in load_set(args.set)]
        assistant.ask(questions[0])  # first query opens BM25 and warms caches
        times, retrieval, inside = [], [], []
        for question in questions:
            started = time.perf_counter()
            assistant.retriever.invoke(question + " ")  # a new string: the query vector is not cached
            retrieval.append(time.perf_counter() - started)
            started = time.perf_counter()
            answer = assistant.ask(question)
            times.append(time.perf_counter() - started)
            inside.append((answer.retrieve_ms, answer.answer_ms))
    times.sort()
    retrieval.sort()
    retrieve_ms = sorted(r for r, _ in inside)
    read_ms = sorted(a for _, a in inside)
    print(f"token matching: {'off' if args.no_tokens else 'on'}")
    print(f"ingest: {len(report.added)} reports, {report.chunks} chunks in {ingest_s:.1f} s "
          f"({ingest_s / max(1, report.chunks) * 1000:.0f} ms a chunk)")  # fmt: skip
    print(f"re-ingest (nothing changed): {len(again.unchanged)} unchanged in {reingest_s:.2f} s")
    print(
        f"query latency over {len(times)} questions: median {statistics.median(times) * 1000:.0f} ms, "
        f"p95 {times[int(0.95 * len(times)) - 1] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
    )
    print(
        f"within the ask: retrieving median {statistics.median(retrieve_ms):.0f} ms, "
        f"p95 {retrieve_ms[int(0.95 * len(retrieve_ms)) - 1]:.0f} ms; reading median "
        f"{statistics.median(read_ms):.0f} ms, p95 {read_ms[int(0.95 * len(read_ms)) - 1]:.0f} ms"
    )
    print(
        f"retrieval alone: median {statistics.median(retrieval) * 1000:.0f} ms, "
        f"p95 {retrieval[int(0.95 * len(retrieval)) - 1] * 1000:.0f} ms; "
        f"ask / retrieval (median) = {statistics.median(times) / statistics.median(retrieval):.2f}"
    )


if __name__ == "__main__":
    main()
