"""Greetings, thanks and questions about the assistant get a short reply in the asker's
language, with no citation and no retrieval; anything that also asks about the reports
is read as a question."""

import pytest

from assistant.smalltalk import REPLIES, is_small_talk


@pytest.mark.parametrize(
    "line",
    ["hello", "Hi there!", "good morning", "Thanks a lot!", "who are you?", "What can you do?",
     "السلام علیکم", "بہت شکریہ", "آپ کون ہیں؟", "خدا حافظ"],
)  # fmt: skip
def test_small_talk_is_recognised(line):
    assert is_small_talk(line)


@pytest.mark.parametrize(
    "line",
    ["hi, how many cadres are there?", "How many schools?", "What are your sources for Lai Chau?",
     "Who is the chairman?", "کتنے لوگ؟", "شکریہ، کانفرنس کب ہوئی؟", "Thanks - and in 2024?"],
)  # fmt: skip
def test_a_question_inside_small_talk_is_still_a_question(line):
    assert not is_small_talk(line)


def test_a_greeting_gets_a_reply_without_citations(assistant, monkeypatch):
    def no_retrieval(*_a, **_k):
        raise AssertionError("small talk must not search the reports")

    monkeypatch.setattr(type(assistant.retriever), "invoke", no_retrieval)
    english = assistant.ask("Hello!")
    urdu = assistant.ask("السلام علیکم")
    thanks = assistant.ask("thank you")
    assert english.answer == REPLIES["en"] and english.language == "en"
    assert urdu.answer == REPLIES["ur"] and urdu.language == "ur"
    assert thanks.answer.startswith("You're welcome.")
    for reply in (english, urdu, thanks):
        assert reply.refused and not reply.citations and not reply.passages and reply.answerer == "small talk"
    *pieces, last = assistant.stream("who are you?")
    assert last.answerer == "small talk" and "".join(pieces) == last.answer == REPLIES["en"]
