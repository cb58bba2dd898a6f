"""Command line: a thin shell over `Assistant`. Flags override ASSISTANT_* variables."""

import argparse
import getpass
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from .answers import Answer
from .assistant import Assistant
from .errors import AssistantError, BackendUnavailableError, IndexMissingError
from .library import ReportInfo
from .settings import Settings

_KEYS = ("answer", "evidence", "sources", "file", "url", "chars")
LABELS = {
    "ur": dict(zip(_KEYS, ("جواب", "ثبوت", "حوالہ جات", "فائل", "ماخذ", "حروف"))),
    "en": dict(zip(_KEYS, ("Answer", "Evidence", "Sources", "File", "Source", "chars"))),
}


def format_answer(answer: Answer) -> str:
    label = LABELS[answer.language]
    lines = [f"{label['answer']}: {answer.answer}"]
    if answer.refused:
        return lines[0]
    g = answer.grounding
    if g and g.fell_back:
        lines.append("(the LLM answer failed the grounding check; the extractive answer is shown)")
    elif g and not g.passed:
        lines.append(f"(NOT VERIFIED: {', '.join(g.unsupported_figures) or 'no citations'} not in the cited passages)")
    lines += ["", f"{label['evidence']}:"]
    for number, sentence in enumerate(answer.supporting, start=1):
        lines.append(f"  «{sentence}» [{number}]")
    lines += ["", f"{label['sources']}:"]
    for c in answer.citations:
        lines.append(f"  [{c.number}] {c.title}")
        where = f"{c.location}, " if c.location else ""
        lines.append(f"      {label['file']}: {c.file} ({where}{label['chars']} {c.start}–{c.end})")
        lines.append(f"      {label['url']}: {c.source_url or '—'}")
        lines.append(f"      «{c.quote}»")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    parser.add_argument("--index", dest="index_dir", type=Path, help="index folder (ASSISTANT_INDEX_DIR)")
    parser.add_argument("--corpus", dest="corpus_dir", type=Path, help="corpus folder (ASSISTANT_CORPUS_DIR)")
    parser.add_argument("--embedding", help="'e5-small-q4' or 'sentence-transformers:<model>' (ASSISTANT_EMBEDDING)")
    parser.add_argument("--chroma-url", help="use a `chroma run` server at this URL (ASSISTANT_CHROMA_URL)")
    parser.add_argument("--top-k", type=int, help="passages retrieved (ASSISTANT_TOP_K)")
    parser.add_argument("--answerer", choices=("extractive", "llm"), help="who writes answers (ASSISTANT_ANSWERER)")
    parser.add_argument("--llm-backend", choices=("openai", "ollama"), help="LLM server kind (ASSISTANT_LLM_BACKEND)")
    parser.add_argument("--llm-base-url", help="LLM server URL (ASSISTANT_LLM_BASE_URL)")
    parser.add_argument("--llm-model", help="model name on the LLM server (ASSISTANT_LLM_MODEL)")
    parser.add_argument("--data", dest="data_dir", type=Path, help="conversations folder (ASSISTANT_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="load reports into the index (incremental)")
    ingest.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the corpus folder)")
    ingest.add_argument("--rebuild", action="store_true", help="drop the index and build it anew")
    ingest.add_argument("--no-progress", action="store_true", help="no progress bar")

    ask = sub.add_parser("ask", help="answer one question with citations")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="machine-readable output")
    serve = sub.add_parser("serve", aliases=["chat"], help="serve the staff chat (at /) and the HTTP API (/api, /v1; "
                           "its documentation at /docs)")  # fmt: skip
    serve.add_argument("--host", dest="chat_host", help="address to listen on (ASSISTANT_CHAT_HOST, default 127.0.0.1)")
    serve.add_argument("--port", dest="chat_port", type=int, help="port (ASSISTANT_CHAT_PORT, default 7860)")
    serve.add_argument("--admins", dest="chat_admins", help="users who may add reports (ASSISTANT_CHAT_ADMINS)")
    users = sub.add_parser("users", help="chat logins, kept hashed in data_dir/users.json")
    users_sub = users.add_subparsers(dest="action", required=True)
    add = users_sub.add_parser("add", help="add a login, or set a new password (asked twice; one line on stdin "
                               "without a terminal)")  # fmt: skip
    add.add_argument("name")
    add.add_argument("--admin", action=argparse.BooleanOptionalAction, default=None,
                     help="may add and remove reports (--no-admin: staff; neither: keep the role)")  # fmt: skip
    users_sub.add_parser("list", help="every login and whether it is an admin")
    drop = users_sub.add_parser("remove", help="delete a login")
    drop.add_argument("name")

    ev = sub.add_parser("eval", help="score the assistant on a question set in evals/")
    ev.add_argument(
        "--set", dest="set_name", default="dev", help="evals/<NAME>.jsonl (dev, test), or a path to a .jsonl file"
    )
    ev.add_argument("--report", dest="report_dir", type=Path, default=Path("reports/eval"), help="where reports go")
    gate = ev.add_mutually_exclusive_group()
    gate.add_argument("--thresholds", type=Path, default=Path("evals/thresholds.toml"),
                      help="the limits each metric must meet (a missing file is an error)")  # fmt: skip
    gate.add_argument("--no-thresholds", action="store_true", help="score only: no limit is checked")
    ev.add_argument("--no-progress", action="store_true", help="no progress bar")

    feedback = sub.add_parser("feedback", help="answers staff marked 👎 in the chat")
    fb_export = feedback.add_subparsers(dest="action", required=True).add_parser(
        "export", help="write new 👎 answers as candidate eval items (JSONL) for a person to review"
    )
    fb_export.add_argument("--out", type=Path, default=Path("evals/candidates"), help="folder for the JSONL file")
    reports = sub.add_parser("reports", help="the report library: which reports the assistant knows")
    reports_sub = reports.add_subparsers(dest="action", required=True)
    listing = reports_sub.add_parser("list", help="every report: title, file, format, size, when and who added it")
    listing.add_argument("--search", default="", help="only titles or files holding this text")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    show = reports_sub.add_parser("show", help="one report's details")
    show.add_argument("id", help="the report's id (its file relative to the corpus folder, as `list` shows)")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    remove = reports_sub.add_parser("remove", help="delete a report's file and its chunks from the index")
    remove.add_argument("id", help="the report's id (as `list` shows)")
    remove.add_argument("--yes", action="store_true", help="do not ask to confirm")
    reindex = reports_sub.add_parser("reindex", help="read a report's file again and index it anew")
    reindex.add_argument("id", help="the report's id (as `list` shows)")
    conversations = sub.add_parser("conversations", help="saved chat conversations")
    conv_sub = conversations.add_subparsers(dest="action", required=True)
    conv_list = conv_sub.add_parser("list", help="one user's conversations, newest first: id, when, turns, title")
    conv_list.add_argument("--user", default="", help="their chat login (default: no login)")
    conv_list.add_argument("--search", default="", help="only those whose title or a question holds this text")
    conv_export = conv_sub.add_parser("export", help="print a saved conversation as Markdown")
    conv_export.add_argument("id", help="the conversation's id")
    conv_export.add_argument("--user", default="", help="its owner's chat login (default: no login)")
    return parser


def _conversations(settings: Settings, args: argparse.Namespace) -> int:
    from .conversations import conversation_markdown, conversation_store, export_candidates

    store = conversation_store(settings)
    if args.command == "feedback":
        path = export_candidates(store, args.out)
        print(path if path else "no new 👎 feedback")
    elif args.action == "list":
        listed = store.conversations(args.user, args.search)
        for c in listed:
            when = datetime.fromtimestamp(c.updated, UTC).strftime("%Y-%m-%d %H:%M")
            print(f"{c.id}\t{when} UTC\t{c.turn_count} turns\t{c.title}")
        print(f"{len(listed)} conversations" + (f" of {args.user!r}" if args.user else " without a login"))
    else:
        print(conversation_markdown(store.get(args.id, args.user)), end="")
    return 0


def report_lines(report: ReportInfo) -> list[str]:
    """A report as `reports show` prints it (no server paths: the file is relative to the corpus folder)."""
    size = [f"{report.pages} pages" if report.pages else "", f"{report.paragraphs} paragraphs" if report.paragraphs
            else "", f"{report.chunks} chunks", f"{report.sentences} sentences"]  # fmt: skip
    lines = [report.title, f"  id: {report.doc_id}", f"  file: {report.file} ({report.format})",
             f"  size: {', '.join(s for s in size if s)}",
             f"  indexed: {report.indexed_at or 'before this was recorded'}"
             + (f" by {report.added_by}" if report.added_by else ""),
             f"  source: {report.source_url or '—'}"]  # fmt: skip
    if report.same_report_as:
        lines.append(f"  ! the same report in another file: {', '.join(report.same_report_as)}")
    return lines


def _reports(assistant: Assistant, args: argparse.Namespace) -> int:
    if args.action == "list":
        listed = assistant.reports(args.search)
        if args.json:
            print(json.dumps([r.model_dump(mode="json") for r in listed], ensure_ascii=False, indent=2))
            return 0
        for r in listed:
            twin = "  ! also " + ", ".join(r.same_report_as) if r.same_report_as else ""
            print(f"{r.doc_id}\t{r.format}\t{r.chunks} chunks\t{r.title}{twin}")
        print(f"{len(listed)} reports" + (f" matching {args.search!r}" if args.search else ""))
        return 0
    report = assistant.report(args.id)
    if args.action == "reindex":
        print(assistant.reindex_report(report.doc_id, added_by=command_line_user()).summary())
        return 0
    if args.action == "show":
        print(report.model_dump_json(indent=2) if args.json else "\n".join(report_lines(report)))
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            print("error: removing a report needs --yes when there is no terminal to confirm on", file=sys.stderr)
            return 2
        answer = input(f"Remove {report.doc_id!r} ({report.title}): its file and its {report.chunks} chunks? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing removed")
            return 1
    assistant.remove_report(report.doc_id)
    print(f"removed {report.doc_id} ({report.chunks} chunks)")
    return 0


def _users(settings: Settings, args: argparse.Namespace) -> int:
    from .users import add_user, read_users, remove_user, users_file

    path = users_file(settings.data_dir)
    try:
        if args.action == "list":
            for name, account in read_users(path).items():
                print(f"{name}\t{'admin' if account.admin else 'staff'}")
        elif args.action == "remove":
            remove_user(path, args.name)
            print(f"removed {args.name}")
        else:
            if sys.stdin.isatty():
                password = getpass.getpass(f"password for {args.name}: ")
                if getpass.getpass("again: ") != password:
                    print("error: the two passwords differ; nothing changed", file=sys.stderr)
                    return 2
            else:
                password = sys.stdin.readline().rstrip("\n")
            first = not path.exists()
            new = add_user(path, args.name, password, admin=args.admin)
            role = "admin" if read_users(path)[args.name].admin else "staff"
            print(f"{'added' if new else 'updated'} {args.name} ({role}) in {path}")
            if first:  # a chat started without any login serves without one until it restarts
                print("note: a chat already running without logins needs a restart to ask for them", file=sys.stderr)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def command_line_user() -> str:
    """Who runs an ingest from the shell, as the library records it."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no name for this user id (a container)
        name = str(os.getuid())
    return f"command line ({name})"


def _eval(assistant: Assistant, args: argparse.Namespace) -> int:
    from .evaluation import evaluate, write_reports

    path = Path(args.set_name) if args.set_name.endswith(".jsonl") else Path("evals") / f"{args.set_name}.jsonl"
    thresholds = None if args.no_thresholds else args.thresholds
    if thresholds is not None and not thresholds.is_file():  # never a silently ungated run
        print(f"error: no thresholds file {thresholds}; pass --no-thresholds to score without limits", file=sys.stderr)
        return 2
    try:
        run = evaluate(assistant, path, thresholds, progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json_path, md_path = write_reports(run, args.report_dir, assistant.settings.model_dump(mode="json"))
    row = run.table["all"]
    print(" ".join(f"{k}={v}" for k, v in row.items()))
    print(f"reports: {json_path} {md_path}")
    for failure in run.failures:
        print(f"below threshold: {failure}", file=sys.stderr)
    return 0 if run.passed else 1


def _settings(args: argparse.Namespace) -> Settings:
    flags = ("index_dir", "corpus_dir", "embedding", "chroma_url", "top_k", "answerer", "llm_backend", "llm_base_url",
             "llm_model", "chat_host", "chat_port", "chat_admins", "data_dir")  # fmt: skip
    return Settings(**{k: getattr(args, k) for k in flags if getattr(args, k, None) is not None})


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: invalid setting: {problems}", file=sys.stderr)
        return 2
    try:
        if args.command in ("feedback", "conversations"):
            return _conversations(settings, args)  # no index or embedding needed
        if args.command == "users":
            return _users(settings, args)
        assistant = Assistant(settings)
        if args.command == "ingest":
            report = assistant.ingest(args.paths or None, rebuild=args.rebuild, progress=not args.no_progress,
                                      added_by=command_line_user())  # fmt: skip
            for skipped in report.skipped:
                print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
            print(report.summary())
        elif args.command == "ask":
            answer = assistant.ask(args.question)
            print(answer.model_dump_json(indent=2) if args.json else format_answer(answer))
        elif args.command in ("serve", "chat"):
            try:
                from .server import serve
            except ImportError as exc:
                raise BackendUnavailableError("the server needs `pip install -e '.[chat]'` (gradio)") from exc
            try:
                assistant.index  # noqa: B018 - fail now, with a clear message, if the index is unusable
            except IndexMissingError:  # a first run: admins add the first reports from the chat
                print("no reports yet: the chat starts empty; admins add reports in it, or run `assistant ingest`",
                      file=sys.stderr)  # fmt: skip
            serve(assistant)
        elif args.command == "eval":
            return _eval(assistant, args)
        elif args.command == "reports":
            return _reports(assistant, args)
    except AssistantError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": type(exc).__name__, "message": str(exc)}, ensure_ascii=False))
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
