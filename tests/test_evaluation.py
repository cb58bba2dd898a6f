"""The eval harness: matcher, each metric on a tiny hand-made result set, and one
end-to-end run of `assistant eval` on a small question set."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from assistant.answers import Answer, Citation, Passage
from assistant.evaluation import EvalItem, by_form, contains_answer, load_set, score_item, summarize
from assistant.evaluation.runner import check_thresholds
from assistant.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("expected", "got", "ok"),
    [
        ("17,418", "17418 کیڈرز", True),
        ("17,418", "17,481", False),
        ("17,418", "117,418", False),
        ("2،334", "جن میں سے 2,334 لوگ", True),
        ("2،334", "۲٬۳۳۴", True),
        ("98.8%", "98.8 فیصد", True),
        ("98.8%", "98.8", False),
        ("8%", "8 فیصد سے زیادہ", True),
        ("4 ملین", "تقریباً 4 ملین صفحات", True),
        ("4 ملین", "4", False),
        ("8", "85.59/100", False),
        ("85.59/100", "85.59/100 پوائنٹس", True),
        ("محکمہ داخلہ", "اس کے مطابق، محکمہ داخلہ پہلے نمبر پر ہے", True),
        ("محکمہ داخلہ", "محکمہ داخلہی", False),
        ("26 نومبر", "26  نومبر کو", True),
        ("26 نومبر", "16 نومبر", False),
    ],
)
def test_matcher(expected, got, ok):
    assert contains_answer(expected, got) is ok


def _item(id_, form, accept=(), doc=None, passage=None, require_all=()):
    return EvalItem(id=id_, form=form, language="ur", question=f"q {id_}", accept=list(accept),
                    require_all=list(require_all), gold_doc=doc, gold_passage=passage)  # fmt: skip


def _answer(text, refused=False, cite=None, passages=()):
    citations = (
        [Citation(number=1, doc_id=cite[0], title="t", file="f", source_url=None, quote=cite[1], start=0, end=1)]
        if cite
        else []
    )
    ps = [Passage(chunk_id=f"{d}#{i}", doc_id=d, title="t", file="f", source_url=None, start=0, end=1, text=t,
                  score=1.0, lexical_score=0.0, dense_score=0.0) for i, (d, t) in enumerate(passages)]  # fmt: skip
    return Answer(question="q", language="ur", answer=text, refused=refused, citations=citations, passages=ps)


def test_each_metric_on_a_tiny_result_set():
    a = _item("a", "verbatim", ["17,418"], "d1", "17,418 کیڈرز")
    b = _item("b", "verbatim", ["82"], "d2", "پارٹی کے 82 ارکان")
    c = _item("c", "unanswerable")
    d = _item("d", "unanswerable")
    results = [
        # right answer, right citation, gold passage second
        score_item(
            a,
            _answer(
                "17,418", cite=("d1", "اس وقت 17,418 کیڈرز"), passages=[("d2", "x"), ("d1", "اس وقت 17,418 کیڈرز")]
            ),
            0.1,
        ),  # fmt: skip
        # wrong answer citing the wrong document, gold passage not retrieved
        score_item(b, _answer("55", cite=("d9", "55 ارکان"), passages=[("d9", "55 ارکان")]), 0.3),
        score_item(c, _answer("نہیں", refused=True), 0.2),  # right refusal
        score_item(d, _answer("17,418", cite=("d1", "17,418")), 0.4),  # should have refused
    ]
    m = summarize(results)
    assert m["answer_accuracy"] == 0.5
    assert m["citation_accuracy"] == 0.5
    assert m["hit@1"] == 0.0 and m["hit@5"] == 0.5 and m["mrr"] == 0.25
    assert m["refusal_accuracy"] == 0.75  # a, b, c right; d wrong
    assert m["refused_unanswerable"] == 0.5 and m["refused_answerable"] == 0.0
    assert m["latency_p50_s"] == 0.25
    table = by_form(results)
    assert table["unanswerable"]["answer_accuracy"] is None and table["all"]["questions"] == 4


def test_multipart_needs_every_part_and_refusal_fails_answer():
    item = _item("m", "multipart", ["8"], "d", "8 ضلعی", require_all=["8", "106"])
    assert not score_item(item, _answer("8"), 0).answer_ok
    assert score_item(item, _answer("8، 106"), 0).answer_ok
    refused = score_item(_item("x", "verbatim", ["8"], "d", "8"), _answer("no", refused=True), 0)
    assert refused.answer_ok is False and refused.refusal_ok is False


def test_thresholds_compare_in_the_right_direction():
    table = {"all": {"answer_accuracy": 0.7, "latency_p95_s": 2.0, "refused_answerable": 0.1}}
    assert check_thresholds(table, {"all": {"answer_accuracy": 0.7, "latency_p95_s": 2.0}}) == []
    failures = check_thresholds(table, {"all": {"answer_accuracy": 0.71, "refused_answerable": 0.05}, "english": {}})
    assert len(failures) == 3
    grounded = {"all": {"llm_grounded": 0.6}}  # a share of LLM answers the check passed: more is better
    assert check_thresholds(grounded, {"all": {"llm_grounded": 0.5}}) == []
    below = check_thresholds(grounded, {"all": {"llm_grounded": 0.8}})
    assert below == ["all.llm_grounded = 0.6 is below the threshold 0.8"]


def test_a_missing_thresholds_file_is_an_error_not_an_ungated_run(tmp_path, capsys):
    from assistant.cli import main

    (tmp_path / "one.jsonl").write_text('{"id": "x", "question": "کتنے؟", "form": "verbatim", "answers": ["1"], '
                                        '"doc_id": "d"}\n', encoding="utf-8")  # fmt: skip
    args = ["--index", str(tmp_path / "none"), "eval", "--set", str(tmp_path / "one.jsonl"), "--no-progress"]
    assert main([*args, "--thresholds", str(tmp_path / "missing.toml")]) == 2
    assert "no thresholds file" in capsys.readouterr().err and not (tmp_path / "reports").exists()


@pytest.mark.slow
def test_committed_question_sets_are_valid_and_large_enough():
    dev, test = load_set(ROOT / "evals" / "dev.jsonl"), load_set(ROOT / "evals" / "test.jsonl")
    items = dev + test
    assert not {i.id for i in dev} & {i.id for i in test}, "a question in both splits"
    assert not {normalize(i.question) for i in dev} & {normalize(i.question) for i in test}
    forms = Counter(i.form for i in items)
    assert len(items) >= 250 and forms["paraphrase"] >= 80 and forms["english"] >= 60
    assert forms["multipart"] >= 20 and forms["unanswerable"] >= 25
    assert {i.gold_doc for i in items if i.answerable} == {p.name for p in (ROOT / "corpus").glob("*.txt")}
    for split in (dev, test):
        assert {"paraphrase", "english", "multipart", "unanswerable"} <= {i.form for i in split}
    corpus = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.txt")}
    for item in items:
        if item.answerable:
            assert normalize(item.gold_passage) in normalize(corpus[item.gold_doc]), item.id


def test_bad_question_set_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "form": "verbatim", "language": "ur", "question": "q", "accept": [], '
                    '"gold_doc": null, "gold_passage": null}\n', encoding="utf-8")  # fmt: skip
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        load_set(path)


def test_empty_question_set_fails(assistant, tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no questions"):
        load_set(tmp_path / "empty.jsonl")
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "--index", str(assistant.settings.index_dir), "eval",
         "--set", str(tmp_path / "empty.jsonl"), "--report", str(tmp_path / "r"), "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 2 and "holds no questions" in out.stderr


SECRETS = {"ASSISTANT_API_TOKEN": "eval-secret-token", "ASSISTANT_CHAT_AUTH": "amna:eval-secret-pass",
           "ASSISTANT_LLM_BASE_URL": "http://user:llm-secret-pass@127.0.0.1:9/v1"}  # fmt: skip


def test_eval_command_end_to_end(assistant, tmp_path):
    items = [json.loads(line) for line in (ROOT / "evals" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    small = [i for i in items if i["id"] in {"q002", "q003", "q048", "q089", "q091"}]
    (tmp_path / "small.jsonl").write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in small), encoding="utf-8")
    (tmp_path / "thresholds.toml").write_text("[small.all]\nanswer_accuracy = 1.01\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "--index", str(assistant.settings.index_dir), "eval",
         "--set", str(tmp_path / "small.jsonl"), "--report", str(tmp_path / "r"),
         "--thresholds", str(tmp_path / "thresholds.toml"), "--no-progress"],
        capture_output=True, text=True, timeout=300, env={**os.environ, **SECRETS},
    )  # fmt: skip
    assert out.returncode == 1, out.stderr  # 1.01 cannot be met: the command must fail
    assert "below threshold: all.answer_accuracy" in out.stderr
    written = (tmp_path / "r" / "small.json").read_text(encoding="utf-8")
    for secret in ("eval-secret-token", "eval-secret-pass", "llm-secret-pass"):  # settings are recorded masked
        assert secret not in written and secret not in out.stdout + out.stderr, secret
    report = json.loads(written)
    assert report["settings"]["api_token"] == "***" and report["settings"]["chat_auth"] == "amna:***"
    assert report["settings"]["llm_base_url"] == "http://user:***@127.0.0.1:9/v1"
    assert report["metrics"]["all"]["questions"] == 5 and report["metrics"]["unanswerable"]["questions"] == 2
    by_id = {r["id"]: r for r in report["results"]}
    assert by_id["q002"]["got"] == "17,418" and by_id["q002"]["answer_ok"] and by_id["q002"]["citation_ok"]
    assert by_id["q003"]["got"] == "2،334" and by_id["q003"]["answer_ok"]
    for item_id, result in by_id.items():  # the report says what Assistant.ask says
        assert result["refused"] == assistant.ask(result["question"]).refused, item_id
    markdown = (tmp_path / "r" / "small.md").read_text(encoding="utf-8")
    assert "| form |" in markdown and "## Failures" in markdown


def test_nested_secrets_in_extra_fields_are_masked():
    from assistant.settings import masked

    shown = masked({"llm_extra_body": {"extra_headers": {"Authorization": "Bearer sk-1"}, "n": [{"api_key": "k"}]}})
    assert "sk-1" not in str(shown) and "'k'" not in str(shown)
    assert shown["llm_extra_body"]["extra_headers"]["Authorization"] == "***"
