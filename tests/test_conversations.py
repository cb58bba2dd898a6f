"""Saved conversations and feedback: a real SQLite file per test, no mocks."""

import json
import re
import threading

import pytest
from pydantic import ValidationError

from assistant.answers import REFUSALS, Answer, Citation
from assistant.cli import main
from assistant.conversations import (
    ConversationInputError,
    ConversationNotFound,
    ConversationStore,
    ConversationStoreError,
    conversation_markdown,
    conversation_store,
    export_candidates,
)
from assistant.errors import AssistantError
from assistant.evaluation.dataset import EvalItem
from assistant.settings import Settings

QUOTE = "صوبے کے 38 کمیونز اور وارڈز کے پل پوائنٹس\nسے کانفرنس منسلک تھی۔"


def answer(question: str = "How many bridge points?", language: str = "en") -> Answer:
    return Answer(
        question=question,
        language=language,
        answer="38",
        supporting=["صوبے کے 38 کمیونز اور وارڈز کے پل پوائنٹس"],
        citations=[
            Citation(
                number=1,
                doc_id="000_a.txt",
                title="Lai Chau conference",
                file="corpus/000_a.txt",
                source_url="https://laichau.gov.vn/a",
                quote=QUOTE,
                start=10,
                end=60,
            ),
            Citation(
                number=2,
                doc_id="001_b.txt",
                title="Second report",
                file="corpus/001_b.txt",
                source_url=None,
                quote="دوسرا اقتباس",
                start=5,
                end=17,
            ),
        ],  # fmt: skip
        evidence=0.9,
    )


def refusal() -> Answer:
    return Answer(question="Who won the 1998 cup?", language="en", answer=REFUSALS["en"], refused=True)


@pytest.fixture
def store(tmp_path) -> ConversationStore:
    return ConversationStore(tmp_path / "data" / "conversations.sqlite3")


def test_answer_round_trips_with_citations(store):
    cid = store.create("asma", "")
    original = answer()
    tid = store.add_turn(cid, "asma", "How many?", "How many bridge points?", original, "v1")
    conv = store.get(cid, "asma")
    assert [t.id for t in conv.turns] == [tid]
    turn = conv.turns[0]
    assert turn.answer == original and turn.answer.citations[0].quote == QUOTE
    assert (turn.question, turn.standalone, turn.index_version) == ("How many?", "How many bridge points?", "v1")
    assert turn.vote is None and turn.comment == ""
    assert conv.title == "How many?" and conv.turn_count == 1


def test_order_counts_titles_and_updated(store):
    first, second = store.create("asma", "  First  "), store.create("asma", "")
    assert [c.id for c in store.conversations("asma")] == [second, first]
    long_question = "What did the report say about " + "very " * 30 + "long questions?"
    for n in range(3):
        store.add_turn(first, "asma", long_question if n == 0 else f"q{n}", None, answer())
    summaries = store.conversations("asma")
    assert [c.id for c in summaries] == [first, second]  # adding a turn bumps `updated`
    assert [(c.title, c.turn_count) for c in summaries] == [("First", 3), ("", 0)]
    assert summaries[0].updated > summaries[0].created
    store.add_turn(second, "asma", long_question, None, answer())
    title = store.get(second, "asma").title
    assert title.startswith("What did the report say about very") and title.endswith("…") and len(title) <= 60
    conv = store.get(first, "asma")
    assert [t.position for t in conv.turns] == [1, 2, 3]
    assert [t.question for t in conv.turns][1:] == ["q1", "q2"] and conv.turns[1].standalone == "q1"
    store.rename(first, "asma", "  x" * 100)
    assert len(store.get(first, "asma").title) <= 120
    with pytest.raises(ConversationInputError):
        store.rename(first, "asma", "   \n ")


def test_another_user_cannot_see_or_touch_a_conversation(store):
    cid = store.create("asma", "mine")
    tid = store.add_turn(cid, "asma", "q", "q", answer())
    calls = [
        lambda: store.get(cid, "bilal"),
        lambda: store.rename(cid, "bilal", "stolen"),
        lambda: store.delete(cid, "bilal"),
        lambda: store.add_turn(cid, "bilal", "q", "q", answer()),
        lambda: store.set_feedback(tid, "bilal", "down", "other"),
        lambda: store.get(cid, ""),  # no login is a user of its own
    ]
    for call in calls:
        with pytest.raises(ConversationNotFound) as other:
            call()
        assert isinstance(other.value, AssistantError)
    with pytest.raises(ConversationNotFound) as missing:
        store.get("0" * 32, "bilal")
    assert str(other.value).replace(cid, "ID") == str(missing.value).replace("0" * 32, "ID")  # nothing revealed
    assert store.conversations("bilal") == []
    conv = store.get(cid, "asma")
    assert conv.title == "mine" and len(conv.turns) == 1 and conv.turns[0].vote is None


def test_delete_cascades_to_turns(store):
    cid = store.create("asma", "t")
    tid = store.add_turn(cid, "asma", "q", "q", answer())
    store.set_feedback(tid, "asma", "down", "wrong figure")
    store.delete(cid, "asma")
    assert store.conversations("asma") == [] and store.down_votes() == []
    with pytest.raises(ConversationNotFound):
        store.get(cid, "asma")
    with pytest.raises(ConversationNotFound):
        store.set_feedback(tid, "asma", "up")


def test_a_restarted_store_loses_nothing(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    store = ConversationStore(path)
    cid = store.create("asma", "kept")
    tid = store.add_turn(cid, "asma", "q", "q", answer(), "v7")
    store.set_feedback(tid, "asma", "down", "wrong source", "  the second source is unrelated  ")
    before = store.get(cid, "asma")
    del store
    again = ConversationStore(path)
    assert again.get(cid, "asma") == before
    assert before.turns[0].comment == "the second source is unrelated"


def test_concurrent_adds_keep_every_turn_in_order(store):
    cid = store.create("asma", "busy")
    errors: list[BaseException] = []

    def add(name: str) -> None:
        try:
            for n in range(20):
                store.add_turn(cid, "asma", f"{name}-{n}", None, answer())
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    turns = store.get(cid, "asma").turns
    assert len(turns) == 40 and [t.position for t in turns] == list(range(1, 41))
    for name in ("a", "b"):  # each thread's turns in the order it added them
        assert [t.question for t in turns if t.question.startswith(name)] == [f"{name}-{n}" for n in range(20)]


def test_a_file_that_is_not_sqlite_gives_a_clear_error(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    path.write_bytes(b"this is not a database\x00\xff" * 200)
    with pytest.raises(ConversationStoreError) as err:
        ConversationStore(path)
    assert str(path) in str(err.value) and "not a readable SQLite database" in str(err.value)


def test_a_newer_schema_is_refused(tmp_path):
    import sqlite3

    path = tmp_path / "conversations.sqlite3"
    ConversationStore(path)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(ConversationStoreError, match="newer version"):
        ConversationStore(path)


def test_an_older_database_gets_the_later_migrations_in_order_and_keeps_its_data(tmp_path, monkeypatch):
    import sqlite3

    from assistant import conversations

    path = tmp_path / "conversations.sqlite3"
    store = ConversationStore(path)
    cid = store.create("asma", "پہلی گفتگو")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(conversations.MIGRATIONS)
    later = (("pinned conversations", ("ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0",)),
             ("pins by user", ("CREATE INDEX conversations_pinned ON conversations (user, pinned)",)))  # fmt: skip
    monkeypatch.setattr(conversations, "MIGRATIONS", conversations.MIGRATIONS + later)
    again = ConversationStore(path)  # a newer assistant opens the file
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(conversations.MIGRATIONS)
        assert db.execute("SELECT pinned FROM conversations WHERE id = ?", (cid,)).fetchone() == (0,)
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'conversations_pinned'").fetchone()
    assert [c.title for c in again.conversations("asma")] == ["پہلی گفتگو"]
    ConversationStore(path)  # opened again: nothing left to run (a step run twice would fail)


def test_feedback_round_trip_and_validation(store):
    cid = store.create("asma", "")
    tid = store.add_turn(cid, "asma", "q", "q", answer())
    store.set_feedback(tid, "asma", "down", "wrong figure", "x" * 5000)
    turn = store.get(cid, "asma").turns[0]
    assert (turn.vote, turn.reason, len(turn.comment)) == ("down", "wrong figure", 1000) and turn.feedback_at
    store.set_feedback(tid, "asma", "up", "wrong figure")  # a changed mind; a reason belongs to 👎 only
    turn = store.get(cid, "asma").turns[0]
    assert (turn.vote, turn.reason, turn.comment) == ("up", None, "")
    with pytest.raises(ConversationInputError):
        store.set_feedback(tid, "asma", "sideways")
    with pytest.raises(ConversationInputError):
        store.set_feedback(tid, "asma", "down", "too slow")
    assert store.get(cid, "asma").turns[0].vote == "up"


def test_markdown_export(store):
    cid = store.create("asma", "Bridge points")
    store.add_turn(cid, "asma", "And how many?", "How many bridge points?", answer())
    store.add_turn(cid, "asma", "Who won the 1998 cup?", None, refusal())
    md = conversation_markdown(store.get(cid, "asma"))
    assert md.startswith("# Bridge points\n")
    assert "**Q:** And how many?" in md and "How many bridge points?" in md and "**A:** 38" in md
    assert "- صوبے کے 38 کمیونز اور وارڈز کے پل پوائنٹس [1]" in md
    assert "[1] Lai Chau conference — corpus/000_a.txt — <https://laichau.gov.vn/a>" in md
    assert "[2] Second report — corpus/001_b.txt — no source link" in md
    assert "> صوبے کے 38 کمیونز اور وارڈز کے پل پوائنٹس\n> سے کانفرنس منسلک تھی۔" in md  # both lines quoted
    assert f"**A:** {REFUSALS['en']} _(refused" in md


HOSTILE = ["[click](http://evil/title)", "![x](http://evil/img.png)", "<img src=x onerror=alert(1)>",
           "<a href='http://evil/a'>a</a>", "www.evil.example", "[ref]: http://evil/ref"]  # fmt: skip


def test_markdown_export_keeps_links_images_and_html_from_reports_and_users_inert(store):
    """Rendered by a real Markdown renderer (markdown-it, CommonMark with raw HTML on),
    the export shows every hostile title, question, answer, quote and comment as text:
    the only link is our own source link."""
    from markdown_it import MarkdownIt

    hostile = " ".join(HOSTILE)
    bad = answer(question=hostile)
    bad.answer, bad.supporting = f"38 {hostile}", [f"صوبے کے 38 {hostile}"]
    bad.citations[0] = bad.citations[0].model_copy(
        update={"title": hostile, "file": "corpus/[x](http://evil/f).txt", "quote": "\n".join(HOSTILE)}
    )
    bad.citations[1] = bad.citations[1].model_copy(update={"source_url": "javascript:alert(1)"})
    cid = store.create("asma", hostile)
    turn = store.add_turn(cid, "asma", hostile, f"standalone {hostile}", bad)
    store.set_feedback(turn, "asma", "down", "other", hostile)
    md = conversation_markdown(store.get(cid, "asma"))
    html = MarkdownIt("commonmark", {"html": True}).render(md)
    links = re.findall(r"<a [^>]*>", html)
    assert links == ['<a href="https://laichau.gov.vn/a">'], links  # our own source link only
    assert "<img" not in html and "onerror=alert(1)>" not in html and "http://evil" not in md
    assert "evil" not in "".join(re.findall(r"<(?!/?(?:h1|p|strong|em|ul|li|blockquote|hr|a)\b)[^>]*>", html))
    text = re.sub(r"<[^>]+>", "", html)
    for piece in HOSTILE[:3]:  # shown as written (HTML-escaped by the renderer)
        assert piece.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in text, piece
    assert "javascript:alert(1)" in text and 'href="javascript' not in html


def test_export_candidates_writes_each_down_vote_once_in_the_eval_format(store, tmp_path):
    a, b = store.create("asma", ""), store.create("bilal", "")
    up = store.add_turn(a, "asma", "q up", None, answer())
    down_en = store.add_turn(a, "asma", "And how many?", "How many bridge points?", answer(), "v3")
    down_ur = store.add_turn(b, "bilal", "کتنے؟", None, answer("کتنے؟", "ur"))
    refused = store.add_turn(b, "bilal", "Who won?", None, answer())
    store.set_feedback(up, "asma", "up")
    store.set_feedback(down_en, "asma", "down", "wrong figure", "it is 39")
    store.set_feedback(down_ur, "bilal", "down")
    store.set_feedback(refused, "bilal", "down", "should have refused")
    assert [d.turn.id for d in store.down_votes()] == [down_en, down_ur, refused]

    out = tmp_path / "evals" / "candidates"
    path = export_candidates(store, out)
    assert path.parent == out and path.name.startswith("feedback-") and path.suffix == ".jsonl"
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert "کتنے" in path.read_text(encoding="utf-8")  # not \\u-escaped
    assert [i["turn_id"] for i in items] == [down_en, down_ur, refused]
    en, ur, unanswerable = items
    assert en["id"] == f"fb-{down_en}" and en["form"] == "english" and en["language"] == "en"
    assert en["question"] == "How many bridge points?" and en["accept"] == []
    assert (en["gold_doc"], en["gold_passage"]) == ("000_a.txt", QUOTE)
    assert en["assistant_answer"] == "38" and en["reason"] == "wrong figure" and en["comment"] == "it is 39"
    assert en["citations"][1] == {"doc_id": "001_b.txt", "file": "corpus/001_b.txt", "quote": "دوسرا اقتباس"}
    assert en["conversation_id"] == a and en["index_version"] == "v3"
    assert ur["form"] == "paraphrase" and ur["reason"] is None
    assert unanswerable["form"] == "unanswerable" and unanswerable["gold_doc"] is None

    with pytest.raises(ValidationError):  # cannot be scored by accident while `accept` is empty
        EvalItem(**en)
    assert EvalItem(**{**en, "accept": ["39"]}).answerable
    EvalItem(**unanswerable)  # a refusal needs no accepted answer

    assert export_candidates(store, out) is None  # nothing new
    store.set_feedback(up, "asma", "down", "other")
    second = export_candidates(store, out)
    assert second != path and [json.loads(x)["turn_id"] for x in second.read_text().splitlines()] == [up]
    assert all(d.turn.exported for d in store.down_votes())


def test_cli_feedback_and_conversation_export(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
    store = conversation_store(Settings())
    assert store.path == data / "conversations.sqlite3"
    cid = store.create("asma", "CLI")
    tid = store.add_turn(cid, "asma", "How many bridge points?", None, answer())
    out = tmp_path / "candidates"

    assert main(["feedback", "export", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == "no new 👎 feedback"
    store.set_feedback(tid, "asma", "down", "wrong source")
    assert main(["feedback", "export", "--out", str(out)]) == 0
    written = capsys.readouterr().out.strip()
    candidate = json.loads(open(written, encoding="utf-8").read())
    assert written.startswith(str(out)) and candidate["turn_id"] == tid
    assert candidate["gold_doc"] is None  # the cited source is the one called wrong: not offered as gold

    assert main(["conversations", "export", cid, "--user", "asma"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# CLI\n") and "**Q:** How many bridge points?" in md and "[1] Lai Chau" in md
    assert main(["conversations", "export", cid]) == 2  # not this user's (no login)
    assert "no conversation" in capsys.readouterr().err


def test_markdown_shows_a_citation_location_when_there_is_one(store):
    located = answer()
    located.citations[0] = located.citations[0].model_copy(update={"location": "page 4"})
    cid = store.create("asma", "t")
    store.add_turn(cid, "asma", "q", None, located)
    conversation = store.get(cid, "asma")  # the location is stored with the answer
    assert "[1] Lai Chau conference — corpus/000_a.txt (page 4) — <https://laichau.gov.vn/a>" in conversation_markdown(
        conversation
    )


def test_a_failed_export_leaves_the_turns_for_the_next_one(store, tmp_path):
    cid = store.create("asma", "")
    tid = store.add_turn(cid, "asma", "q", None, answer())
    store.set_feedback(tid, "asma", "down", "other")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(ConversationStoreError, match="cannot write feedback candidates"):
        export_candidates(store, blocked)
    assert store.down_votes()[0].turn.exported is None
    assert export_candidates(store, tmp_path / "out") is not None


def test_a_deleted_turns_id_is_never_given_again(store):
    """A 👎 from a tab still showing a deleted conversation must not land on a newer answer."""
    first = store.create("asma")
    old = store.add_turn(first, "asma", "q", None, answer())
    store.delete(first, "asma")
    second = store.create("asma")
    new = store.add_turn(second, "asma", "q", None, answer())
    assert new != old
    with pytest.raises(ConversationNotFound):
        store.set_feedback(old, "asma", "down")


def test_a_vote_taken_back_leaves_nothing_to_export(store, tmp_path):
    cid = store.create("asma")
    tid = store.add_turn(cid, "asma", "q", None, answer())
    store.set_feedback(tid, "asma", "down", "wrong figure", "it is 39")
    store.set_feedback(tid, "asma", None)  # the 👎 clicked again
    turn = store.get(cid, "asma").turns[0]
    assert (turn.vote, turn.reason, turn.comment) == (None, None, "")
    assert export_candidates(store, tmp_path) is None
