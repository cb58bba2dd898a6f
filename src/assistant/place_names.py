"""Is a place an English question names in Latin letters ("Quang Ngai province", "in Dak
Nong") named in a report written in Urdu script? Both spellings are reduced to their
consonant skeletons, by the Vietnamese alphabet's spelling rules on one side and the
Urdu alphabet's letter values on the other (vowels, which the two scripts write too
differently, are left out): `Quang Ngai` -> (kng, ng), `کوانگ نگائی` -> (kng, ng). A
place is named in a report when one of its chunks holds a word with each skeleton.
Names whose skeletons are too short to tell apart (`Lai Chau` -> l, c) are not judged.
No list of places: it works for any name the reports spell."""

import re
import unicodedata

from .english_words import ENGLISH_WORDS
from .normalize import normalize

MIN_SKELETON = 3  # letters a name's skeletons need in all to be judged

# Vietnamese spelling (diacritics removed) -> consonants, longest first
_LATIN = [("ngh", "ng"), ("nh", "n"), ("ch", "c"), ("tr", "tr"), ("th", "t"), ("ph", "f"), ("kh", "k"),
          ("gh", "g"), ("gi", "g"), ("qu", "k"), ("c", "k"), ("q", "k"), ("x", "s"), ("d", "d")]  # fmt: skip
_LATIN_VOWELS = set("aeiouyvw")
# Urdu letters -> consonants; vowel letters, hamza and the aspiration mark are left out
_URDU = {
    "ب": "b", "پ": "p", "ت": "t", "ٹ": "t", "ث": "s", "ج": "j", "چ": "c", "ح": "h", "خ": "k", "د": "d", "ڈ": "d",
    "ذ": "z", "ر": "r", "ڑ": "r", "ز": "z", "ژ": "z", "س": "s", "ش": "s", "ص": "s", "ض": "z", "ط": "t", "ظ": "z",
    "غ": "g", "ف": "f", "ق": "k", "ک": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n",
}  # fmt: skip

# A Vietnamese syllable: one run of vowels, ending in a vowel or in c, ch, k, m, n, ng, nh, p, t.
_SYLLABLE = re.compile(r"[^aeiouy]*[aeiouy]+(?:c|ch|k|m|n|ng|nh|p|t)?")
_FUNCTION = set("in of at from the and for on by to as is are was were what which how who when where".split())
_BEFORE_HEAD = re.compile(r"((?:[A-Z][a-z]+[ -]){1,3})(?i:province|provincial|district|commune|city|town|ward)\b")
_AFTER_IN = re.compile(r"\b(?i:in|of|at|from) ((?:[A-Z][a-z]+(?:[ -](?=[A-Z])|\b)){1,3})")


def latin_skeleton(word: str) -> str:
    """`Quang` -> `kng`, `Phong` -> `fng`, `Hai` -> `h` (an initial h is kept)."""
    plain = "".join(c for c in unicodedata.normalize("NFD", word.lower().replace("đ", "d")) if c.isalpha() and
                    unicodedata.category(c) != "Mn")  # fmt: skip
    out, i = [], 0
    while i < len(plain):
        for latin, sound in _LATIN:
            if plain.startswith(latin, i):
                out.append(sound)
                i += len(latin)
                break
        else:
            c = plain[i]
            if c == "h" and i == 0:
                out.append("h")
            elif c not in _LATIN_VOWELS and c != "h":
                out.append(c)
            i += 1
    return "".join(out)


def urdu_skeleton(word: str) -> str:
    """`کوانگ` -> `kng`, `فونگ` -> `fng`, `ہائی` -> `h` (an initial ہ is kept)."""
    word = normalize(word)
    out = ["h"] if word[:1] in ("ہ", "ھ") else []
    out += [_URDU[c] for c in word if c in _URDU]
    return "".join(out)


def _vietnamese(word: str) -> bool:
    """Spelled like one Vietnamese syllable ("Quang", "Ngai"), and not an ordinary English word."""
    plain = unicodedata.normalize("NFD", word.lower().replace("đ", "d"))
    plain = "".join(c for c in plain if unicodedata.category(c) != "Mn")
    return bool(_SYLLABLE.fullmatch(plain)) and plain not in ENGLISH_WORDS


def latin_places(question: str) -> list[tuple[str, ...]]:
    """The skeletons of the Latin-script places a question names: capitalised words
    before "province", "district" ... or after "in", "of", "at", "from", each spelled
    like a Vietnamese syllable and not an ordinary English word, when long enough to be
    judged."""
    found = []
    for m in [*_BEFORE_HEAD.finditer(question), *_AFTER_IN.finditer(question)]:
        words = [w for w in m.group(1).replace("-", " ").split() if w.lower() not in _FUNCTION]
        if not words or not all(_vietnamese(w) for w in words):
            continue
        key = tuple(latin_skeleton(w) for w in words)
        if key and all(key) and sum(map(len, key)) >= MIN_SKELETON and key not in found:
            found.append(key)
    return found
