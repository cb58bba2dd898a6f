"""Questions while a large report is indexed: `/api/ask` latency on a running chat
server (its own process, real HTTP) idle, then while `/api/ingest` adds one large
report on the same server.

    python bench/ingest_load.py [--chars 400000] [--idle 30]

The large report is made of the eight genre reports in bench/train/reports/, repeated
with their figures changed, up to `--chars` characters (a report's limit is 1,000,000).
Prints p50 / p95 / max of the questions asked idle and during the ingest, and the
ingest's own time."""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"


def large_report(chars: int) -> str:
    parts, n = [], 0
    sources = [f.read_text(encoding="utf-8") for f in sorted((ROOT / "bench" / "train" / "reports").glob("*.txt"))]
    while sum(len(p) for p in parts) < chars:
        text = sources[n % len(sources)]
        parts.append(re.sub(r"\d+", lambda m, n=n: str(int(m.group()) + n + 1), text))
        n += 1
    return "\n".join(parts)[:chars]


def questions() -> list[str]:
    lines = (ROOT / "evals" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def summary(latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"n={len(ms)} p50={statistics.median(ms):.0f} ms p95={p95:.0f} ms max={ms[-1]:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chars", type=int, default=400_000)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of questions before the ingest")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ingest-load-"))
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(ROOT / "corpus", corpus)
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(index),
           "ASSISTANT_DATA_DIR": str(work / "data"), "ASSISTANT_API_TOKEN": TOKEN}  # fmt: skip
    cli = [sys.executable, "-m", "assistant.cli"]
    subprocess.run([*cli, "ingest", "--no-progress"], env=env, check=True, capture_output=True)
    (corpus / "large.txt").write_text(large_report(args.chars), encoding="utf-8")
    port = 7900 + os.getpid() % 90
    server = subprocess.Popen([*cli, "chat", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        client = httpx.Client(timeout=120)
        for _ in range(300):
            try:
                if client.get(f"{url}/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        pool = questions()

        def ask(i: int) -> float:
            started = time.perf_counter()
            response = client.post(f"{url}/api/ask", json={"question": pool[i % len(pool)]})
            response.raise_for_status()
            return time.perf_counter() - started

        idle, during, i = [], [], 0
        ask(0)
        deadline = time.monotonic() + args.idle
        while time.monotonic() < deadline:
            idle.append(ask(i))
            i += 1
        done: dict = {}

        def ingest() -> None:
            started = time.perf_counter()
            r = httpx.post(f"{url}/api/ingest", json={"paths": ["large.txt"]}, timeout=3600,
                           headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
            done.update(status=r.status_code, body=r.json(), seconds=time.perf_counter() - started)

        worker = threading.Thread(target=ingest)
        worker.start()
        while worker.is_alive():
            during.append(ask(i))
            i += 1
        print(f"large report: {args.chars:,} characters; ingest {done.get('seconds', 0):.0f} s, "
              f"HTTP {done.get('status')}, {str(done.get('body'))[:160]}")  # fmt: skip
        print("idle:  ", summary(idle))
        print("during:", summary(during))
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
