"""Every gallery script runs as its users run it (``--quick --out DIR``) and writes its PNG and PDF."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GALLERY = Path(__file__).resolve().parents[1] / "examples" / "gallery"
SCRIPTS = sorted(p for p in GALLERY.glob("*.py") if not p.name.startswith("_"))


def test_one_script_per_paper() -> None:
    assert {p.name.split("_")[0] for p in SCRIPTS} >= {"paths", "potts", "oversmoothing", "energy", "factors"}


@pytest.mark.smoke
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_gallery_script_quick(script: Path, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    for ext in ("png", "pdf"):
        out = tmp_path / f"{script.stem}.{ext}"
        assert out.is_file() and out.stat().st_size > 0, f"{out.name} missing; stdout: {r.stdout[-1000:]}"
