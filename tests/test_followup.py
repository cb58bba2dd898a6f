"""The rule-based follow-up rewriter on its own (no index, no model): what reads as a
follow-up, and the standalone question it becomes."""

from assistant.followup import RuleRewriter, is_followup, rewrite_followup

CADRES = "پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟"
STANDALONE = "صوبے میں کتنے اسکول کام کر رہے ہیں اور ان کا بجٹ کیا ہے؟"


def test_what_reads_as_a_follow_up():
    assert is_followup("اور کمیون کی سطح پر کتنے؟")  # opens with «اور»
    assert is_followup("What about the wards?")
    assert is_followup("وہاں کتنے لوگ تھے جنہوں نے کانفرنس میں شرکت کی؟")  # points back
    assert is_followup("کمیون میں؟")  # a few words
    assert not is_followup(STANDALONE)  # a whole question, though «ان کا» is in it


def test_a_follow_up_counts_what_the_previous_question_counted_in_its_own_scope():
    assert rewrite_followup("اور کمیون کی سطح پر کتنے؟", [CADRES]) == "کیڈرز: کمیون کی سطح پر کتنے؟"
    assert rewrite_followup("اور کمیون کی سطح پر؟", [CADRES]) == "کمیون کی سطح پر کتنے کیڈرز؟"


def test_a_follow_up_borrows_the_words_it_lacks_from_the_last_question():
    rewritten = rewrite_followup("وہاں کون صدارت کر رہا تھا؟", [CADRES, "لاؤ کائی کانفرنس کب ہوئی؟"])
    assert rewritten.startswith("وہاں کون صدارت کر رہا تھا") and "لاؤ کائی کانفرنس" in rewritten
    assert "کیڈرز" not in rewritten  # the last question, not an older one


def test_a_standalone_question_or_a_first_one_is_left_as_it_is():
    assert rewrite_followup(STANDALONE, [CADRES]) == STANDALONE
    assert rewrite_followup("اور کمیون؟", []) == "اور کمیون؟"


def test_a_rule_rewrite_over_the_length_limit_is_not_used():
    """The rules add the previous question's words: a rewrite longer than a question may
    be would fail every later question of the conversation, so the question stays as asked."""
    previous = ["پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟"]
    question = "اور کمیون کی سطح پر؟"
    written = RuleRewriter(2000).rewrite(question, previous)
    assert written != question and "کیڈرز" in written
    assert RuleRewriter(len(written) - 1).rewrite(question, previous) == question
