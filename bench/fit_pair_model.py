"""An experiment for the reader's refusals: a cross-encoder that reads a question and a
candidate sentence together (with its report's title) and says whether the sentence
answers it. Not used by the product unless it beats the reader's own answerability
out of fold (see "What was tried" in the README's Benchmarks).

The encoder is the rebuilt multilingual-e5-small (`token_encoder.build_model`), read as
a pair: `<s> query: Q </s></s> passage: TITLE ۔ SENTENCE </s>`. Its lower layers stay
frozen and their output for every training pair is computed once; only the top
`--layers` layers and a linear score over the mean of their last states learn.

Training pairs come from the eight training reports only (`bench/train/`, never
`corpus/`): for each question (the helpers' written ones and those the reports make,
`fit_reader.synthetic`, near-miss variants included) the three sentences untrained
MaxSim ranks first among all training sentences, plus its answering sentence when those
miss it; a pair is positive when the sentence holds the question's answer in its
report. Two training reports are held out whole: their written questions give the
held-out figures.

With `--dev` (for tuning, never test) every dev question is answered by the product
with refusal off; the pair model scores the question with the first cited sentence and
its title, and the script prints the AUC of right answers against unanswerable
questions for the reader's answerability, the pair model and their mean, and the
refusal trade-off of refusing when either is below its threshold, out of fold by halves.

Measured (README, "What was tried"): dev AUC .77 against the reader's .88, no gain out
of fold; not shipped. 9 minutes on 2 cores, plus 4 with `--dev`.

    python bench/fit_pair_model.py [--layers 4] [--epochs 3] [--pool first] [--seed 7] [--dev]
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
from fit_reader import CHUNK_SIZE, TRAIN, Item, synthetic, written  # noqa: E402
from fit_token_head import Head, pad, question_targets  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.chunking import sentence_units  # noqa: E402
from assistant.corpus import load_reports  # noqa: E402
from assistant.evaluation import load_set  # noqa: E402
from assistant.evaluation.scoring import score_item  # noqa: E402
from assistant.token_states import shared_encoder  # noqa: E402

ROOT = TRAIN.parent.parent
MAX_TOKENS = 192
CANDIDATES = 3  # sentences per question, by untrained MaxSim
BATCH = 16
LR_LAYERS, LR_HEAD = 3e-5, 1e-3
WRITTEN_WEIGHT = 3.0


def pair_ids(tokenizer, question: str, passage: str) -> list[int]:
    """XLM-R's pair layout from two single encodings: <s> A </s></s> B </s>."""
    q = tokenizer.encode("query: " + question).ids
    p = tokenizer.encode("passage: " + passage).ids
    room = MAX_TOKENS - len(q)
    return q + ([p[-1]] + p[1:])[: max(room, 8)]


class PairModel(torch.nn.Module):
    """The top `layers` of the encoder and a linear score of their first (`<s>`) or mean state."""

    def __init__(self, bert, layers: int, pool: str = "first") -> None:
        super().__init__()
        self.pool = pool
        self.layers = torch.nn.ModuleList(bert.encoder.layer[-layers:])
        self.score = torch.nn.Linear(bert.config.hidden_size, 1)
        torch.nn.init.zeros_(self.score.weight)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            hidden = _run(layer, hidden, mask)
        if self.pool == "first":
            return self.score(hidden[:, 0]).squeeze(-1)
        m = mask[:, :, None].float()
        return self.score((hidden * m).sum(1) / m.sum(1)).squeeze(-1)


def _run(layer, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """One BertLayer over padded states (mask 1 = token, 0 = padding)."""
    extended = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    out = layer(hidden, attention_mask=extended)
    return out[0] if isinstance(out, tuple) else out


class Lower:
    """The frozen lower layers: each pair's states at the input of the trained layers."""

    def __init__(self, bert, tokenizer, layers: int) -> None:
        self.bert, self.tokenizer, self.cut = bert, tokenizer, bert.config.num_hidden_layers - layers

    def states(self, pairs: list[tuple[str, str]]) -> list[torch.Tensor]:
        ids = [pair_ids(self.tokenizer, q, p) for q, p in pairs]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out: list[torch.Tensor | None] = [None] * len(ids)
        for start in range(0, len(order), 32):
            batch = order[start : start + 32]
            x, m = _padded([ids[i] for i in batch], self.bert.config.pad_token_id)
            with torch.inference_mode():
                h = self.bert.embeddings(input_ids=x)
                for layer in self.bert.encoder.layer[: self.cut]:
                    h = _run(layer, h, m)
            for row, i in enumerate(batch):
                out[i] = h[row, : len(ids[i])].to(torch.float16).clone()
        return out  # type: ignore[return-value]


def _padded(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    x = torch.full((len(rows), width), pad_id, dtype=torch.long)
    m = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        x[i, : len(r)] = torch.tensor(r)
        m[i, : len(r)] = 1
    return x, m


def _stack(states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in states)
    h = torch.zeros((len(states), width, states[0].shape[1]))
    m = torch.zeros((len(states), width), dtype=torch.long)
    for i, s in enumerate(states):
        h[i, : len(s)] = s.float()
        m[i, : len(s)] = 1
    return h, m


def probabilities(model: PairModel, states: list[torch.Tensor]) -> np.ndarray:
    out = []
    with torch.inference_mode():
        for start in range(0, len(states), 32):
            h, m = _stack(states[start : start + 32])
            out.append(torch.sigmoid(model(h, m)).numpy())
    return np.concatenate(out) if out else np.zeros(0)


def train(model: PairModel, states, labels, weights, epochs: int, seed: int) -> None:
    rng = random.Random(seed)
    torch.manual_seed(seed)
    opt = torch.optim.AdamW([{"params": model.layers.parameters(), "lr": LR_LAYERS},
                             {"params": model.score.parameters(), "lr": LR_HEAD}], weight_decay=0.01)  # fmt: skip
    order = list(range(len(states)))
    positive = sum(labels) / len(labels)
    started, step = time.time(), 0
    for epoch in range(epochs):
        rng.shuffle(order)
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            h, m = _stack([states[i] for i in batch])
            y = torch.tensor([float(labels[i]) for i in batch])
            w = torch.tensor([weights[i] for i in batch]) * torch.where(y > 0, 0.5 / positive, 0.5 / (1 - positive))
            loss = (torch.nn.functional.binary_cross_entropy_with_logits(model(h, m), y, reduction="none") * w).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 50 == 0:
                elapsed = time.time() - started
                print(f"epoch {epoch} step {step} loss {loss.item():.3f} {elapsed:.0f} s", file=sys.stderr)


def auc(pos, neg) -> float:
    pos, neg = np.asarray(pos), np.asarray(neg)
    if not len(pos) or not len(neg):
        return float("nan")
    return float(((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean())


def training_pairs(encoder, items: list[Item], reports) -> tuple[list[tuple[str, str]], list[int], list[int]]:
    """(question, title ۔ sentence) pairs, their labels and the question each came from."""
    titles = {r.doc_id: r.title for r in reports}
    sentences = [(r.doc_id, u.text) for r in reports for u in sentence_units(r.text, CHUNK_SIZE)]
    s, sm = pad([t.vectors for t in encoder.encode([text for _, text in sentences], "passage")])
    qs, targets, keep = question_targets(encoder, items, sentences)
    plain = Head(s.shape[2])
    pairs, labels, owner = [], [], []
    for i in keep:
        with torch.no_grad():
            q, qm = pad([qs[i]])
            ranked = np.argsort(-plain.scores(q, qm, s, sm, plain=True)[0].numpy(), kind="stable")
        chosen = list(ranked[:CANDIDATES])
        if targets[i] and not set(chosen) & set(targets[i]):
            chosen.append(targets[i][0])
        for k in chosen:
            doc, text = sentences[k]
            pairs.append((items[i].question, f"{titles[doc]} ۔ {text}"))
            labels.append(int(k in targets[i]))
            owner.append(i)
    return pairs, labels, owner


def dev_rows(assistant: Assistant) -> list[dict]:
    """Every dev question answered with refusal off: whether it is answerable, answered
    right, the reader's answerability, and the first cited sentence with its title."""
    rows = []
    for item in load_set(ROOT / "evals" / "dev.jsonl"):
        answer = assistant.ask(item.question)
        ok = bool(score_item(item, answer, 0.0).answer_ok)
        cited = answer.citations[0] if answer.citations else None
        rows.append({"question": item.question, "answerable": item.answerable, "right": ok,
                     "small_talk": answer.answerer == "small talk", "reader": answer.evidence,
                     "passage": f"{cited.title} ۔ {cited.quote}" if cited else ""})  # fmt: skip
    return rows


def trade_off(rows, t_reader: float, t_pair: float) -> tuple[float, float, float]:
    """Answerable refused, unanswerable refused, answerable answered right."""
    refused = [r["small_talk"] or r["reader"] < t_reader or r["pair"] < t_pair for r in rows]
    a = [(x, r) for x, r in zip(refused, rows) if r["answerable"]]
    u = [x for x, r in zip(refused, rows) if not r["answerable"]]
    return (sum(x for x, _ in a) / len(a), sum(u) / max(len(u), 1), sum((not x) and r["right"] for x, r in a) / len(a))


def best_pair_of_thresholds(rows, most_refused: float = 0.06) -> tuple[float, float]:
    grid = [t / 40 for t in range(40)]
    allowed = [(tr, tp) for tr in grid for tp in grid if trade_off(rows, tr, tp)[0] <= most_refused]
    return max(allowed, key=lambda t: (trade_off(rows, *t)[1], trade_off(rows, *t)[2]))


def dev_figures(lower: Lower, model: PairModel) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant(Settings(corpus_dir=ROOT / "corpus", index_dir=Path(tmp), chunk_size=CHUNK_SIZE,
                                       min_evidence=0.0))  # fmt: skip
        assistant.ingest()
        rows = dev_rows(assistant)
    cited = [r for r in rows if r["passage"]]
    for r, p in zip(cited, probabilities(model, lower.states([(r["question"], r["passage"]) for r in cited]))):
        r["pair"] = float(p)
    for r in rows:
        r.setdefault("pair", 0.0)
        r["mean"] = (r["reader"] + r["pair"]) / 2
    pos = [r for r in rows if r["answerable"] and r["right"]]
    neg = [r for r in rows if not r["answerable"] and not r["small_talk"]]
    figures = {f"dev_auc_{k}": round(auc([r[k] for r in pos], [r[k] for r in neg]), 4)
               for k in ("reader", "pair", "mean")}  # fmt: skip
    halves = rows[0::2], rows[1::2]
    held = [trade_off(h, *best_pair_of_thresholds(other)) for h, other in zip(halves, halves[::-1])]
    reader_only = [trade_off(h, best_pair_of_thresholds([r | {"pair": 1.0} for r in other])[0], 0.0)
                   for h, other in zip(halves, halves[::-1])]  # fmt: skip
    figures["dev_out_of_fold_both"] = [round(float(np.mean([h[k] for h in held])), 4) for k in range(3)]
    figures["dev_out_of_fold_reader_only"] = [round(float(np.mean([h[k] for h in reader_only])), 4) for k in range(3)]
    figures["dev_in_sample_both"] = [round(x, 4) for x in trade_off(rows, *best_pair_of_thresholds(rows))]
    figures["dev_counts"] = {"right": len(pos), "unanswerable": len(neg), "all": len(rows)}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--pool", choices=("first", "mean"), default="first")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--synthetic", type=int, default=1200)
    parser.add_argument("--dev", action="store_true", help="also score evals/dev.jsonl (for tuning)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    rng = random.Random(args.seed)
    encoder = shared_encoder()
    from transformers import BertModel

    bert = BertModel.from_pretrained(encoder.model_dir, add_pooling_layer=False, dtype=torch.float32).eval()
    lower = Lower(bert, encoder.tokenizer, args.layers)
    reports = load_reports([TRAIN / "reports"], TRAIN / "reports")[0]
    held_docs = set(random.Random(args.seed).sample(sorted(r.doc_id for r in reports), 2))
    items = synthetic(TRAIN / "reports", args.synthetic, rng) + written(TRAIN)
    started = time.time()
    pairs, labels, owner = training_pairs(encoder, items, reports)
    states = lower.states(pairs)
    print(f"{len(pairs)} pairs ({sum(labels)} positive) from {len(set(owner))} questions, "
          f"lower layers in {time.time() - started:.0f} s", file=sys.stderr)  # fmt: skip
    # a question is held out with its report; a near miss (no report) is held out by a fifth
    fifth = {i for i in set(owner) if random.Random(i * 31 + args.seed).random() < 0.2}
    held = [k for k, i in enumerate(owner) if items[i].doc in held_docs or (items[i].doc is None and i in fifth)]
    held_set = set(held)
    fit = [k for k in range(len(pairs)) if k not in held_set]
    weights = [WRITTEN_WEIGHT if items[i].source == "written" else 1.0 for i in owner]
    model = PairModel(bert, args.layers, args.pool)
    train(model, [states[k] for k in fit], [labels[k] for k in fit], [weights[k] for k in fit], args.epochs, args.seed)
    written_held = [k for k in held if items[owner[k]].source == "written"]
    p = probabilities(model, [states[k] for k in written_held])
    figures = {
        "held_out_written_pairs": len(written_held),
        "held_out_written_pair_auc": round(auc([x for x, k in zip(p, written_held) if labels[k]],
                                               [x for x, k in zip(p, written_held) if not labels[k]]), 4),
    }  # fmt: skip
    print(json.dumps(figures), file=sys.stderr)
    if args.dev:
        figures |= dev_figures(lower, model)
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
