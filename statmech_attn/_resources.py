"""Resources: refuse a run before it allocates what the machine does not have.

Each spec lists ``memory_terms()`` — ``(parameter, value, bytes)`` estimated from its sizes — and
:func:`check_resources` refuses (``InputError`` naming the largest term) a run above
:func:`memory_limit`: ``$STATMECH_ATTN_MAX_MEMORY`` (``16G``, ``512MiB``, bytes), else half of the
machine's memory (or of the cgroup's limit).  NPZ inputs are bounded by the same limit from their
``.npy`` headers (:func:`statmech_attn.io.npz_headers`).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, Sequence

from .errors import InputError


MEMORY_ENV = "STATMECH_ATTN_MAX_MEMORY"
#: the default limit is this fraction of the machine's (or the cgroup's) memory
MEMORY_FRACTION = 0.5
INT64_MAX = 2**63 - 1
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1000, "kib": 1024, "m": 1024**2, "mb": 1000**2, "mib": 1024**2,
          "g": 1024**3, "gb": 1000**3, "gib": 1024**3, "t": 1024**4, "tb": 1000**4, "tib": 1024**4}


def _machine_memory() -> int:
    """Physical memory of the machine, or the cgroup's limit when it is lower (bytes)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 1024**3
    for f in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(f).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            total = int(text)
    return int(total)


def parse_bytes(text: str, param: str = MEMORY_ENV) -> int:
    """``"8G"``, ``"512MiB"``, ``"2e9"`` -> bytes (``InputError`` naming ``param`` otherwise)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise InputError(param, text, "must be a size such as 8G, 512M or 2000000000 (bytes)")
    value = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if not (math.isfinite(value) and value >= 1):
        raise InputError(param, text, "must be a size >= 1 byte")
    return int(min(value, INT64_MAX))


def memory_limit() -> int:
    """Bytes a run may plan to use: ``$STATMECH_ATTN_MAX_MEMORY`` (e.g. ``16G``), else half of the
    machine's memory (or of the cgroup's limit)."""
    text = os.environ.get(MEMORY_ENV, "").strip()
    if text:
        return parse_bytes(text)
    return int(MEMORY_FRACTION * _machine_memory())


def _human(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if abs(n) < 1024 or unit == "EiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"


def check_memory(terms: Sequence[tuple[str, Any, float]], *, what: str = "the run") -> None:
    """Refuse a run whose estimated memory is above :func:`memory_limit`.

    ``terms``: ``(parameter, value, bytes)`` contributions (Python ints or floats: products of huge
    sizes do not overflow); the error names the parameter of the largest term.
    """
    terms = [(p, v, float(b)) for p, v, b in terms]
    if not terms:
        return
    total = sum(b for _, _, b in terms)
    limit = memory_limit()
    if not total <= limit:  # NaN (inf * 0 of absurd sizes) is refused too
        param, value, _ = max(terms, key=lambda t: t[2] if t[2] == t[2] else math.inf)
        source = (f"{MEMORY_ENV}" if os.environ.get(MEMORY_ENV, "").strip()
                  else f"half the machine's memory; set {MEMORY_ENV}=SIZE to change it")
        raise InputError(param, value, f"{what} would need about {_human(total)} of memory, above the limit of "
                         f"{_human(limit)} ({source})")


def check_resources(spec: Any) -> None:
    """Call ``spec.memory_terms()`` (when the spec defines it) and refuse a run that cannot fit."""
    fn = getattr(spec, "memory_terms", None)
    if callable(fn):
        check_memory(list(fn()))


def nbytes(*sizes: Any, itemsize: int = 8) -> float:
    """``prod(sizes) * itemsize`` as a float (no overflow for huge sizes)."""
    out = float(itemsize)
    for n in sizes:
        out *= float(n)
    return out


