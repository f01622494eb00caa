"""The execution layer for grids: serial vs dask, worker faults, interrupt/resume, changed config.

Reference numbers come from elsewhere than the code under test: the toy task's fixed point is
checked against SciPy's bracketing root finder, the serial path is the reference for the dask
paths (a different execution of the same pure task), and an uninterrupted run is the reference for
an interrupted + resumed one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq

from statmech_attn import InputError
from statmech_attn.compute import (ComputeConfig, Grid, Scheduler, local_cluster, parse_scheduler, point_key,
                                   resolve_scheduler, run_grid)
from statmech_attn.config import build

from .toy import environment_task, fixed_point_task

ALPHAS = tuple(round(0.15 * i, 2) for i in range(1, 17))  # 16 values in (0, pi]: unique root
IDENTITY = {"model": {"temperature": 0.01, "widths": [100, 100]}, "solver": {"tol": 1e-12}}


def grid(alphas=ALPHAS, seeds=(0, 1), chunk=4) -> Grid:
    return Grid.of(along="alpha", chunk=chunk, alpha=alphas, seed=seeds)


def same_points(a, b) -> None:
    """Bitwise equality of two GridResults' point records and arrays."""
    assert [p.key for p in a.points] == [p.key for p in b.points]
    for p, q in zip(a.points, b.points):
        assert p.record == q.record, p.key
        assert p.ok == q.ok and p.seed == q.seed
        assert set(p.arrays) == set(q.arrays)
        for k in p.arrays:
            np.testing.assert_array_equal(p.arrays[k], q.arrays[k])


def no_partial_files(run_dir: Path) -> None:
    leftovers = [f for f in os.listdir(run_dir / "points") if f.startswith(".") or f.endswith(".tmp")]
    assert leftovers == []


@pytest.fixture(scope="module")
def serial_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return run_grid(fixed_point_task, {}, grid(), out=out, identity=IDENTITY)


@pytest.fixture(scope="module")
def cluster():
    """One two-worker LocalCluster (processes, one thread each) shared by the tcp:// tests."""
    c = local_cluster(2)
    yield c
    c.close()


# ------------------------------------------------------------------------------------------
# grid layout, scheduler parsing


def test_grid_points_chunks_and_keys():
    g = Grid.of(along="alpha", chunk=2, alpha=[0.5, 1.0, 1.5], seed=[0, 7])
    assert g.points()[:3] == [{"alpha": 0.5, "seed": 0}, {"alpha": 0.5, "seed": 7}, {"alpha": 1.0, "seed": 0}]
    # chunks: neighbouring alphas, the other coordinates fixed, boundaries at every 2nd alpha
    assert [[(p["alpha"], p["seed"]) for p in c] for c in g.chunks()] == [
        [(0.5, 0), (1.0, 0)], [(1.5, 0)], [(0.5, 7), (1.0, 7)], [(1.5, 7)]]
    assert point_key({"alpha": 0.1, "seed": 3}) == "alpha=0.1_seed=3"
    assert point_key({"alpha": 0.1 + 0.2}) != point_key({"alpha": 0.3})  # round-trip float text
    assert point_key({"arch": "a/b c"}) != point_key({"arch": "a-b-c"})
    with pytest.raises(InputError, match="alpha"):
        Grid.of(along="alpha", alpha=[1.0, 1.0])
    with pytest.raises(InputError, match="grid.along"):
        Grid.of(along="beta", alpha=[1.0])


def test_scheduler_parsing_and_compute_table():
    assert parse_scheduler("serial") == Scheduler("serial")
    assert parse_scheduler("local:3") == Scheduler("local", workers=3)
    assert parse_scheduler("tcp://node12:8786") == Scheduler("address", address="tcp://node12:8786")
    for bad in ("local:0", "locale", "tcp://host", "mpi"):
        with pytest.raises(InputError) as e:
            parse_scheduler(bad)
        assert e.value.param == "compute.scheduler"
    cfg = build(ComputeConfig, {"scheduler": "local", "workers": 2, "chunk": 5}, name="compute")
    assert resolve_scheduler(cfg) == Scheduler("local", workers=2)
    assert resolve_scheduler(cfg, "serial") == Scheduler("serial")  # --scheduler wins
    with pytest.raises(InputError) as e:
        build(ComputeConfig, {"scheduler": "locl"}, name="compute")
    assert e.value.param == "compute.scheduler"
    with pytest.raises(InputError) as e:
        resolve_scheduler(cfg, "banana")
    assert e.value.param == "--scheduler"


# ------------------------------------------------------------------------------------------
# serial path


def test_serial_values_files_and_no_dask(serial_reference, tmp_path):
    r = serial_reference
    assert r.ok and r.tasks_run == 2 * 4 and r.computed == 32 and len(r.points) == 32
    for p in r.points:  # the fixed point x = cos(alpha x), against SciPy's bracketing root finder
        a = p.point["alpha"]
        x_ref = brentq(lambda x: x - np.cos(a * x), 0.0, 1.0, xtol=1e-15)
        assert abs(p.record["x"] - x_ref) < 1e-13
        assert p.arrays["noise"].shape == (3,)
    # serial path must not import dask
    code = ("import sys; from statmech_attn.compute import run_grid, Grid; "
            "from tests.compute.toy import fixed_point_task; "
            "r = run_grid(fixed_point_task, {}, Grid.of(along='alpha', alpha=[0.5, 1.0])); "
            "assert r.ok; assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)


def test_point_files_on_disk(tmp_path):
    r = run_grid(fixed_point_task, {}, grid(alphas=ALPHAS[:3], seeds=(5,)), out=tmp_path, identity=IDENTITY)
    pdir = tmp_path / "points"
    for p in r.points:
        doc = json.loads((pdir / f"{p.key}.json").read_text())
        assert doc["point"] == p.point and doc["seed"] == 5 and doc["ok"] is True
        with np.load(pdir / f"{p.key}.npz") as z:
            np.testing.assert_array_equal(z["noise"], p.arrays["noise"])
    g = json.loads((pdir / "_grid.json").read_text())
    assert g["config"] == IDENTITY and g["axes"]["alpha"] == list(ALPHAS[:3])
    no_partial_files(tmp_path)


def test_failed_points_are_recorded_and_the_grid_goes_on(tmp_path):
    ctx = {"fail_alpha": ALPHAS[2], "raise_at": ALPHAS[9]}
    r = run_grid(fixed_point_task, ctx, grid(seeds=(0,)), out=tmp_path)
    by_alpha = {p.point["alpha"]: p for p in r.points}
    assert not r.ok and len(r.points) == 16
    assert by_alpha[ALPHAS[2]].record["result"] == "max_steps" and not by_alpha[ALPHAS[2]].ok
    # the raising task (chunk alphas[8:12]) is recorded as an error, its neighbours are fine
    for a in ALPHAS[8:12]:
        assert by_alpha[a].record["result"] == "error" and "injected failure" in by_alpha[a].error
    assert all(by_alpha[a].ok for a in ALPHAS if a not in (ALPHAS[2],) + ALPHAS[8:12])
    assert r.n_failed == 5
    # a resume retries only the tasks that raised (the solver failure is a result, kept)
    r2 = run_grid(fixed_point_task, {"fail_alpha": ALPHAS[2]}, grid(seeds=(0,)), out=tmp_path, resume=True)
    assert r2.computed == 4 and r2.n_failed == 1


# ------------------------------------------------------------------------------------------
# interrupt, resume, extend, refuse a changed config


def test_interrupt_then_resume_computes_only_the_rest(serial_reference, tmp_path):
    counter = tmp_path / "count"
    counter.mkdir()
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_grid(fixed_point_task, {"counter_dir": str(counter), "interrupt_after": 3}, grid(), out=out,
                 identity=IDENTITY)
    no_partial_files(out)
    written = [f for f in os.listdir(out / "points") if f.endswith(".json") and f != "_grid.json"]
    assert len(written) == 3 * 4  # three finished tasks of four points
    n_before = len(os.listdir(counter))  # 3 finished + the interrupted one
    r = run_grid(fixed_point_task, {"counter_dir": str(counter)}, grid(), out=out, resume=True, identity=IDENTITY)
    assert r.tasks_run == 8 - 3 and len(os.listdir(counter)) - n_before == 5
    same_points(r, serial_reference)
    # resuming a complete grid runs nothing
    r = run_grid(fixed_point_task, {"counter_dir": str(counter)}, grid(), out=out, resume=True, identity=IDENTITY)
    assert r.tasks_run == 0 and r.computed == 0
    same_points(r, serial_reference)


def test_resume_extends_the_grid(serial_reference, tmp_path):
    run_grid(fixed_point_task, {}, grid(seeds=(0,)), out=tmp_path, identity=IDENTITY)
    r = run_grid(fixed_point_task, {}, grid(seeds=(0, 1)), out=tmp_path, resume=True, identity=IDENTITY)
    assert r.computed == 16 and r.tasks_run == 4  # only the new seed's four chunks
    same_points(r, serial_reference)
    more = ALPHAS + (2.5, 2.6)
    r = run_grid(fixed_point_task, {}, grid(alphas=more), out=tmp_path, resume=True, identity=IDENTITY)
    assert r.computed == 4 and len(r.points) == 36
    for p in r.points:  # the new points are right too
        a = p.point["alpha"]
        assert abs(p.record["x"] - brentq(lambda x: x - np.cos(a * x), 0.0, 1.0, xtol=1e-15)) < 1e-13


def test_changed_non_grid_config_is_refused(tmp_path):
    run_grid(fixed_point_task, {}, grid(seeds=(0,)), out=tmp_path, identity=IDENTITY)
    changed = {"model": {"temperature": 0.02, "widths": [100, 100]}, "solver": {"tol": 1e-12}}
    with pytest.raises(InputError) as e:
        run_grid(fixed_point_task, {}, grid(seeds=(0,)), out=tmp_path, resume=True, identity=changed)
    assert e.value.param == "model.temperature" and "0.01" in str(e.value)
    with pytest.raises(InputError) as e:  # not resuming: existing points are never overwritten silently
        run_grid(fixed_point_task, {}, grid(seeds=(0,)), out=tmp_path, identity=IDENTITY)
    assert e.value.param == "--out"


def test_cli_resume_with_changed_config_exits_2(tmp_path):
    """Through the shared CLI machinery (execute): exit 2 and one line naming the changed key."""
    from typer.testing import CliRunner

    from .cli_toy import app

    cfg = tmp_path / "c.toml"
    out = tmp_path / "run"
    cfg.write_text("seed = 0\nalphas = [0.3, 0.6, 0.9]\n[model]\ntemperature = 0.01\n")
    runner = CliRunner()
    r = runner.invoke(app, [str(cfg), "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "result.json").read_text())["result"]
    assert [round(x, 12) for x in res["alpha"]] == [0.3, 0.6, 0.9]
    cfg.write_text("seed = 0\nalphas = [0.3, 0.6, 0.9, 1.2]\n[model]\ntemperature = 0.01\n")
    r = runner.invoke(app, [str(cfg), "--out", str(out), "--resume"])
    assert r.exit_code == 0, r.output
    assert json.loads((out / "result.json").read_text())["result"]["tasks_run"] == 1
    r = runner.invoke(app, [str(cfg), "--out", str(out), "--resume", "--set", "model.temperature=0.5"])
    assert r.exit_code == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "model.temperature" in lines[0] and "Traceback" not in r.output


# ------------------------------------------------------------------------------------------
# dask: LocalCluster(2) vs serial, a killed worker


def test_local_cluster_equals_serial_bitwise(serial_reference, tmp_path):
    r = run_grid(fixed_point_task, {}, grid(), out=tmp_path, identity=IDENTITY, scheduler="local:2")
    assert r.scheduler == "local:2" and r.tasks_run == 8
    same_points(r, serial_reference)
    no_partial_files(tmp_path)


def test_workers_run_xla_on_one_thread(cluster):
    r = run_grid(environment_task, {}, Grid.of(i=list(range(6))), scheduler=cluster.scheduler_address)
    assert all("--xla_cpu_multi_thread_eigen=false" in f and "intra_op_parallelism_threads=1" in f
               for f in r.column("xla_flags"))
    assert set(r.column("omp")) == {"1"}
    assert set(r.column("malloc_trim")) == {""}  # glibc's own heap trimming, not dask's 64 KiB threshold
    assert len(set(r.column("pid"))) >= 1 and os.getpid() not in r.column("pid")


def test_killed_worker_grid_completes_equal_to_serial(serial_reference, cluster, tmp_path):
    marker = tmp_path / "killed-once"
    r = run_grid(fixed_point_task, {"kill_marker": str(marker)}, grid(), out=tmp_path / "run",
                 identity=IDENTITY, scheduler=cluster.scheduler_address)
    assert marker.exists()  # a worker process really died mid-task
    assert r.ok and len(r.points) == 32
    same_points(r, serial_reference)
    no_partial_files(tmp_path / "run")


def test_unreachable_scheduler_is_an_input_error(monkeypatch):
    import statmech_attn.compute as compute

    from statmech_attn.compute import _schedulers

    monkeypatch.setattr(_schedulers, "CONNECT_TIMEOUT_S", 1.0)
    with pytest.raises(InputError) as e:
        run_grid(fixed_point_task, {}, grid(seeds=(0,)), scheduler="tcp://127.0.0.1:9")
    assert e.value.param == "--scheduler"


def test_ctrl_c_on_local_cluster_leaves_complete_files_and_no_workers(tmp_path):
    """SIGINT to the whole process group (a terminal's Ctrl-C) while two workers compute."""
    import signal
    import time

    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen([sys.executable, "-m", "tests.compute.interrupt_script", str(out)], env=env,
                            cwd=Path(__file__).resolve().parents[2], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 90
    while time.time() < deadline and len(list((out / "points").glob("alpha=*.json"))) < 3:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert "Traceback" not in err.decode()
    no_partial_files(out)
    done = list((out / "points").glob("alpha=*.json"))
    assert 3 <= len(done) < 60
    for f in done:  # every file that exists is complete
        assert json.loads(f.read_text())["ok"] is True
    left = _group_members(proc.pid, wait_s=15.0)
    if left:  # clean up what this test started before failing
        os.killpg(proc.pid, signal.SIGKILL)
    assert left == [], left  # no worker process of the group is left behind


def _group_members(pgid: int, wait_s: float) -> list[str]:
    """Command lines of live processes in process group ``pgid``, waiting up to ``wait_s`` for none."""
    import time

    deadline = time.time() + wait_s
    while True:
        left = []
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                stat = (d / "stat").read_text()
                fields = stat[stat.rindex(")") + 2:].split()
                if int(fields[2]) == pgid and fields[0] != "Z":
                    left.append((d / "cmdline").read_text().replace("\0", " ")[:120])
            except (OSError, ValueError):
                continue
        if not left or time.time() > deadline:
            return left
        time.sleep(0.2)
