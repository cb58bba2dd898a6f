"""How ingest and questions grow with the corpus: synthetic corpora (`synthetic.py`)
of several sizes, each ingested into a fresh index with a benchmark stand-in embedding
(`HashedBagEmbeddings`: a hashed bag of tokens, fast and deterministic, NOT a product
backend; the e5 model runs at 10-25 chunks/s here, which would make a 100k-chunk
benchmark take hours, so its cost is reported separately by extrapolation).

    python bench/scale.py --reports 20 100 400 [--questions 200]

Per size: ingest time excluding the embedding's own time (total and per chunk), a
re-ingest with nothing changed, a re-ingest after one report changed, the time to
open the index and answer a first question in a new `Assistant`, lexical scoring and
retrieval per question (p50/p95), the whole `ask` (p95), and a serving process: a new
Python process's time from its start to its first answer and its resident memory
after answering every question."""

import argparse
import hashlib
import json
import math
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from langchain_core.embeddings import Embeddings
from synthetic import seed_sentences, write_corpus

from assistant import Assistant, Settings
from assistant.embeddings import QueryCache
from assistant.normalize import tokens

DIM = 384
STAND_IN = "bench-hashed-bag"


class HashedBagEmbeddings(Embeddings):
    """Benchmark stand-in: normalised token counts hashed into 384 dimensions. Counts
    its own time, so ingest can be reported without it."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * DIM
        for token in tokens(text):
            vector[int(hashlib.blake2b(token.encode(), digest_size=4).hexdigest(), 16) % DIM] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        out = [self._embed(t) for t in texts]
        self.seconds += time.perf_counter() - started
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def with_stand_in(settings: Settings) -> tuple[Assistant, HashedBagEmbeddings]:
    assistant = Assistant(settings)
    stand_in = HashedBagEmbeddings()
    assistant.embeddings = QueryCache(stand_in)
    assistant._embedding_id = STAND_IN  # the index records the stand-in, so e5 can never open it
    return assistant, stand_in


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def run(reports: int, questions: list[str], tmp: Path) -> None:
    corpus = tmp / f"corpus-{reports}"
    paths = write_corpus(corpus, reports)
    settings = Settings(corpus_dir=corpus, index_dir=tmp / f"index-{reports}")
    a, stand_in = with_stand_in(settings)
    started = time.perf_counter()
    report = a.ingest()
    ingest_s = time.perf_counter() - started - stand_in.seconds
    started = time.perf_counter()
    a.ingest()
    unchanged_s = time.perf_counter() - started
    text = paths[0].read_text(encoding="utf-8")
    paths[0].write_text(re.sub(r"\d", "7", text, count=3), encoding="utf-8")
    stand_in.seconds = 0.0
    started = time.perf_counter()
    a.ingest()
    one_changed_s = time.perf_counter() - started - stand_in.seconds

    served = serving_process(settings, questions)
    started = time.perf_counter()
    b, _ = with_stand_in(settings)
    b.ask(questions[0])
    cold_s = time.perf_counter() - started
    lexical, retrieval, ask = [], [], []
    for q in questions:
        t0 = time.perf_counter()
        b.index.bm25.scores(q)
        t1 = time.perf_counter()
        b.retriever.invoke(q)
        t2 = time.perf_counter()
        b.ask(q)
        t3 = time.perf_counter()
        lexical.append(t1 - t0)
        retrieval.append(t2 - t1)
        ask.append(t3 - t2)
    print(
        f"| {reports:,} | {report.chunks:,} | {ingest_s:.1f} s ({ingest_s / report.chunks * 1000:.2f} ms/chunk) "
        f"| {unchanged_s:.2f} s | {one_changed_s:.2f} s | {cold_s:.2f} s "
        f"| {statistics.median(lexical) * 1000:.1f} / {pct(lexical, 0.95):.1f} ms "
        f"| {statistics.median(retrieval) * 1000:.1f} / {pct(retrieval, 0.95):.1f} ms | {pct(ask, 0.95):.0f} ms "
        f"| {served['first_answer_s']:.1f} s | {served['rss_mb']:.0f} MB |",
        flush=True,
    )


def serving_process(settings: Settings, questions: list[str]) -> dict:
    """A new Python process that serves the index as a server would: the time from its
    start (interpreter and imports included) to its first answer, and its resident
    memory after answering every question."""
    code = f"""
import json, sys, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
from scale import with_stand_in, rss_mb
from assistant import Settings
a, _ = with_stand_in(Settings(corpus_dir={str(settings.corpus_dir)!r}, index_dir={str(settings.index_dir)!r}))
questions = json.loads(sys.stdin.read())
a.ask(questions[0])
first = time.time() - float(sys.argv[1])
for q in questions:
    a.ask(q)
print(json.dumps({{"first_answer_s": first, "rss_mb": rss_mb()}}))
"""
    out = subprocess.run([sys.executable, "-c", code, str(time.time())], input=json.dumps(questions),
                         capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, nargs="+", default=[20, 100, 400])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build the corpora and indexes here and keep them")
    args = parser.parse_args()
    rng = random.Random(1)
    pool = seed_sentences()
    questions = [
        " ".join(rng.sample(s.split(), min(8, len(s.split())))) + "؟" for s in rng.sample(pool, args.questions)
    ]
    print("| reports | chunks | ingest excl. embedding | re-ingest, nothing changed | re-ingest, one changed "
          "| open + first answer | BM25 p50 / p95 | retrieval p50 / p95 | ask p95 "
          "| new process to first answer | its memory |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for reports in args.reports:
            run(reports, questions, args.keep or Path(tmp))


if __name__ == "__main__":
    main()
