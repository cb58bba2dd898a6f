"""The one question pipeline (`pipeline.py`) on the real index: `ask` and `stream` are one
run, follow-ups are read against the conversation, small talk comes before the
rewrite, inputs are checked before any work, and the steps can be swapped."""

import pytest

from assistant import Assistant
from assistant.errors import IndexMissingError, InvalidQuestionError
from assistant.pipeline import QuestionPipeline

CADRES = "پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟"
COMMUNE = "اور کمیون کی سطح پر کتنے؟"


def test_stream_and_ask_are_one_run(assistant):
    *pieces, last = assistant.stream(COMMUNE, [CADRES])
    asked = assistant.ask(COMMUNE, [CADRES])
    assert all(isinstance(p, str) for p in pieces) and "".join(pieces).strip() == last.answer.strip()
    assert last.answer == asked.answer == "2،334" and last.question == asked.question
    assert "کیڈرز" in last.question  # the standalone question searched, rewritten from the follow-up
    assert [c.quote for c in last.citations] == [c.quote for c in asked.citations] and last.citations


def test_small_talk_after_a_question_is_not_read_as_a_follow_up(assistant):
    thanks = assistant.ask("thank you", [CADRES])  # three words: a follow-up by length, were it rewritten first
    assert thanks.answerer == "small talk" and thanks.question == "thank you" and not thanks.citations


def test_inputs_are_checked_before_the_index_is_opened(tmp_path):
    empty = Assistant(index_dir=tmp_path / "no-index", corpus_dir=tmp_path, max_previous_questions=2)
    assert empty.ask("Hello!").answerer == "small talk"  # no index needed
    with pytest.raises(InvalidQuestionError, match="holds 3 questions"):
        empty.ask(CADRES, ["a", "b", "c"])
    with pytest.raises(InvalidQuestionError, match="must be a list"):
        empty.ask(CADRES, "not a list")
    with pytest.raises(InvalidQuestionError, match="previous question 1 is 2,001 characters"):
        empty.ask(CADRES, ["x" * 2001])
    with pytest.raises(IndexMissingError):  # a valid question reaches the index, which is not there
        empty.ask(CADRES)


class Recorded:
    """A rewriting step of our own, plugged into the pipeline's seam."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, list[str]]] = []

    def rewrite(self, question: str, previous: list[str]) -> str:
        self.seen.append((question, previous))
        return CADRES


def test_the_rewriter_is_a_swappable_step(assistant):
    recorded = Recorded()
    pipeline = QuestionPipeline(assistant.pipeline.limits, recorded, assistant.pipeline.reading)
    answer = pipeline.invoke("  اور ہنوئی میں؟ ", ["پہلا سوال", ""])
    assert recorded.seen == [("اور ہنوئی میں؟", ["پہلا سوال"])]  # checked and trimmed; blank earlier ones dropped
    assert answer.question == CADRES and answer.answer == "17,418"
    assert pipeline.invoke(CADRES).answer == "17,418" and len(recorded.seen) == 1  # no conversation: no rewrite


def test_small_talk_is_not_an_earlier_question(assistant):
    """A thank-you between two questions (saved in the chat, or sent back by an API
    client) is not what a follow-up is read against."""
    answer = assistant.ask(COMMUNE, [CADRES, "شکریہ"])
    assert "کیڈرز" in answer.question and answer.answer == "2،334"
