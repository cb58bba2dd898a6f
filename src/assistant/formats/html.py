"""Saved web pages through BeautifulSoup: the article's paragraphs (menus, headers,
footers, scripts and forms left out), the page's <title> and its canonical URL."""

from pathlib import Path

from .base import Extracted, paragraphs_text
from .text import read_text

_CHROME = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "button", "svg"]
_BLOCKS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre", "td", "th", "dd", "dt", "figcaption"]
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _meta(soup, *selectors: tuple[str, dict, str]) -> str | None:
    for name, attrs, key in selectors:
        tag = soup.find(name, attrs=attrs)
        value = tag.get(key) if tag is not None and key else tag.get_text(" ", strip=True) if tag else None
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def read_html(path: Path) -> Extracted:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(read_text(path).text, "html.parser")
    title = _meta(soup, ("meta", {"property": "og:title"}, "content"), ("title", {}, ""), ("h1", {}, ""))
    url = _meta(soup, ("link", {"rel": "canonical"}, "href"), ("meta", {"property": "og:url"}, "content"))
    for tag in soup.find_all(_CHROME):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with(" ")
    root = soup.find("article") or soup.find("main") or soup.body or soup
    paragraphs, heading = [], None
    for block in root.find_all(_BLOCKS):
        if block.find_parent(_BLOCKS) is not None:  # inside a block already taken whole
            continue
        text = " ".join(block.get_text().split())  # inline tags (<b>17</b>,418) add no space
        if not text:
            continue
        heading = text if block.name in _HEADINGS else heading
        paragraphs.append((text, heading))
    if not paragraphs:  # a page without block markup: its text, line by line
        paragraphs = [(line.strip(), None) for line in root.get_text("\n").splitlines() if line.strip()]
    extracted = paragraphs_text(paragraphs)
    link = url if url and url.startswith(("http://", "https://")) else None
    return Extracted(extracted.text, title=title, source_url=link, locations=extracted.locations)
