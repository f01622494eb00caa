"""The NUTS posterior of ``paths validate`` as ArviZ InferenceData (NetCDF) and an ``az.summary`` table.

ArviZ is imported inside the functions (only this verb needs it).  Each grid point's draws of the
compared statistics (``U1``…``UL``, ``U_a``, ``f_mean``, ``f_var``; shape (chain, draw, ...)) become the
``posterior`` group, with named dimensions (``path``, ``path_``, ``test``) and the theory's value of
each statistic in the attributes.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any, Mapping

import numpy as np

__all__ = ["PREFIX", "to_inference_data", "write_posterior", "summary", "summary_text"]

#: prefix of the NUTS draws among a grid point's arrays (points/<key>.npz)
PREFIX = "posterior__"


def _az() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az


def _dims(name: str, value: np.ndarray) -> list[str]:
    extra = value.ndim - 2
    if re.fullmatch(r"U\d+", name) and extra == 2:
        return [f"path_{name[1:]}", f"path_{name[1:]}_"]
    if name in ("f_mean", "f_var") and extra == 1:
        return ["test"]
    return [f"{name}_dim_{i}" for i in range(extra)]


def to_inference_data(draws: Mapping[str, np.ndarray], point: Mapping[str, Any] | None = None) -> Any:
    """ArviZ InferenceData of one point's draws ({statistic: (chain, draw, ...)}); the point's α, N,
    seed and NUTS diagnostics go into the attributes."""
    az = _az()
    post = {k: np.asarray(v, dtype=np.float64) for k, v in draws.items()}
    attrs: dict[str, Any] = {"inference_library": "numpyro", "creation_library": "statmech_attn"}
    if point is not None:
        for k in ("alpha", "width", "n_train", "seed"):
            if k in point:
                attrs[k] = point[k]
        nuts = point.get("nuts") or {}
        for k in ("divergences", "accept_prob", "mean_tree_steps"):
            if k in nuts:
                attrs[f"nuts_{k}"] = nuts[k]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return az.from_dict(posterior=post, dims={k: _dims(k, v) for k, v in post.items()}, attrs=attrs)


def write_posterior(idata: Any, path: str | Path) -> Path:
    """Write NetCDF atomically (temporary file + rename)."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    idata.to_netcdf(str(tmp))
    tmp.replace(p)
    return p


def summary(idata: Any, comparisons: Mapping[str, Any] | None = None) -> Any:
    """``az.summary`` (mean, sd, HDI, MCSE, bulk/tail ESS, R-hat) of every compared statistic, with the
    theory's value and (simulation − theory)/SE when ``comparisons`` (the point's) are given."""
    az = _az()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = az.summary(idata, kind="all", round_to="none")
    if comparisons:
        theory = []
        for label in table.index:
            name, _, idx = label.partition("[")
            c = comparisons.get(name)
            if c is None or "theory" not in c:
                theory.append(np.nan)
                continue
            t = np.asarray(c["theory"], dtype=float)
            theory.append(float(t[tuple(int(i) for i in idx.rstrip("]").split(","))] if idx else t))
        table["theory"] = theory
        table["z"] = (table["mean"] - table["theory"]) / table["mcse_mean"]
    return table


def _lower_triangle(label: str) -> bool:
    """``U1[2, 0]``: the mirror of ``U1[0, 2]`` (the overlaps are symmetric)."""
    m = re.fullmatch(r"U\d+\[(\d+), (\d+)\]", label)
    return bool(m and int(m.group(1)) > int(m.group(2)))


def summary_text(table: Any, max_rows: int = 12) -> str:
    """A compact text table (mean, sd, ESS, R-hat, theory, z) of the first ``max_rows`` rows, without
    the mirrored entries of the symmetric overlaps (the full table: :func:`summary`)."""
    cols = [c for c in ("mean", "sd", "ess_bulk", "r_hat", "theory", "z") if c in table.columns]
    table = table[[not _lower_triangle(str(i)) for i in table.index]]
    shown = table[cols].head(max_rows)
    text = shown.to_string(float_format=lambda v: f"{v:.4g}")
    if len(table) > max_rows:
        text += f"\n… {len(table) - max_rows} more (posterior_summary_<point>.csv)"
    return text
