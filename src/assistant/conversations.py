"""Saved chat conversations and answer feedback, in one SQLite file under `data_dir`.

One connection per operation (WAL, busy timeout, foreign keys on), so Gradio's worker threads
and several processes can share the file. Every read or write that takes `user` sees only that
user's conversations: another user's id is "not found", exactly like a missing one.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ValidationError

from .answers import Answer
from .errors import AssistantError
from .settings import Settings

BUSY_TIMEOUT_S = 10.0
TITLE_MAX, AUTO_TITLE_MAX, COMMENT_MAX = 120, 60, 1000
Vote = Literal["up", "down"]
Reason = Literal["wrong figure", "wrong source", "should have refused", "other"]

# The schema, as numbered steps: a database at step n (SQLite's user_version) gets the
# steps after it, in order, in one transaction. A change to the schema is a new step
# at the end, never an edit of one already shipped.
MIGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("conversations, and their turns with feedback", (
        """CREATE TABLE IF NOT EXISTS conversations (
            id TEXT PRIMARY KEY, user TEXT NOT NULL, title TEXT NOT NULL, created REAL NOT NULL,
            updated REAL NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS conversations_by_user ON conversations (user, updated)",
        """CREATE TABLE IF NOT EXISTS turns (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            position INTEGER NOT NULL, question TEXT NOT NULL, standalone TEXT NOT NULL, answer_json TEXT NOT NULL,
            index_version TEXT, created REAL NOT NULL, vote TEXT CHECK (vote IN ('up', 'down')), reason TEXT,
            comment TEXT, feedback_at REAL, exported REAL, UNIQUE (conversation_id, position))""",
        "CREATE INDEX IF NOT EXISTS turns_down ON turns (exported) WHERE vote = 'down'",
    )),
)  # fmt: skip
# each row's columns by name: a conversation's as `conversation_<field>`, a turn's as `turn_<field>`
_SUMMARY_COLUMNS = (
    "c.id AS conversation_id, c.title AS conversation_title, c.created AS conversation_created, "
    "c.updated AS conversation_updated, "
    "(SELECT COUNT(*) FROM turns x WHERE x.conversation_id = c.id) AS conversation_turn_count"
)
_TURN_FIELDS = ("id", "position", "question", "standalone", "answer_json", "index_version", "created", "vote", "reason",
                "comment", "feedback_at", "exported")  # fmt: skip
_TURN_COLUMNS = ", ".join(f"t.{name} AS turn_{name}" for name in _TURN_FIELDS)


def _fields(row: sqlite3.Row, prefix: str) -> dict[str, Any]:
    return {key.removeprefix(prefix): row[key] for key in row.keys() if key.startswith(prefix)}


class ConversationStoreError(AssistantError):
    """The conversation database cannot be opened, read or written."""


class ConversationNotFound(ConversationStoreError, LookupError):
    """No such conversation or turn for this user (whether or not another user has it)."""


class ConversationInputError(AssistantError, ValueError):
    """An empty title, or a vote or reason that is not one of the allowed values."""


class ConversationSummary(BaseModel):
    id: str
    title: str
    created: float
    updated: float
    turn_count: int


class Turn(BaseModel):
    id: int
    position: int
    question: str
    standalone: str
    answer: Answer
    index_version: str | None
    created: float
    vote: Vote | None = None
    reason: Reason | None = None
    comment: str = ""
    feedback_at: float | None = None
    exported: float | None = None


class Conversation(ConversationSummary):
    turns: list[Turn]


class DownVote(BaseModel):
    """A 👎 turn with its conversation, for export (all users)."""

    user: str
    conversation: ConversationSummary
    turn: Turn


def _title(text: str, limit: int) -> str:
    """One line, at most `limit` characters (cut at a word where one is near)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


class ConversationStore:
    """Conversations, turns and feedback in the SQLite file at `path` (created if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConversationStoreError(f"cannot create the folder for {self.path}: {exc}") from None
        with self._db(None) as db:
            db.execute("PRAGMA journal_mode = WAL")  # persistent; raises first on a file that is not SQLite
            db.execute("BEGIN IMMEDIATE")  # two processes starting at once create the schema once
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise ConversationStoreError(
                    f"{self.path} was written by a newer version (schema {version}, this one reads "
                    f"{len(MIGRATIONS)}); upgrade the assistant or point data_dir elsewhere"
                )
            for _name, statements in MIGRATIONS[version:]:
                for statement in statements:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
            db.execute("COMMIT")

    @contextmanager
    def _db(self, begin: str | None = "BEGIN") -> Iterator[sqlite3.Connection]:
        """A fresh connection, inside one transaction (`begin`) committed at the end; any
        SQLite failure becomes a ConversationStoreError that names the file."""
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            db.row_factory = sqlite3.Row
        except sqlite3.Error as exc:
            raise ConversationStoreError(f"cannot open the conversation database {self.path}: {exc}") from None
        try:
            db.execute("PRAGMA foreign_keys = ON")
            if begin:
                db.execute(begin)
            yield db
            if db.in_transaction:
                db.execute("COMMIT")
        except BaseException as exc:
            with suppress(sqlite3.Error):
                db.rollback()
            if isinstance(exc, sqlite3.Error):
                broken = getattr(exc, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT")
                hint = " (not a readable SQLite database: move it away to start afresh)" if broken else ""
                raise ConversationStoreError(f"conversation database {self.path}: {exc}{hint}") from None
            raise
        finally:
            db.close()

    @staticmethod
    def _own(db: sqlite3.Connection, conversation_id: str, user: str) -> None:
        if not db.execute("SELECT 1 FROM conversations WHERE id = ? AND user = ?", (conversation_id, user)).fetchone():
            raise ConversationNotFound(f"no conversation {conversation_id!r}")

    def _turn(self, row: sqlite3.Row) -> Turn:
        fields = _fields(row, "turn_")
        try:
            fields["answer"] = Answer.model_validate_json(fields.pop("answer_json"))
        except ValidationError as exc:
            unreadable = f"{self.path}: turn {fields['id']} holds an unreadable answer ({exc})"
            raise ConversationStoreError(unreadable) from None
        return Turn(**{**fields, "comment": fields["comment"] or ""})

    def create(self, user: str, title: str = "") -> str:
        """A new, empty conversation's id; an empty title is replaced by the first question."""
        conversation_id, now = uuid.uuid4().hex, time.time()
        with self._db("BEGIN IMMEDIATE") as db:
            db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                       (conversation_id, user, _title(title, TITLE_MAX), now, now))  # fmt: skip
        return conversation_id

    def conversations(self, user: str, search: str = "") -> list[ConversationSummary]:
        """The user's conversations, most recently updated first; with `search`, those whose
        title or any question holds it (Latin letters in any case)."""
        where, args = "c.user = ?", [user]
        if search.strip():
            pattern = "%" + search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where += (" AND (c.title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM turns t "
                      "WHERE t.conversation_id = c.id AND t.question LIKE ? ESCAPE '\\'))")  # fmt: skip
            args += [pattern, pattern]
        with self._db() as db:
            rows = db.execute(f"SELECT {_SUMMARY_COLUMNS} FROM conversations c WHERE {where} "
                              "ORDER BY c.updated DESC, c.rowid DESC", args).fetchall()  # fmt: skip
        return [ConversationSummary(**_fields(r, "conversation_")) for r in rows]

    def get(self, conversation_id: str, user: str) -> Conversation:
        with self._db() as db:
            row = db.execute(f"SELECT {_SUMMARY_COLUMNS} FROM conversations c WHERE c.id = ? AND c.user = ?",
                             (conversation_id, user)).fetchone()  # fmt: skip
            if not row:
                raise ConversationNotFound(f"no conversation {conversation_id!r}")
            turns = db.execute(f"SELECT {_TURN_COLUMNS} FROM turns t WHERE t.conversation_id = ? ORDER BY t.position",
                               (conversation_id,)).fetchall()  # fmt: skip
        return Conversation(**_fields(row, "conversation_"), turns=[self._turn(t) for t in turns])

    def rename(self, conversation_id: str, user: str, title: str) -> None:
        title = _title(title, TITLE_MAX)
        if not title:
            raise ConversationInputError("a conversation title cannot be empty")
        with self._db("BEGIN IMMEDIATE") as db:
            self._own(db, conversation_id, user)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def delete(self, conversation_id: str, user: str) -> None:
        """Delete the conversation with its turns and their feedback."""
        with self._db("BEGIN IMMEDIATE") as db:
            self._own(db, conversation_id, user)
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def add_turn(self, conversation_id: str, user: str, question: str, standalone: str | None, answer: Answer,
                 index_version: str | None = None) -> int:  # fmt: skip
        """Append a turn (position taken under the write lock, so concurrent adds keep both); its id."""
        now = time.time()
        with self._db("BEGIN IMMEDIATE") as db:
            self._own(db, conversation_id, user)
            (position,) = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM turns WHERE conversation_id = ?",
                                     (conversation_id,)).fetchone()  # fmt: skip
            cursor = db.execute(
                "INSERT INTO turns (conversation_id, position, question, standalone, answer_json, index_version, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, position, question, standalone or question, answer.model_dump_json(),
                 index_version, now),
            )  # fmt: skip
            db.execute("UPDATE conversations SET updated = ?, title = CASE WHEN title = '' THEN ? ELSE title END "
                       "WHERE id = ?", (now, _title(question, AUTO_TITLE_MAX), conversation_id))  # fmt: skip
            if cursor.lastrowid is None:  # sqlite3 sets it after every INSERT
                raise ConversationStoreError("the new turn got no id")
            return cursor.lastrowid

    def set_feedback(self, turn_id: int, user: str, vote: Vote | None, reason: Reason | None = None,
                     comment: str = "") -> None:  # fmt: skip
        """Record (or replace) the user's vote on a turn; a reason goes with 👎 only and is
        dropped on 👍; `None` takes the vote back (with its reason and comment)."""
        if vote is not None and vote not in get_args(Vote):
            raise ConversationInputError(f"vote must be one of {get_args(Vote)}, got {vote!r}")
        if reason is not None and reason not in get_args(Reason):
            raise ConversationInputError(f"reason must be one of {get_args(Reason)} or empty, got {reason!r}")
        reason = reason if vote == "down" else None
        comment = (comment or "").strip()[:COMMENT_MAX] if vote else ""
        with self._db("BEGIN IMMEDIATE") as db:
            owned = db.execute("SELECT 1 FROM turns t JOIN conversations c ON c.id = t.conversation_id "
                               "WHERE t.id = ? AND c.user = ?", (turn_id, user)).fetchone()  # fmt: skip
            if not owned:
                raise ConversationNotFound(f"no turn {turn_id!r}")
            db.execute("UPDATE turns SET vote = ?, reason = ?, comment = ?, feedback_at = ? WHERE id = ?",
                       (vote, reason, comment, time.time() if vote else None, turn_id))  # fmt: skip

    def _down_votes(self, db: sqlite3.Connection, new_only: bool) -> list[DownVote]:
        rows = db.execute(
            f"SELECT c.user AS user, {_SUMMARY_COLUMNS}, {_TURN_COLUMNS} FROM turns t JOIN conversations c "
            f"ON c.id = t.conversation_id WHERE t.vote = 'down' {'AND t.exported IS NULL ' if new_only else ''}"
            "ORDER BY t.id"
        ).fetchall()
        return [
            DownVote(
                user=r["user"], conversation=ConversationSummary(**_fields(r, "conversation_")), turn=self._turn(r)
            )
            for r in rows
        ]

    def down_votes(self) -> list[DownVote]:
        """Every user's 👎 turns (exported or not), oldest turn first."""
        with self._db() as db:
            return self._down_votes(db, new_only=False)

    @contextmanager
    def new_down_votes(self) -> Iterator[list[DownVote]]:
        """The 👎 turns not yet exported, marked exported only if the block ends without error.
        Holds the write lock meanwhile, so two exports never write the same turn twice."""
        with self._db("BEGIN IMMEDIATE") as db:
            found = self._down_votes(db, new_only=True)
            yield found
            db.executemany("UPDATE turns SET exported = ? WHERE id = ?", [(time.time(), d.turn.id) for d in found])


def conversation_store(settings: Settings) -> ConversationStore:
    """The store the chat and the CLI share: `data_dir/conversations.sqlite3`."""
    return ConversationStore(settings.data_dir / "conversations.sqlite3")


# the marks that start a link, an image, raw HTML, an entity, code, emphasis or a heading (`_` inside a word cannot)
_MARKUP = re.compile(r"[\\`*\[\]<>&#]|(?<![^\W_])_|_(?![^\W_])")
_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<=www)(\.)|(@)")  # what GFM would turn into a link by itself
_SOURCE_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def md_text(text: str) -> str:
    """Text from a report or a user as inert Markdown: shown as written, never a link,
    an image, raw HTML or formatting. Each mark is backslash-escaped (CommonMark shows the
    mark itself), and so are the `:` of `http://`, the `.` of `www.` and `@`, so a viewer
    with autolinks (GitHub's) makes no link of a bare address either."""
    return _AUTOLINK.sub(lambda m: "\\" + m.group(0), _MARKUP.sub(lambda m: "\\" + m.group(0), text))


def md_line(text: str) -> str:
    """`md_text` on one line: line breaks (which could start a heading, a list or a link
    definition) folded into spaces."""
    return md_text(" ".join(text.split()))


def _source_link(url: str | None) -> str:
    """Our own link to a citation's source: an autolink when it is a plain http(s) address,
    else inert text."""
    if not url:
        return "no source link"
    return f"<{url}>" if _SOURCE_URL.fullmatch(url) else md_line(url)


def _blockquote(text: str) -> str:
    """Every line prefixed (and escaped), so a multi-line quote stays one blockquote of text."""
    return "\n".join(f"> {md_text(line.strip())}".rstrip() for line in text.strip().splitlines() or [""])


def conversation_markdown(conversation: Conversation) -> str:
    """The conversation as Markdown: each question, answer, evidence and numbered, quoted
    sources. Everything that came from a report or a person (titles, questions, answers,
    quotes, comments) is escaped (`md_text`): only our own source links are live."""
    out = [f"# {md_line(conversation.title) or 'Untitled conversation'}", ""]
    for turn in conversation.turns:
        a = turn.answer
        out += [f"**Q:** {md_line(turn.question)}", ""]
        if turn.standalone != turn.question:
            out += [f"_(understood as: {md_line(turn.standalone)})_", ""]
        if a.refused:
            out += [f"**A:** {md_line(a.answer)} _(refused: the reports do not answer this)_", ""]
        else:
            out += [f"**A:** {md_line(a.answer)}", ""]
            if a.grounding and a.grounding.fell_back:
                out += ["_(the LLM answer failed the grounding check; the extractive answer is shown)_", ""]
            elif a.grounding and not a.grounding.passed:
                out += ["_(NOT VERIFIED against the cited passages)_", ""]
            out += [f"- {md_line(s)} [{n}]" for n, s in enumerate(a.supporting, start=1)]
            out += [""] if a.supporting else []
            for c in a.citations:
                file = f"{md_line(c.file)} ({md_line(c.location)})" if c.location else md_line(c.file)
                link = _source_link(c.source_url)  # [n] is never a link: no text can define one
                out += [f"[{c.number}] {md_line(c.title)} — {file} — {link}", "", _blockquote(c.quote), ""]
        if turn.vote:
            note = " — ".join(md_line(x) for x in (turn.reason, turn.comment) if x)
            out += [f"_Feedback: {'👍' if turn.vote == 'up' else '👎'}{' ' + note if note else ''}_", ""]
        out += ["---", ""] if turn is not conversation.turns[-1] else []
    return "\n".join(out).rstrip("\n") + "\n"


def _candidate(d: DownVote) -> dict:
    """A 👎 turn as an eval item to review: `accept` is left empty for a person to fill in."""
    turn, answer = d.turn, d.turn.answer
    unanswerable = turn.reason == "should have refused"
    form = "unanswerable" if unanswerable else ("english" if answer.language == "en" else "paraphrase")
    # the cited passage is a first guess at the gold one, unless it is what the person said was wrong
    trusted = turn.reason not in ("should have refused", "wrong source")
    first = answer.citations[0] if answer.citations and trusted else None
    return {
        "id": f"fb-{turn.id}", "form": form, "language": answer.language, "question": turn.standalone,
        "accept": [], "gold_doc": first.doc_id if first else None, "gold_passage": first.quote if first else None,
        "asked": turn.question, "assistant_answer": answer.answer, "refused": answer.refused,
        "citations": [{"doc_id": c.doc_id, "file": c.file, "quote": c.quote} for c in answer.citations],
        "reason": turn.reason, "comment": turn.comment, "conversation_id": d.conversation.id, "turn_id": turn.id,
        "index_version": turn.index_version,
    }  # fmt: skip


def export_candidates(store: ConversationStore, out_dir: Path) -> Path | None:
    """Write the 👎 turns not exported before as candidate eval items (JSONL) in `out_dir`;
    the file, or None when there is nothing new. Not scored until a person moves it to evals/."""
    with store.new_down_votes() as found:
        if not found:
            return None
        stamp, n = time.strftime("%Y%m%d-%H%M%S"), 1
        lines = "".join(json.dumps(_candidate(d), ensure_ascii=False) + "\n" for d in found)
        path = out_dir / f"feedback-{stamp}.jsonl"
        while path.exists():  # two exports in one second (the database lock keeps them in turn)
            n += 1
            path = out_dir / f"feedback-{stamp}-{n}.jsonl"
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(lines, encoding="utf-8")
        except OSError as exc:
            with suppress(OSError):
                path.unlink(missing_ok=True)  # no half-written file; the turns stay unexported
            raise ConversationStoreError(f"cannot write feedback candidates to {out_dir}: {exc}") from None
        return path
