"""Time to first token and to the full answer in the chat, measured in headless
Chromium against a running app (default: starts one over ./index on a free port).

    python bench/chat_ui.py [--runs 5]
"""

import argparse
import socket
import statistics
import time

from playwright.sync_api import sync_playwright

from assistant import Assistant, Settings
from assistant.server import serve

QUESTION = "پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = serve(Assistant(Settings(chat_port=port)), block=False)
    first, full = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for _ in range(args.runs):
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            page.locator("#question textarea").wait_for()
            page.locator("#question textarea").fill(QUESTION)
            started = time.perf_counter()
            page.locator("#send").click()
            page.wait_for_function("(document.querySelector('#chat .bot')?.innerText || '').trim().length > 0")
            first.append(time.perf_counter() - started)
            page.locator("#sources .source").first.wait_for()
            full.append(time.perf_counter() - started)
            page.close()
        browser.close()
    app.close()
    print(f"{args.runs} runs: first token median {statistics.median(first) * 1000:.0f} ms, "
          f"full answer with sources median {statistics.median(full) * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
