"""Retrieval quality by fusion method, with and without sentence-level dense hits:
hit@1, hit@5 and MRR of the gold passage for the answerable questions of an eval set,
split by question language.

    python bench/retrieval.py [--index DIR] [--set evals/dev.jsonl]
"""

import argparse
from pathlib import Path

from assistant import Assistant, Settings
from assistant.evaluation import load_set
from assistant.normalize import normalize

METHODS = ("bm25", "dense", "rrf", "hybrid")


def gold_rank(retriever, item) -> int | None:
    gold = normalize(item.gold_passage)
    for rank, scored in enumerate(retriever.search(item.question), start=1):
        if scored.chunk.doc_id == item.gold_doc and gold in normalize(scored.chunk.text):
            return rank
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--set", type=Path, default=Path("evals/dev.jsonl"))
    args = parser.parse_args()
    items = [i for i in load_set(args.set) if i.answerable]
    assistant = Assistant(Settings(index_dir=args.index))
    retriever = assistant.retriever if assistant.index else None
    print(f"{len(items)} answerable questions; top_k={retriever.top_k}, candidates={retriever.candidates}\n")
    print("| fusion | sentences | lang | n | hit@1 | hit@5 | MRR |\n|---|---|---|---|---|---|---|")
    variants = [(m, True) for m in METHODS] + [("hybrid", False)]
    for method, sentence_hits in variants:
        retriever.fusion, retriever.sentence_hits = method, sentence_hits
        ranks = {item.id: gold_rank(retriever, item) for item in items}
        for lang in ("ur", "en", "all"):
            group = [ranks[i.id] for i in items if lang in ("all", i.language)]
            hit1 = sum(1 for r in group if r == 1) / len(group)
            hit5 = sum(1 for r in group if r and r <= 5) / len(group)
            mrr = sum(1 / r for r in group if r) / len(group)
            print(f"| {method} | {sentence_hits} | {lang} | {len(group)} | {hit1:.3f} | {hit5:.3f} | {mrr:.3f} |")


if __name__ == "__main__":
    main()
