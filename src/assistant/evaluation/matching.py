"""Does an answer contain an expected answer? Both sides are normalised (digits,
thousands separators `,` `،`, `%`/`فیصد`, spacing); figures must match whole, so
`17,418` never matches `17,481` or `117,418`, and words must match whole."""

import re

from ..normalize import FIGURE, normalize

_PUNCT = re.compile(r"[,;:?!\"'()\[\]«»\-–—|]+|\.(?!\d)")


def _plain(text: str) -> str:
    return " " + " ".join(_PUNCT.sub(" ", normalize(text)).split()) + " "


def contains_answer(expected: str, got: str) -> bool:
    exp, text = _plain(expected), _plain(got)
    if not exp.strip():
        return False
    wanted = FIGURE.findall(exp)
    have = FIGURE.findall(text)
    if not all(have.count(f) >= wanted.count(f) for f in set(wanted)):
        return False
    # words beside the figures ("4 ملین", "95ویں") must be there as whole words too
    words = FIGURE.sub(" ", exp).split()
    text_words = FIGURE.sub(" ", text)
    return f" {' '.join(words)} " in f" {' '.join(text_words.split())} " if words else True


def matches_any(accepted: list[str], got: str) -> bool:
    return any(contains_answer(a, got) for a in accepted)


def matches_all(required: list[str], got: str) -> bool:
    return all(contains_answer(r, got) for r in required)
