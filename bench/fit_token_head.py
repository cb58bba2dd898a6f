"""An experiment kept for the next step of the reader: a late-interaction head trained
over the encoder's frozen token states, and what it does to retrieval. Not used by the
product (see "What was tried" in the README's Benchmarks).

The encoder stays frozen: its token states of every sentence of the eight training
reports (`bench/train/reports/`, never `corpus/`) and of every training question are
computed once, and only the head learns: a 384 x 384 map of the token space started at
the identity, a weight per question token (softplus of a linear score of its state),
and a "no answer" score. Its score is the weighted MaxSim in the mapped space. Each
question is scored against every training sentence plus "no answer"; the loss is the
softmax cross-entropy of the sentences that hold its answer (in its report), or of "no
answer" for the questions that have none (the helpers' near misses and the made
variants that name another year, province or counted thing, `fit_reader.synthetic`).
Written questions weigh WRITTEN_WEIGHT times a made one.

Prints, for a fifth of the written questions held out and (`--dev`, for tuning) for
`evals/dev.jsonl` over `corpus/`, the head against untrained MaxSim: sentence top-1
among all sentences and the AUC of the best score for answerable against unanswerable
questions; with `--dev` also retrieval's hit@1 and hit@5 when the 20 fused candidates
are put in the head's order. Writes the head fitted on everything to
`reports/token_head/head.npz` with its meta-data. 7 minutes on 2 cores (plus 4 with `--dev`).

    python bench/fit_token_head.py [--steps 400] [--seed 7] [--dev]
"""

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fit_reader import CHUNK_SIZE, TRAIN, Item, commit, data_hashes, synthetic, written  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.chunking import evidence_units, sentence_units  # noqa: E402
from assistant.corpus import load_reports  # noqa: E402
from assistant.evaluation.matching import matches_any  # noqa: E402
from assistant.normalize import normalize  # noqa: E402
from assistant.token_states import shared_encoder, word_states  # noqa: E402

WRITTEN_WEIGHT = 3.0
TEMPERATURE = 0.05  # cosine differences are small: sharpen before the softmax
BATCH = 32
LR = 3e-3
IDENTITY_PULL = 1e-2  # keeps the map near the identity (the encoder's own space)
CONFIG = {"identity_pull": IDENTITY_PULL}
ROOT = TRAIN.parent.parent
OUT = ROOT / "reports" / "token_head"


def question_vectors(encoder, questions: list[str]) -> list[np.ndarray]:
    """Each question's word tokens, as the reader takes them."""
    return [word_states(text, s) for text, s in zip(questions, encoder.encode(questions, "query"))]


def pad(arrays: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(a) for a in arrays)
    x = np.zeros((len(arrays), width, arrays[0].shape[1]), dtype=np.float32)
    mask = np.zeros((len(arrays), width), dtype=bool)
    for i, a in enumerate(arrays):
        x[i, : len(a)] = a
        mask[i, : len(a)] = True
    return torch.from_numpy(x), torch.from_numpy(mask)


class Head(torch.nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.projection = torch.nn.Parameter(torch.eye(dim))
        self.gate = torch.nn.Parameter(torch.zeros(dim))
        self.gate_bias = torch.nn.Parameter(torch.zeros(()))
        self.null = torch.nn.Parameter(torch.tensor(0.85))

    def scores(self, q, q_mask, s, s_mask, plain: bool = False):
        """[questions, sentences] weighted MaxSim (plain: untrained, unweighted)."""
        if not plain:
            w = torch.nn.functional.softplus(q @ self.gate + self.gate_bias) * q_mask
            q = torch.nn.functional.normalize(q @ self.projection, dim=-1)
            s = torch.nn.functional.normalize(s @ self.projection, dim=-1)
        else:
            w = q_mask.float()
        w = w / w.sum(dim=1, keepdim=True).clamp_min(1e-9)
        sims = torch.einsum("bqd,nld->bqnl", q, s).masked_fill(~s_mask[None, None], -2.0)
        best = sims.max(dim=3).values  # [b, q, n]
        return torch.einsum("bq,bqn->bn", w, best)


def labels(items: list[Item], sentences: list[tuple[str, str]]) -> list[list[int]]:
    """Per question, the sentences that hold its answer in its report (empty: none)."""
    out = []
    for it in items:
        out.append([k for k, (doc, text) in enumerate(sentences)
                    if it.accept and doc == it.doc and matches_any(it.accept, text)])  # fmt: skip
    return out


def loss_of(head, q, qm, s, sm, targets, weights):
    scores = head.scores(q, qm, s, sm)
    logits = torch.cat([scores, head.null.expand(len(scores), 1)], dim=1) / TEMPERATURE
    total = torch.logsumexp(logits, dim=1)
    right = []
    for i, t in enumerate(targets):
        idx = torch.tensor(t if t else [logits.shape[1] - 1])
        right.append(torch.logsumexp(logits[i, idx], dim=0))
    nll = total - torch.stack(right)
    pull = CONFIG["identity_pull"] * ((head.projection - torch.eye(head.projection.shape[0])) ** 2).sum()
    return (nll * weights).sum() / weights.sum() + pull


def train(qs, targets, weights, s, sm, steps: int, seed: int) -> Head:
    torch.manual_seed(seed)
    head = Head(s.shape[2])
    opt = torch.optim.Adam(head.parameters(), lr=LR)
    rng = random.Random(seed)
    order = list(range(len(qs)))
    for step in range(steps):
        batch = rng.sample(order, min(BATCH, len(order)))
        q, qm = pad([qs[i] for i in batch])
        loss = loss_of(head, q, qm, s, sm, [targets[i] for i in batch], torch.tensor([weights[i] for i in batch]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.3f}", file=sys.stderr)
    return head


def report_sentences(encoder, folder: Path) -> tuple[list[tuple[str, str]], torch.Tensor, torch.Tensor]:
    """Every sentence of the reports in `folder` as (report, text), and their token states padded."""
    reports = load_reports([folder], folder)[0]
    sentences = [(r.doc_id, u.text) for r in reports for u in sentence_units(r.text, CHUNK_SIZE)]
    s, sm = pad([t.vectors for t in encoder.encode([text for _, text in sentences], "passage")])
    return sentences, s, sm


def question_targets(encoder, items: list[Item], sentences: list[tuple[str, str]]):
    """Every question's states and answering sentences, and which questions can teach
    or test something (an answerable question whose answer no sentence holds cannot)."""
    qs = question_vectors(encoder, [it.question for it in items])
    targets = labels(items, sentences)
    keep = [i for i, it in enumerate(items) if targets[i] or not it.accept]
    return qs, targets, keep


def evaluate(head: Head, qs, targets, s, sm, plain: bool) -> dict[str, float]:
    """Sentence top-1 of the answerable questions; AUC of best-sentence score for
    answerable (positive) against unanswerable."""
    with torch.no_grad():
        q, qm = pad(qs)
        scores = head.scores(q, qm, s, sm, plain=plain).numpy()
    top = scores.argmax(axis=1)
    answerable = [i for i, t in enumerate(targets) if t]
    top1 = float(np.mean([top[i] in targets[i] for i in answerable]))
    best = scores.max(axis=1) if plain else scores.max(axis=1) - head.null.item()
    pos = best[[i for i, t in enumerate(targets) if t]]
    neg = best[[i for i, t in enumerate(targets) if not t]]
    auc = float(np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])) if len(neg) else float("nan")
    return {"top1": round(top1, 4), "auc": round(auc, 4), "questions": len(qs)}


def dev_figures(encoder, head: Head) -> dict[str, dict[str, float]]:
    """The head on the dev questions over the five reports (for tuning; never test)."""
    sentences, s, sm = report_sentences(encoder, ROOT / "corpus")
    rows = [json.loads(line) for line in (ROOT / "evals" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    items = [Item(r["question"], r["accept"], r.get("gold_doc"), "dev") for r in rows]
    qs, targets, keep = question_targets(encoder, items, sentences)
    kept_q, kept_t = [qs[i] for i in keep], [targets[i] for i in keep]
    figures = {
        "dev_untrained": evaluate(head, kept_q, kept_t, s, sm, plain=True),
        "dev_trained": evaluate(head, kept_q, kept_t, s, sm, plain=False),
    }
    return figures | dev_retrieval(head, [(r, q) for r, q in zip(rows, qs) if r["accept"]])


def dev_retrieval(head: Head, asked: list[tuple[dict, np.ndarray]]) -> dict[str, dict[str, float]]:
    """Retrieval's hit@1 and hit@5 (the gold passage among the chunks read) on the
    answerable dev questions: the fused order, and the 20 fused candidates in the head's
    order (each chunk's sentences as the reader reads them, and its title)."""
    hits: dict[str, list[tuple[bool, bool]]] = {"fused": [], "head": []}
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant(Settings(corpus_dir=ROOT / "corpus", index_dir=Path(tmp), chunk_size=CHUNK_SIZE))
        assistant.ingest()
        retriever, store = assistant.retriever, assistant.token_states
        retriever.top_k = retriever.candidates
        for row, q in asked:
            found = retriever.search(row["question"])
            texts = [[u.text for u in evidence_units(f.chunk.text, CHUNK_SIZE, f.chunk.start, f.chunk.left_out)]
                     + [f.chunk.title] for f in found]  # fmt: skip
            chunk_states = [np.vstack([t.vectors for t in store.states(ts)]) for ts in texts]
            with torch.no_grad():
                qt, qm = pad([q])
                st, sm = pad(chunk_states)
                order = np.argsort(-head.scores(qt, qm, st, sm)[0].numpy(), kind="stable")
            gold = normalize(row["gold_passage"])
            right = [f.chunk.doc_id == row["gold_doc"] and gold in normalize(f.chunk.text) for f in found]
            for name, ranked in (("fused", list(range(len(found)))), ("head", list(order))):
                hits[name].append((any(right[i] for i in ranked[:1]), any(right[i] for i in ranked[:5])))
    return {f"dev_retrieval_{name}": {"hit@1": round(float(np.mean([h[0] for h in v])), 4),
                                      "hit@5": round(float(np.mean([h[1] for h in v])), 4)}
            for name, v in hits.items()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--synthetic", type=int, default=3000)
    parser.add_argument("--pull", type=float, default=IDENTITY_PULL, help="how near the identity the map stays")
    parser.add_argument("--dev", action="store_true", help="also score evals/dev.jsonl (for tuning)")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    args = parser.parse_args()
    torch.set_num_threads(2)
    CONFIG["identity_pull"] = args.pull
    rng = random.Random(args.seed)
    items = synthetic(TRAIN / "reports", args.synthetic, rng) + written(TRAIN)
    encoder = shared_encoder()
    started = time.time()
    sentences, s, sm = report_sentences(encoder, TRAIN / "reports")
    qs, targets, keep = question_targets(encoder, items, sentences)
    items, qs, targets = [items[i] for i in keep], [qs[i] for i in keep], [targets[i] for i in keep]
    weights = [WRITTEN_WEIGHT if it.source == "written" else 1.0 for it in items]
    print(f"encoded {len(sentences)} sentences, {len(items)} questions in {time.time() - started:.0f} s",
          file=sys.stderr)  # fmt: skip

    written_ids = [i for i, it in enumerate(items) if it.source == "written"]
    held = set(random.Random(args.seed).sample(written_ids, len(written_ids) // 5))
    fit_ids = [i for i in range(len(items)) if i not in held]
    held_ids = sorted(held)
    fit_written = [i for i in written_ids if i not in held]
    head = train([qs[i] for i in fit_ids], [targets[i] for i in fit_ids], [weights[i] for i in fit_ids], s, sm,
                 args.steps, args.seed)  # fmt: skip
    held_q, held_t = [qs[i] for i in held_ids], [targets[i] for i in held_ids]
    figures = {
        "held_out_written_untrained": evaluate(head, held_q, held_t, s, sm, plain=True),
        "held_out_written_trained": evaluate(head, held_q, held_t, s, sm, plain=False),
        "fitted_written_trained": evaluate(head, [qs[i] for i in fit_written], [targets[i] for i in fit_written],
                                           s, sm, plain=False),
    }  # fmt: skip
    if args.dev:  # tuning only: the head on evals/dev.jsonl over corpus/ (never test)
        figures |= dev_figures(encoder, head)
    print(json.dumps(figures, indent=1))
    if args.dry_run:
        return
    head = train(qs, targets, weights, s, sm, args.steps, args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(OUT / "head.npz", projection=head.projection.detach().numpy(), gate=head.gate.detach().numpy(),
             gate_bias=head.gate_bias.item(), null=head.null.item())  # fmt: skip
    meta = {"commit": commit(), "encoder": encoder.model_dir.name, "data": data_hashes(), "seed": args.seed,
            "steps": args.steps, "synthetic": args.synthetic, "written_weight": WRITTEN_WEIGHT,
            "temperature": TEMPERATURE, "learning_rate": LR, "identity_pull": args.pull,
            "training": {"sentences": len(sentences), "questions": len(items)}, **figures}  # fmt: skip
    (OUT / "head.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}/head.npz and head.json")


if __name__ == "__main__":
    main()
