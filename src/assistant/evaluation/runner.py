"""Run a question set through the same `Assistant.ask` the chat uses, score it, write
JSON and Markdown reports, and compare with the thresholds in `evals/thresholds.toml`."""

import json
import logging
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..assistant import Assistant
from ..settings import masked
from .dataset import load_set
from .scoring import ItemResult, by_form, score_item

log = logging.getLogger(__name__)
HIGHER_IS_BETTER = {"answer_accuracy", "citation_accuracy", "hit@1", "hit@5", "mrr", "refusal_accuracy",
                    "refused_unanswerable", "llm_grounded"}  # fmt: skip


@dataclass
class EvalRun:
    name: str
    results: list[ItemResult]
    table: dict[str, dict]
    failures: list[str]  # threshold breaches, empty when all pass

    @property
    def passed(self) -> bool:
        return not self.failures


def run_set(assistant: Assistant, path: Path, progress: bool = True) -> list[ItemResult]:
    items = load_set(path)
    results = []
    for item in tqdm(items, desc=f"eval {path.stem}", unit="q", disable=not progress):
        started = time.perf_counter()
        answer = assistant.ask(item.question)
        results.append(score_item(item, answer, time.perf_counter() - started))
    return results


def check_thresholds(table: dict[str, dict], thresholds: dict[str, dict]) -> list[str]:
    """Thresholds file: [all] / [<form>] tables of metric = minimum (or maximum for
    latency and false refusals)."""
    failures = []
    for group, limits in thresholds.items():
        row = table.get(group)
        if row is None:
            failures.append(f"{group}: no questions of this form in the set")
            continue
        for metric, limit in limits.items():
            value = row.get(metric)
            if value is None:
                failures.append(f"{group}.{metric}: not measured")
            elif metric in HIGHER_IS_BETTER and value < limit:
                failures.append(f"{group}.{metric} = {value} is below the threshold {limit}")
            elif metric not in HIGHER_IS_BETTER and value > limit:
                failures.append(f"{group}.{metric} = {value} is above the threshold {limit}")
    return failures


def evaluate(assistant: Assistant, path: Path, thresholds_path: Path | None, progress: bool = True) -> EvalRun:
    results = run_set(assistant, path, progress)
    table = by_form(results)
    thresholds = tomllib.loads(thresholds_path.read_text(encoding="utf-8")) if thresholds_path else {}
    if thresholds_path and path.stem not in thresholds:
        log.warning("%s has no [%s.*] limits: the %s set is scored, not gated", thresholds_path, path.stem, path.stem)
    return EvalRun(path.stem, results, table, check_thresholds(table, thresholds.get(path.stem, {})))


def write_reports(run: EvalRun, out_dir: Path, settings: dict) -> tuple[Path, Path]:
    """The JSON and Markdown reports; the settings are recorded with every secret masked."""
    settings = masked(settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{run.name}.json", out_dir / f"{run.name}.md"
    json_path.write_text(
        json.dumps(
            {"set": run.name, "settings": settings, "metrics": run.table, "threshold_failures": run.failures,
             "results": [r.as_dict() for r in run.results]},
            ensure_ascii=False, indent=2,
        ),
        encoding="utf-8",
    )  # fmt: skip
    md_path.write_text(markdown(run), encoding="utf-8")
    return json_path, md_path


def _cell(value) -> str:
    return "–" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def markdown(run: EvalRun) -> str:
    metrics = list(next(iter(run.table.values())).keys())
    lines = [f"# Eval: {run.name}", "", "| form | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for form, row in run.table.items():
        lines.append(f"| {form} | " + " | ".join(_cell(row[m]) for m in metrics) + " |")
    lines += ["", "## Thresholds", ""]
    lines += [f"- FAILED {f}" for f in run.failures] or ["- all met"]
    lines += ["", "## Failures", "", "| id | form | question | expected | got | cited | problem |", "|---" * 7 + "|"]
    for r in run.results:
        problems = []
        if r.answerable and not r.answer_ok:
            problems.append("refused" if r.refused else "wrong answer")
        if r.answerable and not r.refused and not r.citation_ok:
            problems.append("citation")
        if not r.answerable and not r.refused:
            problems.append("should refuse")
        if r.answerable and (r.hit_rank is None or r.hit_rank > 1):
            problems.append(f"gold passage at rank {r.hit_rank or '>k'}")
        if problems:
            got = r.got.replace("|", "/")[:120]
            lines.append(
                f"| {r.id} | {r.form} | {r.question} | {' / '.join(r.expected) or '(refuse)'} | {got} | "
                f"{', '.join(r.cited_docs) or '–'} | {'; '.join(problems)} |"
            )
    return "\n".join(lines) + "\n"
