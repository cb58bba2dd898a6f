"""Saved web pages through BeautifulSoup: the article's text block by block (menus,
headers, footers, scripts and form controls left out), the page's <title> and its
canonical URL. Text directly inside a <div> or <section> counts as a paragraph too,
so a page built from bare <div>s loses nothing."""

from pathlib import Path

from .base import Extracted, paragraphs_text
from .text import read_text

_CHROME = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "svg", "iframe",
           "input", "select", "textarea", "button", "option"]  # fmt: skip
_BLOCKS = {"address", "article", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure", "form", "h1", "h2",
           "h3", "h4", "h5", "h6", "li", "main", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th",
           "thead", "tr", "ul", "body", "center"}  # fmt: skip
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


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
