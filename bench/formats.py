"""How well reports in each format are read: character accuracy of the extracted text
against the source report, and `assistant eval` on a corpus ingested from each format.

The files are the five reports as HTML pages, Word and PDF files LibreOffice made
from them, and the pages printed to PDF by a browser, running header and footer and
the site's menu included (`bench/make_formats.py`, committed under
tests/fixtures/formats/).
Character accuracy is 1 - (edits / source characters), edits counted from difflib's
alignment, after `normalize` (digits, letters, punctuation, spacing) and with the
`ماخذ:` / `تبصرہ` metadata lines left out of both sides (an HTML page carries its
source as a canonical link instead). Eval sets are rewritten to the format's file
names; everything else is the same as `assistant eval`.

    python bench/formats.py [--no-eval]
"""

import argparse
import difflib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from assistant import Assistant, Settings  # noqa: E402
from assistant.corpus import is_metadata_line, read_report  # noqa: E402
from assistant.evaluation import evaluate  # noqa: E402
from assistant.normalize import normalize  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "formats"
FORMATS = ("txt", "html", "docx", "pdf", "browser_pdf")


def suffix(fmt: str) -> str:
    return fmt.rsplit("_", 1)[-1]


def files(fmt: str) -> list[Path]:
    if fmt == "txt":
        return sorted((ROOT / "corpus").glob("*.txt"))
    return sorted((FIXTURES / fmt).glob(f"*.{suffix(fmt)}"))


def body(text: str) -> str:
    return normalize(" ".join(line for line in text.splitlines() if line.strip() and not is_metadata_line(line)))


def char_accuracy(source: str, extracted: str) -> float:
    a, b = body(source), body(extracted)
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    edits = sum(max(a2 - a1, b2 - b1) for op, a1, a2, b1, b2 in ops if op != "equal")
    return 1 - edits / len(a)


def accuracy(fmt: str) -> dict:
    per_file = {}
    for path in files(fmt):
        source = (ROOT / "corpus" / f"{path.stem}.txt").read_text(encoding="utf-8")
        per_file[path.name] = round(char_accuracy(source, read_report(path, path.name).text), 4)
    return {"mean": round(sum(per_file.values()) / len(per_file), 4), "min": min(per_file.values()), **per_file}


def eval_corpus(fmt: str, work: Path) -> dict:
    corpus = work / fmt / "corpus"
    corpus.mkdir(parents=True)
    for path in files(fmt):
        (corpus / path.name).write_bytes(path.read_bytes())
    assistant = Assistant(Settings(corpus_dir=corpus, index_dir=work / fmt / "index"))
    assistant.ingest(progress=False)
    out = {}
    for split in ("dev", "test"):
        items = [json.loads(line) for line in (ROOT / "evals" / f"{split}.jsonl").read_text().splitlines() if line]
        for item in items:
            if item.get("gold_doc"):
                item["gold_doc"] = item["gold_doc"].rsplit(".", 1)[0] + f".{suffix(fmt)}"
        path = work / fmt / f"{split}.jsonl"
        path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items), encoding="utf-8")
        row = evaluate(assistant, path, None, progress=False).table["all"]
        out[split] = {k: row[k] for k in ("answer_accuracy", "citation_accuracy", "hit@5") if k in row}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-eval", action="store_true", help="character accuracy only")
    args = parser.parse_args()
    results = {fmt: {"char_accuracy": accuracy(fmt)} for fmt in FORMATS if fmt != "txt"}
    if not args.no_eval:
        with tempfile.TemporaryDirectory() as tmp:
            for fmt in FORMATS:
                results.setdefault(fmt, {})["eval"] = eval_corpus(fmt, Path(tmp))
    print(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
