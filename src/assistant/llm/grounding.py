"""The grounding check every LLM answer passes before a user sees it: citation markers
that point at no passage are removed and reported, and every figure in the answer
(normalised with the core normaliser) must appear in a passage the answer cites."""

import re
from dataclasses import dataclass, field

from ..normalize import figures

_MARKER = re.compile(r"\[(\d+(?:\s*[,،]\s*\d+)*)\]")


@dataclass
class Grounding:
    text: str  # the answer with invalid markers removed
    cited: list[int] = field(default_factory=list)  # 1-based passage numbers, in order of first use
    removed_markers: list[int] = field(default_factory=list)
    unsupported_figures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.cited) and not self.unsupported_figures and not self.removed_markers


def check_grounding(text: str, passages: list[str]) -> Grounding:
    """Check an answer with `[n]` markers against the numbered passages (1-based)."""
    cited: list[int] = []
    removed: list[int] = []

    def keep_valid(match: re.Match) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,،]\s*", match.group(1))]
        valid = [n for n in numbers if 1 <= n <= len(passages)]
        removed.extend(n for n in numbers if n not in valid)
        cited.extend(n for n in valid if n not in cited)
        return "".join(f"[{n}]" for n in valid)

    cleaned = re.sub(r"\s+([.۔،,])", r"\1", _MARKER.sub(keep_valid, text)).strip()
    quoted = {f for n in cited for f in figures(passages[n - 1])}
    marker_free = _MARKER.sub(" ", cleaned)
    unsupported = [f for f in dict.fromkeys(figures(marker_free)) if f not in quoted]
    return Grounding(cleaned, cited, removed, unsupported)
