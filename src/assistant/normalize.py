"""Two normal forms of text.

`fold` is the one text of a report that everything reads: the planted-text check, the
chunker, BM25, the encoder and citations. It undoes what makes two renderings of the
same visible text differ in their characters (Arabic presentation forms, full-width and
mathematical letters, zero-width and bidi controls, invisible fillers) and nothing a
reader can see: digits, punctuation, vowel marks and letters stay as printed.

`normalize` is the form for matching only, never shown: ASCII digits, no thousands
separators, unified Urdu letters, lower case, so a figure written `2،334`, `۲٬۳۳۴` or
`2,334` matches everywhere."""

import re
import unicodedata
from functools import lru_cache

DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_LETTERS = str.maketrans(
    {
        "ي": "ی",  # Arabic yeh -> Farsi/Urdu yeh
        "ى": "ی",
        "ك": "ک",
        "ە": "ہ",
        "ۃ": "ہ",
        "ـ": None,  # tatweel
        "\u200c": None,  # zero-width non-joiner
        "\u200d": None,
        "\u200f": None,
        "\u200e": None,
        "\ufeff": None,
    }
)
_PUNCT = str.maketrans({"۔": ".", "؟": "?", "،": ",", "؛": ";", "٪": "%", "٫": ".", "«": '"', "»": '"'})
_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_THOUSANDS = re.compile(r"(?<=\d)[,،٬](?=\d{3}(?!\d))")
_PERCENT_WORD = re.compile(r"(\d)\s*(?:%|٪|فیصد|percent\b|per cent\b)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")

FIGURE = re.compile(r"\d+(?:\.\d+)?(?:%|/\d+)?")
_TOKEN = re.compile(r"\d+(?:\.\d+)?%?|[^\W\d_]+", re.UNICODE)

_URDU_SUFFIXES = ("یوں", "یاں", "وں", "یں", "اں", "ز", "ے", "ہ")

STOPWORDS = frozenset(
    """
    کے کی کا کو میں سے نے پر اور ہے ہیں تھا تھی تھے ہو ہوا ہوئے ہوئی گیا گئی گئے کیا کیے کی
    یہ وہ اس ان جو جس جن ایک بھی لیے لئے تک ساتھ بعد پہلے کر کرنے کرتے کرتا کرتی رہا رہی رہے
    کتنے کتنی کتنا کون کونسا کونسی کس کسی کب کہاں کیوں کیسے کیا بتائیں بتاؤ بتایئے ذرا
    سا سی والے والی والا ہی تو نہ نہیں یا مگر لیکن جب تب اب
    the a an of in on at to for by with from and or is are was were be been has have had
    how many much what which who whom when where why did does do the this that these those
    it its as into about than per please tell me number
    """.split()
)


# blocks whose characters are other renderings of ordinary letters, digits and marks:
# Latin ligatures and Arabic presentation forms A, vertical and small forms, Arabic
# presentation forms B, half- and full-width forms, mathematical alphanumerics
_COMPATIBILITY_BLOCKS = (
    (0xFB00, 0xFDFF),
    (0xFE10, 0xFE1F),
    (0xFE30, 0xFE6F),
    (0xFE70, 0xFEFF),
    (0xFF01, 0xFFEE),
    (0x1D400, 0x1D7FF),
)
# characters that show nothing but are letters or marks to Unicode: Hangul fillers, the
# braille blank, the combining grapheme joiner and variation selectors
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f") | {chr(c) for c in range(0xFE00, 0xFE10)}


_ZWNJ = "\u200c"  # part of Urdu and Persian spelling: it keeps two letters apart that would join


def _fold_char(char: str) -> str:
    if char in _INVISIBLE or (unicodedata.category(char) == "Cf" and char != _ZWNJ):  # zero-width, bidi, soft hyphen
        return ""
    if char != " " and unicodedata.category(char) == "Zs":  # no-break, em, ideographic... spaces
        return " "
    code = ord(char)
    if any(low <= code <= high for low, high in _COMPATIBILITY_BLOCKS):
        return "".join(_fold_char(c) for c in unicodedata.normalize("NFKC", char))
    return char


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """`fold(text)` and, for each offset 0..len(text) of `text`, the offset of the
    same place in the folded text (to move page and paragraph starts along)."""
    out: list[str] = []
    where: list[int] = []
    at = 0
    for char in text:
        where.append(at)
        piece = char if char.isascii() else _fold_char(char)
        out.append(piece)
        at += len(piece)
    where.append(at)
    return "".join(out), where


def fold(text: str) -> str:
    """The text as a reader sees it, in one spelling: presentation forms, full-width and
    mathematical letters as ordinary letters, zero-width and bidi controls (but the
    zero-width non-joiner, which Urdu spelling uses) and invisible fillers removed, odd
    spaces as spaces. Digits are kept as printed."""
    if text.isascii():
        return text
    return "".join(_fold_char(c) for c in text)


def normalize(text: str) -> str:
    """Canonical form for matching: NFKC, ASCII digits, no thousands separators,
    unified Urdu letters and punctuation, `%` for `فیصد`, single spaces, lower case."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(DIGITS).translate(_LETTERS)
    text = _DIACRITICS.sub("", text)
    text = _THOUSANDS.sub("", text)
    text = text.translate(_PUNCT)
    text = _PERCENT_WORD.sub(r"\1%", text)
    return _SPACES.sub(" ", text).strip().lower()


def stem(token: str) -> str:
    """Light Urdu suffix stripping so plural and oblique forms meet (`کمیونز` ~ `کمیون`)."""
    if token[0].isdigit() or token.isascii():
        return token
    for suffix in _URDU_SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)]
    return token


def tokens(text: str) -> list[str]:
    """Normalised, stemmed word tokens, numbers kept whole (`98.8%`, `17418`)."""
    return list(_tokens(text))


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[str, ...]:
    """The reader tokenises the same question, passages and contexts many times per
    question (coverage of each candidate sentence); each text is tokenised once."""
    return tuple(stem(t) for t in _TOKEN.findall(normalize(text)))


def content_tokens(text: str) -> list[str]:
    """Tokens without function words: the ones that carry a question's meaning."""
    return [t for t in tokens(text) if t not in _STEMMED_STOPWORDS]


def figures(text: str) -> list[str]:
    """Every figure in normalised form: `17418`, `98.8%`, `85.59/100`, `2025`."""
    return FIGURE.findall(normalize(text))


def script_share(text: str) -> float:
    """Share of letters in Arabic script (Urdu); 0.0 for pure English, 1.0 for pure Urdu."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    return sum(1 for c in letters if "\u0600" <= c <= "\u06ff") / len(letters)


def language(text: str) -> str:
    """'ur' or 'en', by script."""
    return "ur" if script_share(text) >= 0.5 else "en"


_STEMMED_STOPWORDS = frozenset(STOPWORDS | {stem(normalize(w)) for w in STOPWORDS})
