"""Build the five reports as staff have them: a saved web page (HTML with a <title>,
a canonical link and the site's menu and footer around the article), Word and PDF
files made from it by LibreOffice (Debian's `libreoffice-writer-nogui`, run headless)
with an Urdu font, and the web page printed to PDF by a browser (Chromium's print to
PDF, with its running header and footer: the date, the page's address, "2/5"). The
files land in tests/fixtures/formats/{html,docx,pdf,browser_pdf}/ and are committed,
so the tests and CI need neither program; run this again to rebuild them (each part
runs where its program is installed).

    apt-get install -y libreoffice-writer-nogui chromium fonts-noto-core
    python bench/make_formats.py
"""

import shutil
import subprocess
import sys
import tempfile
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from assistant.corpus import is_metadata_line, source_url, title_of  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "formats"
FONT = "Noto Naskh Arabic"
SITE_CHROME = """<nav><ul><li><a href="/">ہوم</a></li><li><a href="/tin-tuc">خبریں</a></li>
<li><a href="/lien-he">رابطہ</a></li></ul></nav>"""
FOOTER = """<footer><p>کاپی رائٹ © صوبائی عوامی کمیٹی۔ جملہ حقوق محفوظ ہیں۔</p>
<p>ملاحظات: 1,234,567</p></footer><script>var tracker = "ignore me";</script>"""


def page_html(text: str, name: str, printable: bool) -> str:
    """The report as a web page. `printable` keeps the `ماخذ:` line in the body (as a
    report saved to Word or PDF would carry it) and leaves out the site's menu."""
    title = title_of(text, fallback=name)
    url = source_url(text)
    paragraphs = [line.strip() for line in text.splitlines() if line.strip()]
    if not printable:
        paragraphs = [p for p in paragraphs if not is_metadata_line(p)]
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    head = f'<meta charset="utf-8"><title>{escape(title)}</title>'
    if url:
        head += f'<link rel="canonical" href="{escape(url, quote=True)}">'
    style = f"<style>body {{ font-family: '{FONT}'; direction: rtl; }} p {{ text-align: right; }}</style>"
    chrome, footer = ("", "") if printable else (SITE_CHROME, FOOTER)
    return (
        f'<!DOCTYPE html>\n<html lang="ur" dir="rtl"><head>{head}{style}</head>\n<body>{chrome}\n'
        f"<article>\n{body}\n</article>\n{footer}</body></html>\n"
    )


ENCRYPTED = (
    'pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},'
    '"DocumentOpenPassword":{"type":"string","value":"secret"}}'
)


def convert(html: Path, fmt: str, out_dir: Path, target: str | None = None) -> Path:
    target = target or {"docx": "docx:MS Word 2007 XML", "pdf": "pdf:writer_pdf_Export"}[fmt]
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--infilter=HTML (StarWriter)",
             "--convert-to", target, "--outdir", str(out_dir), str(html)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    return out_dir / f"{html.stem}.{fmt}"


def print_to_pdf(html: Path, out_dir: Path) -> Path:
    """The page as a browser saves it with Print > Save as PDF."""
    target = out_dir / f"{html.stem}.pdf"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--print-to-pdf={target}", html.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return target


def main() -> None:
    if not shutil.which("soffice") and not shutil.which("chromium"):
        sys.exit("needs LibreOffice or Chromium: apt-get install -y libreoffice-writer-nogui chromium fonts-noto-core")
    if shutil.which("soffice"):
        office_files()
    if shutil.which("chromium"):
        (OUT / "browser_pdf").mkdir(parents=True, exist_ok=True)
        for report in sorted((ROOT / "corpus").glob("*.txt")):
            page = OUT / "html" / f"{report.stem}.html"
            if not page.exists():
                page.write_text(page_html(report.read_text(encoding="utf-8"), report.stem, False), encoding="utf-8")
            print(print_to_pdf(page, OUT / "browser_pdf").relative_to(ROOT))


def office_files() -> None:
    for fmt in ("html", "docx", "pdf"):
        (OUT / fmt).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for report in sorted((ROOT / "corpus").glob("*.txt")):
            text = report.read_text(encoding="utf-8")
            (OUT / "html" / f"{report.stem}.html").write_text(page_html(text, report.stem, False), encoding="utf-8")
            printable = Path(tmp) / f"{report.stem}.html"
            printable.write_text(page_html(text, report.stem, True), encoding="utf-8")
            for fmt in ("docx", "pdf"):
                print(convert(printable, fmt, OUT / fmt).relative_to(ROOT))
        bad_files(Path(tmp), OUT / "bad")


def bad_files(tmp: Path, out: Path) -> None:
    """Files a reader must refuse by name: a password-protected PDF, a scanned page with
    no text layer, a PDF whose font maps its glyphs to no characters, and a PDF and a
    Word file cut short."""
    out.mkdir(parents=True, exist_ok=True)
    report = sorted((ROOT / "corpus").glob("*.txt"))[1]
    locked = tmp / "locked.html"
    locked.write_text(page_html(report.read_text(encoding="utf-8"), "locked", True), encoding="utf-8")
    print(convert(locked, "pdf", out, ENCRYPTED).relative_to(ROOT))
    from PIL import Image, ImageDraw  # gradio's dependency: a page of "scanned" lines

    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    for y in range(150, 1600, 60):
        draw.rectangle((120 + (y % 7) * 30, y, 1120, y + 18), fill=40)
    image.save(tmp / "page.png")
    scanned = tmp / "scanned.html"
    scanned.write_text('<html><body><img src="page.png" width="600"></body></html>', encoding="utf-8")
    print(convert(scanned, "pdf", out).relative_to(ROOT))
    nastaliq = tmp / "nastaliq.html"  # LibreOffice embeds this font with no character map for many glyphs
    html = page_html(report.read_text(encoding="utf-8"), "nastaliq", True)
    nastaliq.write_text(html.replace(FONT, "Noto Nastaliq Urdu"), encoding="utf-8")
    print(convert(nastaliq, "pdf", out).relative_to(ROOT))
    for fmt in ("pdf", "docx"):
        whole = (OUT / fmt / f"{report.stem}.{fmt}").read_bytes()
        (out / f"truncated.{fmt}").write_bytes(whole[: len(whole) // 3])


if __name__ == "__main__":
    main()
