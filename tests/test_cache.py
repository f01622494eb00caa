"""The persistent compilation cache (statmech_attn._cache): on by default in the user cache folder,
never in the working directory, opt-out, the user's own folder wins, and a second process reads
the first one's programs back.  Every case runs in a fresh Python process (JAX decides once per
process whether its cache is used)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

_PROBE = textwrap.dedent("""
    import importlib.util, json, os, sys
    if os.environ.get("PROBE_STANDALONE"):  # the module alone, without the package (which imports JAX)
        spec = importlib.util.spec_from_file_location("_cache", os.environ["PROBE_STANDALONE"])
        _cache = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_cache)
    else:
        if os.environ.get("PROBE_IMPORT_JAX_FIRST"):
            import jax
        import statmech_attn._cache as _cache
    compilation_cache_disabled = _cache.compilation_cache_disabled
    jax_before = "jax" in sys.modules
    path = _cache.enable_compilation_cache()
    jax_after = "jax" in sys.modules
    import jax, jax.numpy as jnp
    from jax import monitoring
    jax.config.update("jax_enable_x64", True)  # as the package sets it
    events = []
    monitoring.register_event_listener(lambda e, **kw: events.append(e))

    def program(x):  # a small program, distinct per offset
        for k in range(30):
            x = jnp.sin(x) * (k + OFFSET) + jnp.cos(x @ x.T) @ x
        return x.sum()

    OFFSET = int(os.environ.get("PROBE_OFFSET", "0"))
    if os.environ.get("PROBE_DISABLED"):
        with compilation_cache_disabled():
            jax.jit(program)(jnp.ones((4, 4))).block_until_ready()
    else:
        jax.jit(program)(jnp.ones((4, 4))).block_until_ready()
    print(json.dumps({
        "path": None if path is None else str(path),
        "jax_before": jax_before,
        "jax_imported_by_enable": jax_after and not jax_before,
        "jax_dir": jax.config.jax_compilation_cache_dir,
        "hits": events.count("/jax/compilation_cache/cache_hits"),
        "misses": events.count("/jax/compilation_cache/cache_misses"),
    }))
""")

_CACHE_VARS = ("STATMECH_ATTN_CACHE", "JAX_COMPILATION_CACHE_DIR",
               "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "JAX_COMPILATION_CACHE_MAX_SIZE")


def _probe(cwd: Path, **env: str) -> dict:
    full = {k: v for k, v in os.environ.items() if k not in _CACHE_VARS}
    full["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"  # write whatever compiles
    full.update(env)
    cwd.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=cwd, env=full, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _entries(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("*-cache")}


_MODULE = str(Path(__file__).resolve().parents[1] / "statmech_attn" / "_cache.py")


def test_cache_is_on_by_default_in_the_user_cache_folder_and_a_second_process_reads_it(tmp_path):
    """First process: the module alone, before JAX is imported (settings by environment); second
    process: JAX imported first (settings by jax.config): one folder, read back."""
    xdg, work = tmp_path / "xdg", tmp_path / "work"
    first = _probe(work, XDG_CACHE_HOME=str(xdg), PROBE_STANDALONE=_MODULE)
    assert not first["jax_before"]
    folder = Path(first["path"])
    assert folder.parent == xdg / "statmech_attn" / "jax" and folder.is_dir()
    assert first["jax_dir"] == str(folder)
    assert not first["jax_imported_by_enable"]  # enabling the cache does not import JAX
    assert first["hits"] == 0 and first["misses"] >= 1
    written = _entries(folder)
    assert any(name.startswith("jit_program-") for name in written)
    assert list(work.iterdir()) == []  # nothing in the working directory

    second = _probe(work, XDG_CACHE_HOME=str(xdg), PROBE_IMPORT_JAX_FIRST="1")
    assert second["jax_before"]
    assert second["path"] == first["path"] and second["jax_dir"] == first["path"]
    assert second["hits"] >= 1 and second["misses"] == 0  # every program read back, none compiled
    assert _entries(folder) == written
    assert list(work.iterdir()) == []


def test_opt_out_and_the_users_own_folder(tmp_path):
    xdg, work = tmp_path / "xdg", tmp_path / "work"
    for off in ("0", "False"):
        r = _probe(work, XDG_CACHE_HOME=str(xdg), STATMECH_ATTN_CACHE=off)
        assert r["path"] is None and r["jax_dir"] is None and r["hits"] == 0
    assert not xdg.exists()

    own = tmp_path / "mine"
    r = _probe(work, XDG_CACHE_HOME=str(xdg), JAX_COMPILATION_CACHE_DIR=str(own))
    assert r["path"] == str(own) and r["jax_dir"] == str(own)
    assert not xdg.exists()  # ours is not created
    assert list(work.iterdir()) == []


def test_relative_xdg_cache_home_is_ignored_never_the_working_directory(tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    r = _probe(work, XDG_CACHE_HOME="cache", HOME=str(home))
    assert Path(r["path"]).parent == home / ".cache" / "statmech_attn" / "jax"
    assert list(work.iterdir()) == []


def test_compilation_cache_disabled_excludes_one_program_only(tmp_path):
    xdg, work = tmp_path / "xdg", tmp_path / "work"
    r = _probe(work, XDG_CACHE_HOME=str(xdg), PROBE_DISABLED="1", PROBE_OFFSET="7")
    folder = Path(r["path"])
    assert r["hits"] == 0 and r["misses"] == 0  # the cache was not consulted
    assert not any(name.startswith("jit_program-") for name in _entries(folder))
    # after the block the cache is on again: the same program outside it is written and read back
    _probe(work, XDG_CACHE_HOME=str(xdg), PROBE_OFFSET="7")
    assert any(name.startswith("jit_program-") for name in _entries(folder))
    assert _probe(work, XDG_CACHE_HOME=str(xdg), PROBE_OFFSET="7")["hits"] >= 1
