"""Reports added from the chat are checked before anything is kept: a safe name inside
the uploads folder, an allowed type, the size limit, and a file its reader can use."""

import shutil
from pathlib import Path

import pytest

from assistant.uploads import UPLOAD_FOLDER, safe_name, stage

FORMATS = Path(__file__).resolve().parent / "fixtures" / "formats"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\report.PDF", "report.pdf"),
        ("/abs/path/رپورٹ 2025.docx", "رپورٹ 2025.docx"),
        ("a<b>|c?.html", "a_b__c_.html"),
        ("  .hidden.txt", "hidden.txt"),
        ("مُعَّین رپورٹ.pdf", "مُعَّین رپورٹ.pdf"),  # Urdu vowel marks stay
    ],
)
def test_names_stay_inside_the_uploads_folder(name, safe):
    assert safe_name(name) == safe


@pytest.mark.parametrize("name", ["..", "", ".txt", "noext", "///"])
def test_names_with_nothing_usable_are_refused(name):
    with pytest.raises(ValueError):
        safe_name(name)


def test_only_good_files_are_copied_each_refusal_says_why(tmp_path):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "000.pdf"
    shutil.copy(FORMATS / "pdf" / "000_63192892e5e1be8e.pdf", good)
    locked = incoming / "locked.pdf"
    shutil.copy(FORMATS / "bad" / "locked.pdf", locked)
    (incoming / "run.exe").write_bytes(b"MZ")
    (incoming / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    big = incoming / "big.txt"
    big.write_text("رپورٹ " * 500_000, encoding="utf-8")  # 5.5 MB: over the limit for text
    corpus = tmp_path / "corpus"

    copied, refused = stage([good, locked, incoming / "run.exe", incoming / "latin1.txt", big], corpus)
    assert copied == [corpus / UPLOAD_FOLDER / "000.pdf"] and copied[0].read_bytes() == good.read_bytes()
    reasons = {r.path.name: r.reason for r in refused}
    assert "encrypted PDF" in reasons["locked.pdf"]
    assert "not a report format" in reasons["run.exe"]
    assert "not valid UTF-8" in reasons["latin1.txt"]
    assert "too large" in reasons["big.txt"]
    assert [p.name for p in (corpus / UPLOAD_FOLDER).iterdir()] == ["000.pdf"]  # nothing else kept
