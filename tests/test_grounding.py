"""The grounding check and the LLM answerer's handling of finished text, on
hand-written answers (no model involved)."""

import pytest

from assistant.answers import Passage
from assistant.llm import check_grounding

P1 = "پورے صوبے میں اس وقت 17,418 کیڈرز ہیں، جن میں سے 2،334 لوگ کمیون کی سطح پر کام کرتے ہیں۔"
P2 = "انتظامی طریقہ کار کے وقت پر حل کی شرح 98.8% ہے۔"
P3 = "دفتر میں پارٹی کے 82 ارکان ہیں۔"


def test_correct_answer_passes():
    g = check_grounding("صوبے میں 17418 کیڈرز ہیں [1] اور شرح 98.8 فیصد ہے [2]۔", [P1, P2, P3])
    assert g.ok and g.cited == [1, 2] and g.unsupported_figures == [] and g.removed_markers == []


def test_invented_figure_is_flagged():
    g = check_grounding("صوبے میں 18,000 کیڈرز ہیں [1]۔", [P1, P2])
    assert not g.ok and g.unsupported_figures == ["18000"]


def test_figure_from_an_uncited_passage_is_flagged():
    g = check_grounding("دفتر میں 82 ارکان ہیں [1]۔", [P1, P2, P3])
    assert not g.ok and g.unsupported_figures == ["82"]


def test_marker_pointing_at_no_passage_is_removed_and_reported():
    g = check_grounding("کمیون کی سطح پر 2،334 لوگ ہیں [1][7]، [2, 9]", [P1, P2])
    assert g.removed_markers == [7, 9]
    assert "[7]" not in g.text and "9" not in g.text and "[1]" in g.text and "[2]" in g.text
    assert not g.ok  # reported as a failure even though the figure is supported


def test_answer_without_citations_fails():
    g = check_grounding("The province has many cadres.", [P1])
    assert not g.ok and g.cited == []


def _passages() -> list[Passage]:
    return [
        Passage(
            chunk_id=f"d{i}#0",
            doc_id=f"d{i}",
            title="t",
            file="f",
            source_url=None,
            start=10 * i,
            end=10 * i + len(t),
            text=t,
            score=1.0,
            lexical_score=0,
            dense_score=0,
        )  # fmt: skip
        for i, t in enumerate([P1, P2, P3])
    ]


@pytest.fixture
def llm_answerer(assistant):
    from assistant import Settings
    from assistant.answering import ExtractiveAnswerer
    from assistant.llm import LLMAnswerer

    settings = Settings(answerer="llm", llm_base_url="http://127.0.0.1:9/v1", llm_model="m")
    extractive = ExtractiveAnswerer(lambda: assistant.index, assistant.embeddings, settings.chunk_size)
    return LLMAnswerer(settings, model=None, fallback=extractive), LLMAnswerer(settings, model=None, fallback=None)


def test_grounded_llm_text_becomes_cited_answer(llm_answerer):
    with_fallback, _ = llm_answerer
    good = with_fallback.finalize("شرح کیا ہے؟", _passages(), "شرح 98.8% ہے [2]۔")
    assert good.grounding.passed and good.answer == "شرح 98.8% ہے [1]۔"  # renumbered to citation order
    assert good.evidence[0].passage == 1 and good.evidence[0].text == P2


def test_ungrounded_llm_text_falls_back_or_is_flagged(llm_answerer):
    with_fallback, without = llm_answerer
    question = "پورے صوبے میں اس وقت کتنے کیڈرز ہیں؟"
    fell = with_fallback.finalize(question, _passages(), "صوبے میں 18,000 کیڈرز ہیں [1]۔")
    assert fell.answerer == "extractive (fallback)" and fell.grounding.fell_back
    assert fell.grounding.unsupported_figures == ["18000"] and "18,000" not in fell.answer
    flagged = without.finalize(question, _passages(), "صوبے میں 18,000 کیڈرز ہیں [1]۔")
    assert flagged.grounding.passed is False and flagged.score == 0.0  # shown, but marked


def test_not_in_reports_is_a_refusal(llm_answerer):
    _, without = llm_answerer
    draft = without.finalize("What is the population?", _passages(), "NOT_IN_REPORTS")
    assert draft.refused and draft.answer == "The reports do not say."
