"""On-disk cache of derivation results (:func:`cached`), keyed by the problem and the source text
of the code that derives it."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import sympy as sp

HELPER_VERSION = "1"


def _helper_source() -> bytes:
    """The source of every module of this package (editing the helper invalidates the cache)."""
    return b"".join(p.read_bytes() for p in sorted(Path(__file__).parent.glob("*.py")))


def cache_dir() -> Path:
    """``$STATMECH_ATTN_CACHE`` if set, else ``~/.cache/statmech_attn/derivations``."""
    env = os.environ.get("STATMECH_ATTN_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "statmech_attn" / "derivations"


def cache_key(problem: Mapping[str, Any], sources: Sequence[Any] = ()) -> str:
    """SHA-256 of the problem description (JSON, sorted keys), the SymPy version, this helper's
    version and the source text of ``sources`` (modules or functions building the derivation)."""
    h = hashlib.sha256()
    h.update(json.dumps(problem, sort_keys=True, default=str).encode())
    h.update(sp.__version__.encode())
    h.update(HELPER_VERSION.encode())
    h.update(_helper_source())
    for s in sources:
        h.update(inspect.getsource(s).encode())
    return h.hexdigest()[:32]


def cached(problem: Mapping[str, Any], build: Callable[[], Any], *, sources: Sequence[Any] = (),
           use_cache: bool = True) -> tuple[Any, bool]:
    """``build()`` once per problem; later calls load the pickled result.

    Returns (result, hit) with ``hit`` True when the result came from the cache.  The file is
    ``cache_dir() / "<theory>-<key>.pkl"`` (``theory`` from ``problem`` if present).
    """
    key = cache_key(problem, sources)
    path = cache_dir() / f"{problem.get('theory', 'derivation')}-{key}.pkl"
    if use_cache and path.exists():
        try:
            with open(path, "rb") as f:
                return pickle.load(f), True
        except Exception:
            pass  # unreadable entry (other SymPy, truncated): recompute
    result = build()
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pkl")
            with os.fdopen(fd, "wb") as f:
                pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except (OSError, pickle.PicklingError):
            pass  # a read-only cache never breaks a derivation
    return result, False


class Timer:
    """Context manager recording elapsed seconds in ``.seconds``."""

    def __enter__(self):
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t0
        return False
