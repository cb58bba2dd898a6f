"""Saved web pages through BeautifulSoup: the article's text block by block (menus,
headers, footers, scripts and form controls left out), the page's <title> and its
canonical URL. Text directly inside a <div> or <section> counts as a paragraph too,
so a page built from bare <div>s loses nothing.

Only what a browser shows is read: an element hidden by its inline style
(`display:none`, `visibility:hidden` or `collapse`, `content-visibility:hidden`,
`opacity:0`, `font-size:0`; the last declaration of a property counts, unless an earlier
one is `!important`), by the `hidden` attribute or by `aria-hidden="true"` is left out
with everything inside it, as are a closed <dialog>, the fallback text of <canvas>,
<object>, <video> and <audio>, <template> and <noscript> (shown only where scripts are
off; a saved page's scripts do not run here, but what it says is fallback, not the report).
Style sheets (<style> rules, classes) are not evaluated."""

import re
from pathlib import Path

from .base import Extracted, paragraphs_text
from .text import read_text

_CHROME = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "svg", "iframe",
           "input", "select", "textarea", "button", "option", "canvas", "object", "embed", "video",
           "audio"]  # fmt: skip
_BLOCKS = {"address", "article", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure", "form", "h1", "h2",
           "h3", "h4", "h5", "h6", "li", "main", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th",
           "thead", "tr", "ul", "body", "center"}  # fmt: skip
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_ZERO = {"0", "0.0", "0%", "0px", "0pt", "0em", "0rem"}
_HIDING = {"display": {"none"}, "visibility": {"hidden", "collapse"}, "content-visibility": {"hidden"},
           "opacity": _ZERO, "font-size": _ZERO}  # fmt: skip
_CSS_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.S)
_IMPORTANT = re.compile(r"!\s*important\s*$", re.I)


def hidden(tag) -> bool:
    """Whether an element is hidden from a reader by its own attributes (see the module)."""
    if tag.has_attr("hidden") or str(tag.get("aria-hidden", "")).strip().lower() == "true":
        return True
    if tag.name == "dialog" and not tag.has_attr("open"):
        return True
    style = tag.get("style")
    if not isinstance(style, str) or ":" not in style:
        return False
    declared: dict[str, tuple[bool, str]] = {}  # property: (!important, value)
    for declaration in _CSS_COMMENT.sub("", style).split(";"):
        name, _, value = declaration.partition(":")
        name = name.strip().lower()
        if name in _HIDING:
            plain = _IMPORTANT.sub("", value)
            important = plain != value
            if important or not declared.get(name, (False, ""))[0]:  # a later one wins unless the first is !important
                declared[name] = (important, " ".join(plain.lower().split()))
    return any(value in _HIDING[name] for name, (_, value) in declared.items())


def _meta(soup, *selectors: tuple[str, dict, str]) -> str | None:
    for name, attrs, key in selectors:
        tag = soup.find(name, attrs=attrs)
        value = tag.get(key) if tag is not None and key else tag.get_text(" ", strip=True) if tag else None
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _blocks(element, out: list[tuple[str, bool]]) -> None:
    """(text, is heading) of each run of inline content, in document order: a block's
    own text between its child blocks is a paragraph of its own."""
    from bs4 import NavigableString, Tag

    pieces: list[str] = []

    def flush() -> None:
        text = " ".join("".join(pieces).split())  # inline tags (<b>17</b>,418) add no space
        pieces.clear()
        if text:
            out.append((text, element.name in _HEADINGS))

    for child in element.children:
        if isinstance(child, Tag):
            if child.name in _BLOCKS:
                flush()
                _blocks(child, out)
            else:
                pieces.append(child.get_text())
        elif type(child) is NavigableString:  # not a comment, doctype or CDATA
            pieces.append(str(child))
    flush()


def read_html(path: Path) -> Extracted:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(read_text(path).text, "html.parser")
    for tag in soup.find_all(hidden):  # before the title is looked for: a hidden <h1> names nothing
        if not tag.decomposed:  # not inside one already removed
            tag.decompose()
    title = _meta(soup, ("meta", {"property": "og:title"}, "content"), ("title", {}, ""), ("h1", {}, ""))
    url = _meta(soup, ("link", {"rel": "canonical"}, "href"), ("meta", {"property": "og:url"}, "content"))
    for tag in soup.find_all(_CHROME):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    root = soup.find("article") or soup.find("main") or soup.body or soup
    blocks: list[tuple[str, bool]] = []
    _blocks(root, blocks)
    paragraphs, heading = [], None
    for text, is_heading in blocks:
        heading = text if is_heading else heading
        paragraphs.append((text, heading, is_heading))
    extracted = paragraphs_text(paragraphs)
    link = url if url and url.startswith(("http://", "https://")) else None
    return Extracted(extracted.text, title=title, source_url=link, locations=extracted.locations)
