"""Many staff at once: real HTTP clients against a running chat (`assistant chat` in its
own process, over ./index), calling the `/ask` API the way `gradio_client` does.

    python bench/load.py [--workers 8] [--soak-seconds 300] [--soak-clients 20] [--soak-questions 500]

1. burst: 50 questions one after another, then the same 50 all at once; wall times,
   their ratio (target <= 0.6) and errors.
2. soak: after one pass over the question pool (which fills the bounded caches),
   `--soak-questions` questions from `--soak-clients` clients spread over
   `--soak-seconds`; errors and the server's resident memory before and after
   (target: at most +10%).
Run it with `--workers 1` to see the chat as it was (one question at a time)."""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def questions() -> list[str]:
    lines = (ROOT / "evals" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def ask(url: str, question: str) -> dict:
    """One question through the chat's HTTP API (submit, then read the event stream)."""
    with httpx.Client(base_url=url, timeout=300) as client:
        event = client.post("gradio_api/call/ask", json={"data": [question, []]}).raise_for_status().json()
        stream = client.get(f"gradio_api/call/ask/{event['event_id']}").raise_for_status().text
    if "event: complete" not in stream:
        raise RuntimeError(stream[-300:])
    result = json.loads(stream.split("data: ", 1)[1].splitlines()[0])[0]
    if "error" in result:
        raise RuntimeError(result["message"])
    return result


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def run_all(url: str, asked: list[str], clients: int, spread_s: float = 0.0) -> tuple[float, int, float, float]:
    """(wall seconds, errors, p50 and p95 seconds per question) for `asked` sent by
    `clients` threads, started evenly over `spread_s`."""
    errors = 0
    took: list[float] = []
    started = time.perf_counter()

    def one(i_question):
        nonlocal errors
        i, question = i_question
        if spread_s:
            time.sleep(max(0.0, started + spread_s * i / len(asked) - time.perf_counter()))
        begun = time.perf_counter()
        try:
            ask(url, question)
            took.append(time.perf_counter() - begun)
        except Exception as exc:  # noqa: BLE001 - counted and shown
            errors += 1
            print(f"  error: {exc}", file=sys.stderr)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, enumerate(asked)))
    took.sort()
    p50, p95 = (took[int(q * (len(took) - 1))] if took else float("nan") for q in (0.5, 0.95))
    return time.perf_counter() - started, errors, p50, p95


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=None, help="ASSISTANT_CHAT_WORKERS (default: the setting's)")
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--soak-seconds", type=float, default=300)
    parser.add_argument("--soak-clients", type=int, default=20)
    parser.add_argument("--soak-questions", type=int, default=500)
    args = parser.parse_args()

    port = free_port()
    env = {**os.environ, "ASSISTANT_CHAT_PORT": str(port)}
    if args.workers:
        env["ASSISTANT_CHAT_WORKERS"] = str(args.workers)
    server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "chat"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        pool = questions()
        burst = [pool[i % len(pool)] for i in range(args.burst)]
        for q in burst[:5]:
            ask(url, q)  # warm up: index opened, reader loaded
        sequential, seq_errors, _, _ = run_all(url, burst, clients=1)
        simultaneous, sim_errors, p50, p95 = run_all(url, burst, clients=len(burst))
        print(f"workers={args.workers or 'default'}")
        ratio = simultaneous / sequential
        print(f"burst: {len(burst)} questions one after another {sequential:.2f} s ({seq_errors} errors); "
              f"all at once {simultaneous:.2f} s ({sim_errors} errors, each p50 {p50:.2f} s p95 {p95:.2f} s); "
              f"ratio {ratio:.2f}")  # fmt: skip
        run_all(url, pool, clients=4)  # every question once: bounded caches (query vectors, tokens) filled
        before = rss_mb(server.pid)
        soak = [pool[i % len(pool)] for i in range(args.soak_questions)]
        wall, soak_errors, soak_p50, soak_p95 = run_all(
            url, soak, clients=args.soak_clients, spread_s=args.soak_seconds
        )
        after = rss_mb(server.pid)
        print(f"soak: {len(soak)} questions from {args.soak_clients} clients over {wall:.0f} s, {soak_errors} errors, "
              f"each p50 {soak_p50:.2f} s p95 {soak_p95:.2f} s; "
              f"server memory {before:.0f} MB -> {after:.0f} MB ({(after / before - 1) * 100:+.1f}%)")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
