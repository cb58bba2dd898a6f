"""Embedding throughput at ingest: chunks/s of the e5-small-q4 backend on the seed
reports' chunks, for several batch sizes and OpenMP thread counts (each setting in a
fresh process, since the thread count is fixed when the engine loads).

    python bench/embed_throughput.py [--batches 1 8 16 32 64] [--threads 1 2]

`ingest.EMBED_BATCH` is the batch size chosen from these figures."""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(batch: int, rounds: int) -> float:
    from assistant.chunking import chunk_report
    from assistant.corpus import read_report
    from assistant.embeddings import E5SmallQ4Embeddings

    texts = [c.text for f in sorted((ROOT / "corpus").glob("*.txt"))
             for c in chunk_report(read_report(f, f.name), f.name, 500, 1)]  # fmt: skip
    model = E5SmallQ4Embeddings()
    model.embed_documents(texts[:4])  # warm
    started = time.perf_counter()
    for _ in range(rounds):
        for i in range(0, len(texts), batch):
            model.embed_documents(texts[i : i + batch])
    return rounds * len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 16, 32, 64])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--one", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], args.rounds)))
        return
    print("| threads | batch | chunks/s |\n|---|---|---|")
    for threads in args.threads:
        for batch in args.batches:
            env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
            out = subprocess.run([sys.executable, __file__, "--one", str(batch), "0", "--rounds", str(args.rounds)],
                                 env=env, capture_output=True, text=True, check=True)  # fmt: skip
            print(f"| {threads} | {batch} | {float(out.stdout.strip().splitlines()[-1]):.1f} |", flush=True)


if __name__ == "__main__":
    main()
