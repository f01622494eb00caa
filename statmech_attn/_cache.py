"""JAX's persistent compilation cache, on by default, in the user's cache folder.

A verb's XLA programs (the Newton solver, the replica curve, a NUTS block) take seconds of CPU to
compile and milliseconds to run; kept on disk, a second run on problems of the same shapes reads
them back instead.  :func:`enable_compilation_cache` switches the cache on for this process (and, by
environment variables, for the processes it starts: CLI subprocesses, dask workers):

- folder: ``$XDG_CACHE_HOME/statmech_attn/jax/<host>`` (``~/.cache/...`` when ``XDG_CACHE_HOME`` is
  unset or relative), never a folder in the working directory.  ``<host>`` names the CPU (machine
  type and instruction-set flags): JAX's cache key does not include the host CPU, while XLA compiles
  CPU programs for the host's instruction set, so a home folder shared by machines of different
  CPUs (a cluster's login and compute nodes) would otherwise hand one machine's executables to the
  other;
- off with ``STATMECH_ATTN_CACHE=0`` (or ``false``/``no``/``off``);
- a ``JAX_COMPILATION_CACHE_DIR`` of the user's own (or a folder already set with
  ``jax.config.update``) wins and is left as it is;
- bounded (2 GiB, least recently used entries evicted); the bound also switches on JAX's file lock,
  so processes sharing the folder never read a half-written entry.

NumPyro's NUTS block read back from the cache was once seen to crash a test process (jax 0.10, CPU).
It did not reproduce with jax/jaxlib 0.10.2: the NUTS blocks of ``validation.paths.sample.run_nuts``
(full, collapsed; sequential, vectorized) and the sampler / GP-limit / CLI test files read back
from a warm cache in fresh processes give bitwise the same draws.  :func:`compilation_cache_disabled`
is the narrow exclusion should it come back: wrap the compile of one program in it rather than
turning the cache off for everything.

Importing this module does not import JAX: before JAX is imported the settings go through the
environment variables JAX reads at import, so ``statmech-attn version`` and ``--help`` stay cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import sys
from pathlib import Path
from typing import Iterator

__all__ = ["CACHE_MAX_BYTES", "MIN_COMPILE_TIME_S", "OPT_OUT_ENV", "active_folder", "cache_folder",
           "compilation_cache_disabled", "enable_compilation_cache"]

OPT_OUT_ENV = "STATMECH_ATTN_CACHE"
CACHE_MAX_BYTES = 2 * 1024**3
# programs that compile faster than this are not written (reading an entry back costs a few ms;
# a verb's record program compiles in about 0.1 s with the quick options of statmech_attn._jit)
MIN_COMPILE_TIME_S = 0.02

_OFF = {"0", "false", "no", "off"}


def _host_tag() -> str:
    """A short name for this host's CPU: machine type + instruction-set flags (Linux), or the
    processor string elsewhere."""
    text = platform.machine() + "|" + platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key = line.split(":", 1)[0].strip()
                if key in ("flags", "Features", "isa", "cpu model", "model name"):
                    text += "|" + line.strip()
                    if key in ("flags", "Features", "isa"):
                        break
    except OSError:
        pass
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{platform.machine() or 'cpu'}-{digest}"


def cache_folder() -> Path | None:
    """The folder :func:`enable_compilation_cache` uses (not created), or None when there is no
    absolute user cache folder to put it in."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:  # unset or relative (the XDG spec says: ignore a relative path)
        try:
            home = Path.home()
        except (RuntimeError, KeyError):
            return None
        if not home.is_absolute():
            return None
        base = home / ".cache"
    return base / "statmech_attn" / "jax" / _host_tag()


def _opted_out() -> bool:
    return os.environ.get(OPT_OUT_ENV, "1").strip().lower() in _OFF


_ACTIVE: list[Path] = []  # the folder enable_compilation_cache switched on in this process


def active_folder() -> Path | None:
    """The cache folder :func:`enable_compilation_cache` switched on in this process (None when it
    was not called, opted out, or found no folder): where :mod:`statmech_attn._aot` keeps its entries."""
    if not _ACTIVE or _opted_out():
        return None
    return _ACTIVE[-1]


def enable_compilation_cache() -> Path | None:
    """Switch JAX's persistent compilation cache on (see the module docstring).

    Returns the folder in use: ours, or the user's own ``JAX_COMPILATION_CACHE_DIR`` / configured
    folder (left untouched); None when opted out or when no user cache folder can be created (a
    read-only home: the run goes on without the cache).  Cheap and idempotent; call it once, early,
    before the first compile (the CLI's ``main()`` does).
    """
    if _opted_out():
        return None
    own = os.environ.get("JAX_COMPILATION_CACHE_DIR")
    if own:
        return _activate(Path(own))
    jax = sys.modules.get("jax")
    if jax is not None and jax.config.jax_compilation_cache_dir:
        return _activate(Path(jax.config.jax_compilation_cache_dir))
    path = cache_folder()
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(path, os.W_OK):
        return None
    import importlib.util

    # JAX needs filelock for a bounded cache; look it up without importing it (every command runs this)
    max_size = CACHE_MAX_BYTES if importlib.util.find_spec("filelock") is not None else -1
    settings = {
        "JAX_COMPILATION_CACHE_DIR": str(path),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": str(MIN_COMPILE_TIME_S),
        "JAX_COMPILATION_CACHE_MAX_SIZE": str(max_size),
    }
    # the environment carries the settings into JAX's import here and into every child process;
    # the user's own tuning of the two bounds wins
    os.environ["JAX_COMPILATION_CACHE_DIR"] = settings["JAX_COMPILATION_CACHE_DIR"]
    for key in ("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "JAX_COMPILATION_CACHE_MAX_SIZE"):
        os.environ.setdefault(key, settings[key])
    if jax is not None:  # JAX already imported: its flags were read; set them, restart its cache
        jax.config.update("jax_compilation_cache_dir", str(path))
        jax.config.update("jax_persistent_cache_min_compile_time_secs",
                          float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]))
        jax.config.update("jax_compilation_cache_max_size", int(os.environ["JAX_COMPILATION_CACHE_MAX_SIZE"]))
        _reset_jax_cache()
    return _activate(path)


def _activate(path: Path) -> Path:
    if not _ACTIVE or _ACTIVE[-1] != path:
        _ACTIVE.append(path)
    return path


def _reset_jax_cache() -> None:
    from jax.experimental.compilation_cache import compilation_cache as cc

    cc.reset_cache()


@contextlib.contextmanager
def compilation_cache_disabled() -> Iterator[None]:
    """Compile (and run) the programs first called inside the block without the persistent cache:
    nothing read from it, nothing written to it.  The narrow exclusion for a program whose cached
    executable is not safe to read back; the cache is back on for everything after the block."""
    import jax

    before = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    _reset_jax_cache()  # JAX decides once per process whether the cache is used; decide again
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", before)
        _reset_jax_cache()
