"""The shared foundation: Solution contract, config building, run directories."""

from __future__ import annotations

import dataclasses
import json
from typing import Literal

import jax
import numpy as np
import pytest

from statmech_attn import InputError, Result, Solution, SolverError
from statmech_attn import io
from statmech_attn.config import apply_overrides, build, field, load_config, positive, symmetric_matrix


@dataclasses.dataclass(frozen=True)
class _Inner:
    rate: float = field(1.0, check=positive)
    kind: Literal["a", "b"] = "a"
    matrix: np.ndarray | None = field(None, check=symmetric_matrix)


@dataclasses.dataclass(frozen=True)
class _Outer:
    seed: int = 0
    inner: _Inner = dataclasses.field(default_factory=_Inner)
    sizes: tuple[int, ...] = (1, 2)


def test_solution_is_an_immutable_pytree():
    sol = Solution(value={"m": np.ones(2)}, result="converged", residual=1e-12, iterations=3, action=0.5,
                   stats={"wall_time_s": 0.1})
    assert sol.converged and sol.result is Result.converged
    with pytest.raises(dataclasses.FrozenInstanceError):
        sol.residual = 1.0  # type: ignore[misc]
    doubled = jax.tree_util.tree_map(lambda x: 2 * x, sol)
    assert isinstance(doubled, Solution) and np.all(doubled.value["m"] == 2) and doubled.iterations == 3
    bad = sol.replace(result="max_steps")
    assert not bad.converged and "max_steps" in str(SolverError(bad))


def test_build_validates_and_names_keys(tmp_path):
    cfg = build(_Outer, {"inner": {"rate": 2, "matrix": [[1, 2], [2, 1]]}})
    assert cfg.inner.rate == 2.0 and cfg.inner.matrix.shape == (2, 2)
    with pytest.raises(InputError, match=r"^inner.rate = -1"):
        build(_Outer, {"inner": {"rate": -1}})
    with pytest.raises(InputError, match="inner.kind"):
        build(_Outer, {"inner": {"kind": "c"}})
    with pytest.raises(InputError, match="unknown key"):
        build(_Outer, {"inner": {"speed": 1}})
    with pytest.raises(InputError, match="inner.matrix"):
        build(_Outer, {"inner": {"matrix": [[1, 2], [3, 1]]}})
    with pytest.raises(InputError, match=r"sizes\[1\]"):
        build(_Outer, {"sizes": [1, "x"]})
    np.savez(tmp_path / "m.npz", matrix=np.eye(3))
    cfg = build(_Outer, {"inner": {"matrix_npz": "m.npz"}}, base_dir=tmp_path)
    assert np.array_equal(cfg.inner.matrix, np.eye(3))
    with pytest.raises(InputError, match="inner.matrix_npz"):
        build(_Outer, {"inner": {"matrix_npz": "missing.npz"}}, base_dir=tmp_path)


def test_overrides_and_unreadable_files(tmp_path):
    raw = apply_overrides({"inner": {"rate": 1.0}}, ["inner.rate=3.5", "inner.kind=b", "sizes=[4, 5]"])
    assert raw == {"inner": {"rate": 3.5, "kind": "b"}, "sizes": [4, 5]}
    with pytest.raises(InputError, match="--set"):
        apply_overrides({}, ["novalue"])
    bad = tmp_path / "bad.toml"
    bad.write_text("x = [1,")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(bad, _Outer)
    with pytest.raises(InputError, match="file not found"):
        load_config(tmp_path / "none.toml", _Outer)


def test_run_directory_is_atomic_and_finite(tmp_path):
    out = io.prepare_run_dir(tmp_path / "run")
    cfg = build(_Outer, {"inner": {"matrix": np.eye(100).tolist()}})
    io.write_run(out, theory="t", verb="v", seed=7, config=cfg, result={"x": np.float64(1.5), "a": np.arange(3.0)},
                 arrays={"big": np.zeros((4, 4))})
    rec = json.loads((out / "result.json").read_text())
    assert rec["seed"] == 7 and rec["result"] == {"x": 1.5, "a": [0.0, 1.0, 2.0]} and rec["statmech_attn_version"]
    assert (out / "config_inner_matrix.npz").is_file()  # large arrays of the config travel as NPZ
    again = load_config(out / "config.toml", _Outer)
    assert np.array_equal(again.inner.matrix, np.eye(100))
    with pytest.raises(io.NonFiniteError):
        io.atomic_write_json(out / "nan.json", {"x": float("nan")})
    assert not (out / "nan.json").exists() and not list(out.glob(".*.tmp"))
    with pytest.raises(InputError, match="not empty"):
        io.prepare_run_dir(out)
    io.prepare_run_dir(out, force=True)
    assert not any(out.iterdir())
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "thesis.tex").write_text("keep me")
    with pytest.raises(InputError, match="not a statmech_attn run directory"):
        io.prepare_run_dir(stranger, force=True)
    assert (stranger / "thesis.tex").exists()


