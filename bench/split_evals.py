"""Split the eval questions into `dev` and `test` so that no fact is on both sides.

The first release's 100 questions (ids `q...`) were looked at while the reader was
built: they are dev. The later questions (`u...` Urdu, `e...` English), written by people
who never saw the code, are grouped by the report sentence that answers them, since an
English question and an Urdu paraphrase often ask for the same fact; the groups were dealt
to dev and test alternately within each question form, in the order of a hash of their
ids, and then kept apart so no later-written fact is on both sides. Unanswerable questions are groups of
their own. (A test fact may still be one that a first-release question asks about: five
reports hold only so many facts, and keeping those out would leave a test split of 36.)

A question that was in dev stays in dev (its failures were read while tuning), so a
fact group with any dev member goes to dev as a whole; only groups wholly in test stay
in test. Running it again changes nothing.

    python bench/split_evals.py   # rewrites evals/dev.jsonl and evals/test.jsonl
"""

import json
from collections import defaultdict
from pathlib import Path

from assistant.chunking import sentence_units
from assistant.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
EVALS = ROOT / "evals"


def fact(item: dict, reports: dict[str, str]) -> str:
    """The report sentence that holds the gold passage (or the item itself when it has none)."""
    if not item.get("gold_doc"):
        return item["id"]
    text = reports[item["gold_doc"]]
    gold = normalize(item["gold_passage"])
    for unit in sentence_units(text, 500):
        if gold in normalize(unit.text) or normalize(unit.text) in gold:
            return f"{item['gold_doc']}@{unit.start}"
    return f"{item['gold_doc']}:{gold}"


def main() -> None:
    lines = [
        line
        for name in ("dev", "test")
        for line in (EVALS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    items = [json.loads(line) for line in lines]
    was_dev = {
        json.loads(line)["id"]
        for line in (EVALS / "dev.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    reports = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.txt")}
    groups: dict[str, list[int]] = defaultdict(list)
    for n, item in enumerate(items):  # first-release questions stay apart: they are all dev
        groups[item["id"] if item["id"].startswith("q") else fact(item, reports)].append(n)
    side = {
        key: "dev" if any(items[n]["id"] in was_dev for n in members) else "test" for key, members in groups.items()
    }
    out: dict[str, list[str]] = {"dev": [], "test": []}
    for key, members in groups.items():
        out[side[key]] += [lines[n] for n in members]
    for name, chosen in out.items():
        chosen.sort(key=lambda line: json.loads(line)["id"])
        (EVALS / f"{name}.jsonl").write_text("\n".join(chosen) + "\n", encoding="utf-8")
        print(f"{name}: {len(chosen)} questions")


if __name__ == "__main__":
    main()
