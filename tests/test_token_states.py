"""Token matching in the reader: sentence token states kept beside the index at ingest,
computed for what is missing, and MaxSim features that tell an answering sentence from
a near miss. Real encoder (built from the bundled weights), real index."""

import sqlite3

import numpy as np
import pytest

pytest.importorskip("torch")

from assistant import Assistant, Settings, token_states  # noqa: E402
from assistant.answering.features import (
    TOKEN_SENTENCE_FEATURES,  # noqa: E402
    span_token_features,  # noqa: E402
)
from assistant.answering.spans import figures  # noqa: E402
from assistant.token_encoder import maxsim  # noqa: E402
from assistant.token_states import FILE, TABLE, TokenStateStore, shared_encoder, store_for, word_states  # noqa: E402


def test_maxsim_is_the_mean_of_each_question_tokens_best_match():
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    s = np.array([[1.0, 0.0], [0.6, 0.8]])
    assert maxsim(q, s) == pytest.approx((1.0 + 0.8) / 2)
    assert maxsim(q, np.zeros((0, 2))) == 0.0


def test_a_questions_punctuation_tokens_are_left_out():
    encoder = shared_encoder()
    text = "کتنے لوگ ہیں؟"
    states = encoder.encode([text], "query")[0]
    kept = word_states(text, states)
    pieces = [text[a:b] for a, b in states.offsets]
    assert "؟" in pieces and len(kept) == len(pieces) - 1
    assert np.array_equal(kept, states.vectors[[i for i, p in enumerate(pieces) if p != "؟"]])
    only = encoder.encode(["؟"], "query")[0]
    assert np.array_equal(word_states("؟", only), only.vectors)  # nothing but punctuation: all of it


def test_states_are_kept_by_text_and_computed_once(tmp_path, monkeypatch):
    store = store_for(tmp_path)
    texts = ["صوبے میں 2،334 لوگ کام کرتے ہیں۔", "The conference was held in Hanoi.", ""]
    first = store.states(texts)
    encoded = store.encoder.encode(texts, "passage")
    assert [len(s.vectors) for s in first] == [len(e.vectors) for e in encoded] and len(first[2].vectors) == 0
    assert [tuple(map(tuple, s.offsets)) for s in first[:2]] == [tuple(e.offsets) for e in encoded[:2]]
    assert np.allclose(np.linalg.norm(first[0].vectors, axis=1), 1.0, atol=1e-2)
    start, end = first[0].offsets[2]
    assert texts[0][start:end] in texts[0].split()[2]  # a token's span points into its own word

    again = TokenStateStore(tmp_path, store.encoder)  # another process: reads the file, computes nothing
    monkeypatch.setattr(token_states, "_MEMO", {})
    monkeypatch.setattr(again, "_compute", lambda texts: pytest.fail(f"recomputed {texts}"))
    for a, b in zip(first, again.states(texts)):
        assert np.allclose(a.vectors, b.vectors, atol=1e-3) and np.array_equal(a.offsets, b.offsets)
    with sqlite3.connect(tmp_path / FILE) as db:
        assert db.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()[0] == 3

    other = TokenStateStore(tmp_path / "other", store.encoder)  # another index in this process
    monkeypatch.setattr(other, "_compute", lambda texts: pytest.fail(f"recomputed {texts}"))
    other.warm(texts)  # from memory, but written to its own file
    with sqlite3.connect(tmp_path / "other" / FILE) as db:
        assert db.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()[0] == 3


def test_an_answering_sentence_matches_better_than_a_near_miss():
    encoder = shared_encoder()
    q = encoder.encode(["How many people work at commune level?"], "query")[0].vectors
    right, wrong = (
        e.vectors
        for e in encoder.encode(["کمیون کی سطح پر 2،334 لوگ کام کرتے ہیں۔", "کانفرنس ہنوئی میں منعقد ہوئی۔"], "passage")
    )
    assert maxsim(q, right) > maxsim(q, wrong)


def test_the_words_around_a_figure_tell_an_english_question_which_figure_it_wants(tmp_path):
    """Two Urdu figures in one sentence; the English question's words match the words
    beside the one it asks about, with no word list between the languages."""
    store = store_for(tmp_path)
    sentence = "صوبے میں کل 17,418 کیڈرز اور سرکاری ملازمین ہیں، جن میں سے 2،334 لوگ کمیون کی سطح پر کام کرتے ہیں۔"
    options = figures(sentence)
    assert [c.text for c in options] == ["17,418", "2،334"]
    states = store.states([sentence])[0]
    for question, wanted in (("How many people work at the commune level?", 1),
                             ("How many cadres and civil servants are there in all?", 0)):  # fmt: skip
        q = store.encoder.encode([question], "query")[0].vectors
        rows = span_token_features(q, states, options, sentence)
        assert max(range(2), key=lambda i: rows[i]["span_maxsim"]) == wanted, (question, rows)
        assert rows[wanted]["span_maxsim_gap"] == 0.0


def test_ingest_keeps_every_sentences_states_and_the_reader_uses_them(tmp_path, corpus_copy, monkeypatch):
    assistant = Assistant(Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "index"))
    assistant.ingest()
    store = assistant.token_states
    with sqlite3.connect(store.path) as db:
        kept = db.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()[0]
    assert kept >= assistant.index.sentence_count

    monkeypatch.setattr(token_states, "_MEMO", {})
    fresh = TokenStateStore(store.path.parent, store.encoder)  # nothing in memory: all from the file
    monkeypatch.setattr(fresh, "_compute", lambda texts: pytest.fail(f"not kept at ingest: {texts[:1]}"))
    assistant.answerer.tokens = fresh
    from assistant.pipeline import to_passages

    question = "صوبے میں کتنے کیڈرز ہیں؟"
    reading = assistant.answerer.read(question, to_passages(assistant.retriever.invoke(question)))
    assert reading.sentences and all(set(TOKEN_SENTENCE_FEATURES) <= set(r) for r in reading.sentence_rows)
    assert len(reading.sentence_tokens) == len(reading.sentences) and reading.question_tokens is not None


def test_without_token_matching_the_reader_uses_its_plain_weights(tmp_path, corpus_copy):
    assistant = Assistant(Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "index", token_matching=False))
    assistant.ingest()
    assert assistant.token_states is None and not (tmp_path / "index" / FILE).exists()
    answer = assistant.ask("صوبے میں کتنے کیڈرز ہیں؟")
    assert not set(TOKEN_SENTENCE_FEATURES) & set(assistant.answerer.scorer.sentence.weights)
    assert answer.answer


def test_without_torch_the_reader_answers_and_says_so_once(tmp_path, corpus_copy, monkeypatch, caplog):
    """The token encoder cannot be built (an optional package missing): the assistant
    answers with the reader's plain weights, and the log says why, once."""
    from assistant import token_encoder
    from assistant.errors import BackendUnavailableError

    def missing(*_a, **_k):
        raise BackendUnavailableError("torch is not installed (pip install -e '.[tokens]')")

    monkeypatch.setattr(token_encoder.TokenEncoder, "__init__", missing)
    monkeypatch.setattr(token_states, "_encoder", None)
    monkeypatch.setattr(token_states, "_said", False)
    assert store_for(tmp_path / "a") is None and store_for(tmp_path / "b") is None
    assert caplog.text.count("token matching is off") == 1 and "torch is not installed" in caplog.text
    assistant = Assistant(Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "index"))
    assistant.ingest()
    assert assistant.token_states is None
    answer = assistant.ask("صوبے میں کتنے کیڈرز ہیں؟")
    assert not answer.refused and not set(TOKEN_SENTENCE_FEATURES) & set(assistant.answerer.scorer.sentence.weights)
