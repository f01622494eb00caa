"""Exported programs reused across processes (statmech_attn._aot): the same numbers as jax.jit, one
entry per code/static/shape key, damaged entries replaced, plain jit wherever the cache is off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from statmech_attn import _aot, _cache
from statmech_attn._jit import LEAN, jit

ROOT = Path(__file__).resolve().parents[1]


class Pair(NamedTuple):
    a: jax.Array
    b: jax.Array


def _program(p: Pair, scale, steps, k: int):
    def body(i, x):
        return x * scale + jnp.sin(x) / (i + k)

    out = jax.lax.fori_loop(0, steps, body, p.a)
    return Pair(out, p.b @ p.b.T), {"norm": jnp.linalg.norm(out)}


@pytest.fixture
def cache_on(tmp_path, monkeypatch):
    monkeypatch.setenv(_cache.OPT_OUT_ENV, "1")
    monkeypatch.setattr(_cache, "_ACTIVE", [tmp_path])
    return tmp_path / "exported"


def _reused():
    return _aot.ReusedProgram(_program, static_argnames=("k",), options=LEAN, pytree_types=(Pair,))


def _args(n=4):
    rng = np.random.default_rng(0)
    return Pair(rng.standard_normal(n), rng.standard_normal((n, 3))), 0.9, 5


def _same(x, y):
    for u, v in zip(jax.tree_util.tree_leaves(x), jax.tree_util.tree_leaves(y)):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def test_same_numbers_as_jit_and_read_back_by_a_new_program(cache_on, monkeypatch):
    p, scale, steps = _args()
    want = jax.jit(_program, static_argnames=("k",), compiler_options=LEAN)(p, scale, steps, k=2)
    first = _reused()(p, scale, steps, k=2)
    _same(first, want)
    assert len(list(cache_on.glob("*.jexp"))) == 1

    def no_export(*a, **k):  # a new program (a new process) must read the entry, not export again
        raise AssertionError("exported again")

    monkeypatch.setattr(jax.export, "export", no_export)
    again = _reused()(p, scale, steps, 2)  # static argument by position: the same key
    _same(again, want)
    assert isinstance(again[0], Pair)


def test_one_entry_per_static_shape_and_code(cache_on, monkeypatch):
    p, scale, steps = _args()
    prog = _reused()
    prog(p, scale, steps, k=2)
    prog(p, scale, steps, k=3)  # another static argument
    prog(_args(6)[0], scale, steps, k=2)  # other shapes
    prog(p, np.float64(scale), steps, k=2)  # a NumPy scalar is not weakly typed: another program
    assert len(list(cache_on.glob("*.jexp"))) == 4
    monkeypatch.setattr(_aot, "code_stamp", lambda: "edited")  # edited source: never a stale program
    _reused()(p, scale, steps, k=2)
    assert len(list(cache_on.glob("*.jexp"))) == 5


def test_damaged_entry_is_replaced(cache_on):
    p, scale, steps = _args()
    want = jax.jit(_program, static_argnames=("k",), compiler_options=LEAN)(p, scale, steps, k=2)
    _reused()(p, scale, steps, k=2)
    (entry,) = cache_on.glob("*.jexp")
    entry.write_bytes(b"\x00garbage")
    _same(_reused()(p, scale, steps, k=2), want)
    assert entry.read_bytes() != b"\x00garbage"


def test_entry_that_does_not_fit_is_dropped(cache_on):
    """An entry whose program does not take these arguments (written by other code under the same
    name) is deleted and the plain program answers."""
    p, scale, steps = _args()
    want = jax.jit(_program, static_argnames=("k",), compiler_options=LEAN)(p, scale, steps, k=2)
    prog = _reused()
    prog(p, scale, steps, k=2)
    (entry,) = cache_on.glob("*.jexp")
    other = _aot.ReusedProgram(lambda q, s, n, k: (q.a,), static_argnames=("k",), pytree_types=(Pair,))
    other.name = "another program"
    other(Pair(np.ones(3), np.ones((3, 3))), 1.0, 2, k=0)  # writes an entry of another signature ...
    (foreign,) = [e for e in cache_on.glob("*.jexp") if e != entry]
    entry.write_bytes(foreign.read_bytes())  # ... under this program's key
    _same(_reused()(p, scale, steps, k=2), want)
    assert not entry.exists()


def test_precompile_ahead_of_the_call(cache_on, monkeypatch):
    """precompile() with shapes only exports the program the call then reads; it never raises."""
    p, scale, steps = _args()
    sds = Pair(jax.ShapeDtypeStruct(p.a.shape, p.a.dtype), jax.ShapeDtypeStruct(p.b.shape, p.b.dtype))
    _reused().precompile(sds, scale, steps, k=2)
    assert len(list(cache_on.glob("*.jexp"))) == 1
    _reused().precompile("not", "the", "arguments")  # wrong arguments: nothing happens
    monkeypatch.setattr(jax.export, "export", lambda *a, **k: (_ for _ in ()).throw(AssertionError("exported again")))
    want = jax.jit(_program, static_argnames=("k",), compiler_options=LEAN)(p, scale, steps, k=2)
    _same(_reused()(p, scale, steps, k=2), want)  # the call reads what precompile wrote


def test_plain_jit_when_off_or_traced(tmp_path, monkeypatch, cache_on):
    p, scale, steps = _args()
    want = jax.jit(_program, static_argnames=("k",), compiler_options=LEAN)(p, scale, steps, k=2)
    # under a transformation (tracer arguments): the plain program, nothing written
    out = jax.jit(lambda q: _reused()(q, scale, steps, k=2))(p)
    for u, v in zip(jax.tree_util.tree_leaves(out), jax.tree_util.tree_leaves(want)):  # the outer program's options
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=1e-13, atol=1e-15)
    assert not cache_on.exists()
    monkeypatch.setenv(_cache.OPT_OUT_ENV, "0")  # STATMECH_ATTN_CACHE=0: no folder
    assert _aot._folder() is None
    _same(_reused()(p, scale, steps, k=2), want)
    assert not cache_on.exists()


def test_jit_reuse_option_builds_a_reused_program():
    prog = jit(_program, compile="lean", static_argnames="k", reuse=(Pair,))
    assert isinstance(prog, _aot.ReusedProgram) and prog.static_argnames == ("k",) and prog.options == LEAN


@pytest.mark.smoke
def test_cli_warm_run_reads_exported_programs(tmp_path):
    """Two `paths solve` processes on one cache folder: the second reads the exported programs and
    prints the same record (the solver's own wall time aside)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), STATMECH_ATTN_CACHE="1", JAX_PLATFORMS="cpu")
    cmd = [sys.executable, "-m", "statmech_attn", "paths", "solve", str(ROOT / "examples" / "paths_hmm.toml"), "--json"]
    runs = [subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp_path) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr[-2000:]
    entries = list((tmp_path / "cache").rglob("exported/*.jexp"))
    assert len(entries) == 2  # the Newton loop and the record program

    def result(r):
        rec = json.loads(r.stdout)["result"]
        rec.pop("wall_time_s", None)
        return rec

    assert result(runs[0]) == result(runs[1])
