import pytest

from assistant.normalize import content_tokens, figures, language, normalize, tokens


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2،334", "2334"),
        ("17,418", "17418"),
        ("۱۷٬۴۱۸", "17418"),
        ("٢٠٢٥", "2025"),
        ("98.8 فیصد", "98.8%"),
        ("8 فیصد سے زیادہ", "8% سے زیادہ"),
        ("85.59/100", "85.59/100"),
        ("کمیونز۔ اور؟", "کمیونز. اور?"),
        ("كمي", "کمی"),  # Arabic kaf and yeh become Urdu letters
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_list_commas_are_not_thousands_separators():
    assert figures("قرارداد 57، 59، 66") == ["57", "59", "66"]
    assert figures("1,2345") == ["1", "2345"]


def test_figures_keep_percent_and_scores():
    assert figures("شرح 98.8% ہے اور 85.59/100 پوائنٹس اور 2،334 لوگ") == ["98.8%", "85.59/100", "2334"]


def test_tokens_meet_across_plural_forms():
    assert set(tokens("کمیونز")) == set(tokens("کمیون"))
    assert "کتنے" not in content_tokens("کتنے کیڈرز ہیں؟")


def test_language_by_script():
    assert language("کتنے کیڈرز ہیں؟") == "ur"
    assert language("How many cadres are there?") == "en"
    assert language("How many کیڈرز in Lai Chau province?") == "en"
