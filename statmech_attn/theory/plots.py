"""Figures of a theory sweep: observables and order parameters against the swept parameter.

Each function returns ``(fig, ax)`` and never shows the figure.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from .._style import figsize, subplots

__all__ = ["plot_sweep", "plot_observables", "plot_order_parameters"]


def _series(record: Mapping[str, Any], name: str) -> tuple[list[float], list[float], list[bool]]:
    over = record["over"]
    pts = [p for p in record["points"] if p.get(name) is not None and p.get(over) is not None]
    if record.get("continuation", "natural") == "natural":
        pts = sorted(pts, key=lambda p: p[over])
    return [p[over] for p in pts], [p[name] for p in pts], [bool(p.get("converged")) for p in pts]


def plot_sweep(record: Mapping[str, Any], names: Sequence[str], *, ax: Any = None, logx: bool | None = None,
               title: str | None = None) -> tuple[Any, Any]:
    """``names`` (observables or order parameters) against ``record["over"]``; points that did not
    converge are drawn as open circles, and stability changes as vertical dotted lines."""
    fig, ax = (ax.figure, ax) if ax is not None else subplots(figsize=figsize(1), layout="constrained")
    over = record["over"]
    for name in names:
        x, y, ok = _series(record, name)
        line, = ax.plot(x, y, "-", label=name)
        bad = [(a, b) for a, b, c in zip(x, y, ok) if not c]
        if bad:
            ax.plot(*zip(*bad), "o", mfc="none", color=line.get_color())
    for ch in record.get("stability_changes", []):
        ax.axvline(0.5 * (ch["between"][0] + ch["between"][1]), ls=":", color="grey", lw=1)
    xs = [p[over] for p in record["points"] if p.get(over) is not None]
    if logx is None:
        logx = bool(xs) and min(xs) > 0 and max(xs) / min(xs) > 20
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(f"{over} (a.u.)")
    ax.set_ylabel(f"{names[0]} (a.u.)" if len(names) == 1 else "value (a.u.)")
    if names:
        ax.legend(loc="best")
    ax.set_title(title or str(record.get("theory", "")).replace("_", " "))
    return fig, ax


def plot_observables(record: Mapping[str, Any], **kwargs: Any) -> tuple[Any, Any]:
    """Every observable of a sweep record against the swept parameter."""
    return plot_sweep(record, record.get("observables", []), **kwargs)


def plot_order_parameters(record: Mapping[str, Any], **kwargs: Any) -> tuple[Any, Any]:
    """Every order parameter of a sweep record against the swept parameter."""
    return plot_sweep(record, record.get("order_parameters", []), **kwargs)


def figures(record: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """The standard figures of a sweep record: (figure, file stem) pairs."""
    out = []
    if record.get("observables"):
        out.append((plot_observables(record)[0], "observables"))
    out.append((plot_order_parameters(record)[0], "order_parameters"))
    return out
