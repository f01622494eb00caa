"""On-disk cache of derivation results (:func:`cached`), keyed by the problem and the source text
of the code that derives it.

Entries are JSON files ``<theory>-<key>.json`` in :func:`cache_dir`, written by
:mod:`._serial` (SymPy expressions as ``srepr`` text, read back by a whitelisting parser): nothing
is pickled and loading an entry never executes code.  A damaged, foreign or unreadable entry is
a miss: the result is derived again and the entry overwritten.  Files are written atomically
(temporary file + rename) with the permissions of the user's umask; a cache folder that cannot
be written never breaks a derivation.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import sympy as sp

from . import _serial
from ._components import InverseEntry, LogDet, MatrixFunction
from ._fixed_point import Condition, OrderParameter
from ._operators import KronIdentity, PartialTrace, PDSqrt, SymmetricMatrixSymbol

HELPER_VERSION = "2"
ENV_VAR = "STATMECH_ATTN_DERIVATION_CACHE"
MAX_ENTRY_BYTES = 64 * 2**20

CACHE_TYPES: tuple[type, ...] = (Condition, OrderParameter, SymmetricMatrixSymbol, PartialTrace, KronIdentity,
                                 PDSqrt, InverseEntry, LogDet, MatrixFunction)
"""The dataclasses and SymPy classes of this package that a cached result may hold (a caller
adds its own with ``cached(..., types=...)``)."""


def _helper_source() -> bytes:
    """The source of every module of this package (editing the helper invalidates the cache)."""
    return b"".join(p.read_bytes() for p in sorted(Path(__file__).parent.glob("*.py")))


def cache_dir() -> Path:
    """``$STATMECH_ATTN_DERIVATION_CACHE`` if set, else ``$XDG_CACHE_HOME/statmech_attn/derivations``
    (``XDG_CACHE_HOME`` an absolute path), else ``~/.cache/statmech_attn/derivations``.

    ``STATMECH_ATTN_CACHE`` is not read here: it switches the command line's compilation cache.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "statmech_attn" / "derivations"


def cache_key(problem: Mapping[str, Any], sources: Sequence[Any] = ()) -> str:
    """SHA-256 of the problem description (JSON, sorted keys), the SymPy version, this helper's
    version and source text, and the source text of ``sources`` (modules or functions building
    the derivation)."""
    h = hashlib.sha256()
    h.update(json.dumps(problem, sort_keys=True, default=str).encode())
    h.update(sp.__version__.encode())
    h.update(HELPER_VERSION.encode())
    h.update(_helper_source())
    for s in sources:
        h.update(inspect.getsource(s).encode())
    return h.hexdigest()[:32]


def cache_path(problem: Mapping[str, Any], sources: Sequence[Any] = ()) -> Path:
    """The file of ``problem``'s entry: ``cache_dir() / "<theory>-<key>.json"``."""
    theory = re.sub(r"[^A-Za-z0-9_-]", "_", str(problem.get("theory", "derivation")))[:40] or "derivation"
    return cache_dir() / f"{theory}-{cache_key(problem, sources)}.json"


def cached(problem: Mapping[str, Any], build: Callable[[], Any], *, sources: Sequence[Any] = (),
           types: Iterable[type] = (), use_cache: bool = True) -> tuple[Any, bool]:
    """``build()`` once per problem; later calls read the result back from its JSON entry.

    Returns (result, hit) with ``hit`` True when the result came from the cache.  The result may
    hold ``None``, booleans, integers, floats, strings, tuples, lists, dicts with string keys,
    SymPy objects and the dataclasses of :data:`CACHE_TYPES` and ``types`` (SymPy classes a
    theory defines go in ``types`` too).  A result that cannot be written so that it reads back
    equal is returned but not cached.
    """
    types = CACHE_TYPES + tuple(types)
    path = cache_path(problem, sources)
    key = path.stem
    if use_cache:
        try:
            return _read(path, key, types), True
        except Exception:
            pass  # missing, damaged, foreign or from another format: derive again
    result = build()
    if use_cache:
        try:
            text = _serial.dumps(result, key=key, types=types)
            if _serial.loads(text, key=key, types=types) == result:
                _write_atomic(path, text)
        except Exception:
            pass  # a result this format cannot hold, or a read-only cache: never breaks a derivation
    return result, False


def _read(path: Path, key: str, types: Sequence[type]) -> Any:
    if not path.is_file():  # also refuses a FIFO or device put in its place
        raise FileNotFoundError(path)
    with open(path, "rb") as f:
        data = f.read(MAX_ENTRY_BYTES + 1)
    if len(data) > MAX_ENTRY_BYTES:
        raise _serial.DecodeError(f"{path} is larger than {MAX_ENTRY_BYTES} bytes")
    return _serial.loads(data.decode("utf-8"), key=key, types=types)


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc: read it by setting it back
    os.umask(mask)
    return mask


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, mode 0666 & ~umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Timer:
    """Context manager recording elapsed seconds in ``.seconds``."""

    def __enter__(self):
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t0
        return False
