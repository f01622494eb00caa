"""What every gallery script shares: the command line (--quick, --out, --seed, --style) and saving."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

EXAMPLES = Path(__file__).resolve().parents[1]  # examples/: the bundled configs


def parser(doc: str | None) -> argparse.ArgumentParser:
    """``--quick`` (a smoke run of seconds), ``--out DIR``, ``--seed``, ``--style``."""
    p = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=doc)
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the script runs (a few seconds), not the result")
    p.add_argument("--out", type=Path, default=Path("gallery_out"), help="folder for the PNG and PDF (default gallery_out/)")
    p.add_argument("--seed", type=int, default=0, help="base random seed (default 0)")
    p.add_argument("--style", default="default", help="figure style: default | paper | talk")
    return p


def save(fig: Any, out: Path, stem: str) -> None:
    """``out/stem.png`` and ``out/stem.pdf``."""
    import matplotlib.pyplot as plt

    from statmech_attn import io

    out.mkdir(parents=True, exist_ok=True)
    for p in io.save_figure(fig, out, stem):
        print(f"wrote {p}")
    plt.close(fig)


class Timer:
    def __enter__(self) -> "Timer":
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        print(f"{time.perf_counter() - self.t0:.1f} s")


def sets(overrides: dict[str, Any]) -> list[str]:
    """``{"validate.widths": [8]}`` -> ``["validate.widths=[8]"]`` (each value one inline TOML value)."""
    import json

    return [f"{k}={json.dumps(v)}" for k, v in overrides.items()]
