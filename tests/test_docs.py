"""The documentation: the README is a front page, nothing points at files outside the repository,
and the MkDocs site builds with --strict (key tables and API reference generated from the code)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# files outside the repository that the documentation must never mention
FORBIDDEN = ("shared/", "DESIGN.md")


def _doc_files() -> list[Path]:
    files = [README, ROOT / "mkdocs.yml"]
    files += [p for p in DOCS.rglob("*") if p.is_file() and p.suffix in {".md", ".yml", ".py", ".js"}]
    return files


def test_readme_is_a_front_page() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text) <= 15_000, f"README.md has {len(text)} characters (at most 15 000)"
    assert "pip install -e . && statmech-attn paths solve examples/paths_hmm.toml" in text
    assert 'pip install -e ".[test]" && python -m pytest -q' in text


def test_readme_links_stay_in_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://")):
            assert re.match(r"https://(arxiv\.org|www\.mkdocs\.org)(/|$)", target), f"external link {target}"
        else:
            path = target.split("#", 1)[0]
            assert (ROOT / path).exists(), f"README links to a missing file: {target}"


@pytest.mark.parametrize("path", _doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_mention_of_files_outside_the_repository(path: Path) -> None:
    if path.name == "_hooks.py":  # the hook that rewrites such mentions in docstrings has to name them
        return
    text = path.read_text(encoding="utf-8")
    for word in FORBIDDEN:
        assert word not in text, f"{path.relative_to(ROOT)} mentions {word!r}"


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    pytest.importorskip("mkdocstrings_handlers.python")
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    pages = list(site.rglob("*.html"))
    assert (site / "index.html").is_file() and len(pages) >= 15
    for page in pages:  # docstrings rendered into the reference are rewritten too
        html = page.read_text(encoding="utf-8")
        for word in ("shared/theory", "DESIGN.md"):
            assert word not in html, f"{page.relative_to(site)} mentions {word!r}"
    # the key tables were generated (a placeholder left behind would be an HTML comment)
    paths_page = (site / "theories" / "paths" / "index.html").read_text(encoding="utf-8")
    assert "model.temperature" in paths_page and "<!-- keys" not in paths_page
