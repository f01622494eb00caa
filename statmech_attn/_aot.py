"""A verb's compiled programs, kept on disk as exported StableHLO, so a warm run skips tracing them.

JAX's persistent compilation cache (:mod:`statmech_attn._cache`) saves the XLA compile of a program,
but finds the entry by the program's lowered module: every run still traces the Python solver and
lowers it to MLIR before it can look (0.4 s of a warm ``paths solve``, more than the solve).  Here a
program, once traced, is also written as a ``jax.export.Exported`` (serialised StableHLO: data, no
Python, read by JAX's flatbuffer reader) under ``<cache folder>/exported/``; a later run with the same
code, the same static arguments and the same argument shapes reads it back and calls it, which
traces one call and lowers by parsing the stored module (milliseconds), then finds its executable
in the compilation cache.

The key of an entry is a SHA-256 of everything the program depends on: the function's module and
name, its static arguments, the pytree structure, shapes, dtypes and weak types of the others, the
compiler options, the JAX backend, the JAX/jaxlib/statmech_attn versions and a stamp of the
package's source files (path, size and modification time of every ``.py``), so an edited solver is
a new key, never a stale program.  An entry that cannot be read (damaged, another JAX) is replaced;
writes are atomic.  Off (plain :func:`jax.jit`) when the compilation cache is off
(``STATMECH_ATTN_CACHE=0``, no writable cache folder), when ``flatbuffers`` (JAX's serialisation
dependency) is missing, under a JAX transformation (tracer arguments), or for a program JAX cannot
export; every fallback gives the same numbers, only slower to a first answer.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["ReusedProgram", "code_stamp", "entry_key"]

_SUFFIX = ".jexp"
_REGISTERED: set[type] = set()


@functools.lru_cache(maxsize=1)
def code_stamp() -> str:
    """SHA-256 over (relative path, size, mtime) of every ``.py`` file of the installed package."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        st = path.stat()
        h.update(f"{path.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _folder() -> Path | None:
    """``exported/`` next to JAX's compilation cache when this package switched that cache on."""
    from . import _cache

    base = _cache.active_folder()
    if base is None:
        return None
    try:
        import flatbuffers  # noqa: F401  (jax.export's serialisation)
    except ImportError:
        return None
    return base / "exported"


def _leaf_spec(leaf: Any) -> list:
    import jax
    import numpy as np

    aval = jax.typeof(leaf) if isinstance(leaf, jax.Array) else leaf if isinstance(leaf, jax.ShapeDtypeStruct) else None
    if aval is not None:
        return [list(aval.shape), str(aval.dtype), bool(getattr(aval, "weak_type", False))]
    if isinstance(leaf, (bool, int, float, complex)) and not isinstance(leaf, np.generic):
        return [[], type(leaf).__name__, True]  # Python scalars are weakly typed
    arr = np.asarray(leaf)
    return [list(arr.shape), str(arr.dtype), False]


def entry_key(name: str, static: dict[str, Any], dynamic: dict[str, Any], options: dict[str, Any] | None) -> str:
    """The entry's file name stem (see the module docstring)."""
    import jax
    import jaxlib

    from ._version import __version__

    leaves, tree = jax.tree_util.tree_flatten(dynamic)
    text = json.dumps({
        "name": name, "static": {k: repr(v) for k, v in sorted(static.items())}, "tree": str(tree),
        "leaves": [_leaf_spec(x) for x in leaves], "options": options or {}, "backend": jax.default_backend(),
        "x64": bool(jax.config.jax_enable_x64), "versions": [jax.__version__, jaxlib.__version__, __version__],
        "code": code_stamp(),
    }, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _committed(tree: Any) -> Any:
    """Array leaves placed on the default device, committed: an exported program's call is compiled
    per placement of its inputs (host, uncommitted, committed), so one placement means one compile."""
    import jax
    import numpy as np

    device = jax.devices()[0]
    return jax.tree_util.tree_map(
        lambda x: jax.device_put(x, device) if isinstance(x, (np.ndarray, np.generic, jax.Array)) else x, tree)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ReusedProgram:
    """``jax.jit(fun, static_argnames=..., compiler_options=options)`` whose traced program is reused
    across processes (see the module docstring).  ``pytree_types``: the NamedTuple classes among
    its arguments and results (registered for serialisation under their qualified names)."""

    def __init__(self, fun: Callable, *, static_argnames: Sequence[str] = (), options: dict[str, Any] | None = None,
                 pytree_types: Sequence[type] = ()):
        import jax

        self.fun = fun
        self.name = f"{fun.__module__}.{fun.__qualname__}"
        self.static_argnames = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
        self.options = dict(options) if options else None
        self.jitted = jax.jit(fun, static_argnames=self.static_argnames, compiler_options=self.options)
        # inside another program (JAX takes compiler options on top-level programs only)
        self.nested = jax.jit(fun, static_argnames=self.static_argnames)
        self.signature = inspect.signature(fun)
        self.pytree_types = tuple(pytree_types)
        self._calls: dict[str, Callable] = {}
        self._broken = False
        functools.update_wrapper(self, fun)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import jax

        if any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves((args, kwargs))):
            return self.nested(*args, **kwargs)
        folder = None if self._broken else _folder()
        if folder is None:
            return self.jitted(*args, **kwargs)
        static, dynamic, key = self._split(args, kwargs)
        call = self._calls.get(key)
        if call is not None:
            return call(**_committed(dynamic))
        path = folder / f"{key}{_SUFFIX}"
        call = self._load_or_export(path, static, dynamic)
        if call is None:
            return self.jitted(*args, **kwargs)
        try:
            out = call(**_committed(dynamic))
        except (TypeError, ValueError):  # an entry that does not fit these arguments: never use it again
            path.unlink(missing_ok=True)
            self._broken = True
            return self.jitted(*args, **kwargs)
        self._calls[key] = call
        return out

    def _split(self, args: tuple, kwargs: dict) -> tuple[dict[str, Any], dict[str, Any], str]:
        """(static arguments, the others by name, the entry key) of a call."""
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        static = {k: v for k, v in bound.arguments.items() if k in self.static_argnames}
        dynamic = {k: v for k, v in bound.arguments.items() if k not in self.static_argnames}
        return static, dynamic, entry_key(self.name, static, dynamic, self.options)

    def precompile(self, *args: Any, **kwargs: Any) -> None:
        """Read or export the program for arguments of these shapes (``jax.ShapeDtypeStruct`` leaves
        stand for arrays, placed as a call would place them) and compile it into JAX's persistent
        cache, ahead of the call: run in a thread while another program compiles, the later call
        reads the executable instead of compiling it.  Never raises (the call does what was not done)."""
        try:
            import jax

            folder = None if self._broken else _folder()
            if folder is None:
                return
            static, dynamic, key = self._split(args, kwargs)
            call = self._calls.get(key) or self._load_or_export(folder / f"{key}{_SUFFIX}", static, dynamic)
            if call is None:
                return
            device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
            placed = jax.tree_util.tree_map(
                lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=device) if hasattr(x, "shape") else x,
                dynamic)
            call.trace(**placed).lower().compile()
        except Exception:
            return

    def _register(self) -> None:
        from jax import export

        for cls in self.pytree_types:
            if cls not in _REGISTERED:
                try:
                    export.register_namedtuple_serialization(cls, serialized_name=f"{cls.__module__}.{cls.__qualname__}")
                except ValueError:  # registered already (a reloaded module)
                    pass
                _REGISTERED.add(cls)

    def _load_or_export(self, path: Path, static: dict[str, Any], dynamic: dict[str, Any]) -> Callable | None:
        import jax
        from jax import export

        self._register()
        exported = None
        if path.is_file():
            try:
                exported = export.deserialize(bytearray(path.read_bytes()))
            except Exception:  # damaged or from another JAX: export again, replace it
                exported = None
        if exported is None:
            try:
                exported = export.export(self.jitted)(**static, **dynamic)
                data = exported.serialize()
            except Exception:  # a program JAX cannot export or serialise: plain jit from now on
                self._broken = True
                return None
            try:
                _write_atomic(path, bytes(data))
            except OSError:
                pass  # a read-only or full cache folder: this run still uses the program
        return jax.jit(exported.call, compiler_options=self.options)
