"""The edge (issue 18): every bad input, bad path and interrupted run ends in one clear line.

Each case is tried as a new user would and must give: its exit code, exactly one stderr line that
names the parameter (or ``--out``, or the file), no traceback, no file holding a non-finite number,
and no partial run folder.  The command line runs in-process (CliRunner) except where a real second
process is the point (two concurrent runs on one ``--out``).
"""

from __future__ import annotations

import io as _io
import json
import math
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from statmech_attn import InputError
from statmech_attn.cli import app

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"
runner = CliRunner()

ENERGY = "seed = 0\n[energy]\ntokens = [[1.0, 0.0], [-1.0, 0.5]]\nlayers = 2\n"
OVERSMOOTHING = "seed = 0\n[oversmoothing]\ndepth = 4\n"
FACTORS = "seed = 0\n[factors]\nn_factors = 4\nn_epochs = 1\n[factors.network]\nlayers = 2\ntokens = 8\ndim = 4\n"


# ------------------------------------------------------------------------------------------
# helpers


def _npz_bytes(**arrays) -> bytes:
    buf = _io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _huge_header_npz(path: Path, name: str) -> None:
    """An NPZ whose member header declares a 10^6 × 10^6 float64 array (8 TB) but holds 16 bytes."""
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
    buf = _io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}.npy", buf.getvalue() + b"\0" * 16)


def _pickle_npz(path: Path, name: str, marker: Path) -> None:
    """An NPZ whose member is a pickled object that would create ``marker`` if it were unpickled."""

    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    arr = np.empty(1, dtype=object)
    arr[0] = Boom()
    buf = _io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}.npy", buf.getvalue())


def _nonfinite_files(root: Path) -> list[str]:
    """Files under ``root`` holding NaN/inf (JSON tokens, or entries of NPZ arrays)."""
    bad = []
    for f in root.rglob("*"):
        if not f.is_file() or f.is_symlink():
            continue
        if f.suffix == ".json":
            text = f.read_text(errors="replace")
            if any(t in text for t in ("NaN", "Infinity")):
                bad.append(str(f))
        elif f.suffix == ".npz":
            try:
                with np.load(f, allow_pickle=False) as z:
                    for k in z.files:
                        a = z[k]
                        if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
                            bad.append(f"{f}:{k}")
            except Exception:  # noqa: BLE001 - crafted inputs of the tests themselves
                continue
    return bad


def check_refusal(r, code: int, name: str, *, tmp: Path, out: Path | None = None) -> str:
    """Exit ``code``, one stderr line naming ``name``, no traceback, nothing non-finite, no partial run."""
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.exit_code == code, (r.exit_code, r.stderr[-2000:], r.stdout[-500:])
    assert len(lines) == 1, r.stderr[-2000:]
    assert name in lines[0], lines[0]
    assert "Traceback" not in r.stderr + r.stdout
    assert _nonfinite_files(tmp) == []
    if out is not None and out.is_dir() and not out.is_symlink():
        assert [p.name for p in out.iterdir()] == [], list(out.iterdir())
    return lines[0]


def cli(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env=env)


@pytest.fixture()
def cfgs(tmp_path):
    d = tmp_path / "cfg"
    d.mkdir()
    for name, text in (("energy", ENERGY), ("os", OVERSMOOTHING), ("factors", FACTORS)):
        (d / f"{name}.toml").write_text(text)
    return d


# ------------------------------------------------------------------------------------------
# the corpus: (id, build(tmp, cfgs) -> (argv, out or None), exit code, name in the line)


def then(argv: list, *_effects) -> list:
    """``argv``, after the side effects (files made for the case) given as further arguments."""
    return argv


def _out(tmp: Path) -> Path:
    return tmp / "run"


def _with_npz(tmp: Path, toml: str, arrays: dict | None = None, *, writer=None) -> str:
    npz = tmp / "data.npz"
    if writer is not None:
        writer(npz)
    else:
        npz.write_bytes(_npz_bytes(**arrays))
    cfg = tmp / "npz.toml"
    cfg.write_text(toml)
    return str(cfg)


CASES = [
    # --out paths the OS refuses
    ("out-name-too-long", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--out", str(t / ("x" * 300))], None), 2, "--out"),
    ("out-under-a-file", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--out", str(c / "energy.toml" / "run")], None), 2, "--out"),
    ("out-dangling-symlink", lambda t, c: (then(["energy", "analyse", str(c / "energy.toml"), "--out", str(t / "dangling")],
                                                os.symlink(t / "nowhere" / "x", t / "dangling")), None), 2, "--out"),
    ("out-under-proc", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--out", "/proc/statmech_attn_run"], None), 2, "--out"),
    ("out-not-empty", lambda t, c: (then(["energy", "analyse", str(c / "energy.toml"), "--out", str(t / "full")],
                                         (t / "full").mkdir(), (t / "full" / "mine.txt").write_text("x")), None), 2, "--out"),
    # sizes that cannot fit: refused from the spec's estimate, before anything is allocated
    ("energy-layers-huge", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set", "energy.layers=10000000000",
                                          "--out", str(_out(t))], _out(t)), 2, "energy.layers"),
    ("integer-27-digits", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set",
                                         "energy.layers=123456789012345678901234567"], None), 2, "energy.layers"),
    ("integer-as-huge-float", lambda t, c: (["oversmoothing", "analyse", str(c / "os.toml"), "--set",
                                             "oversmoothing.depth=1e300"], None), 2, "oversmoothing.depth"),
    ("oversmoothing-depth-huge", lambda t, c: (["oversmoothing", "analyse", str(c / "os.toml"), "--set",
                                                "oversmoothing.depth=100000000000", "--out", str(_out(t))], _out(t)), 2, "oversmoothing.depth"),
    ("factors-tokens-huge", lambda t, c: (["factors", "fit", str(c / "factors.toml"), "--set",
                                           "factors.network.tokens=100000000"], None), 2, "factors.network.tokens"),
    ("factors-dim-huge", lambda t, c: (["factors", "fit", str(c / "factors.toml"), "--set",
                                        "factors.network.dim=10000000000"], None), 2, "factors.network.dim"),
    ("paths-n-train-huge", lambda t, c: (["paths", "solve", str(EX / "paths_small.toml"), "--set",
                                          "data.hmm.n_train=10000000"], None), 2, "data.hmm.n_train"),
    ("paths-n-features-huge", lambda t, c: (["paths", "solve", str(EX / "paths_small.toml"), "--set",
                                             "data.hmm.n_features=100000000000"], None), 2, "data.hmm.n_features"),
    ("potts-n-samples-huge", lambda t, c: (["potts", "sample", str(EX / "potts_sample.toml"), "--set",
                                            "sampler.n_samples=1000000000000"], None), 2, "sampler.n_samples"),
    ("potts-chains-huge", lambda t, c: (["potts", "sample", str(EX / "potts_sample.toml"), "--set",
                                         "sampler.chains=1000000000000"], None), 2, "sampler.chains"),
    ("oversmoothing-train-sequences-huge", lambda t, c: (["oversmoothing", "train", str(EX / "oversmoothing_train.toml"), "--set",
                                                          "train.sequences=100000000000"], None), 2, "train.sequences"),
    ("paths-validate-widths-huge", lambda t, c: (["paths", "validate", str(EX / "paths_validate.toml"), "--set",
                                                  "validate.widths=[100000000000]"], None), 2, "validate.widths"),
    ("potts-validate-sizes-huge", lambda t, c: (["potts", "validate", str(EX / "potts_replica_validate.toml"), "--set",
                                                 "validate.sizes=[10000000000]"], None), 2, "validate.sizes"),
    ("paths-sweep-n-alphas-huge", lambda t, c: (["paths", "sweep", str(EX / "paths_small.toml"), "--set", "sweep.alphas=[]",
                                                 "--set", "sweep.n_alphas=1000000000"], None), 2, "sweep.n_alphas"),
    ("potts-replica-n-alphas-huge", lambda t, c: (["potts", "replica", str(EX / "potts_replica.toml"), "--set",
                                                   "replica.n_alphas=1000000000", "--set", "replica.alpha_min=0.1", "--set",
                                                   "replica.alpha_max=1.0"], None), 2, "replica.n_alphas"),
    ("scheduler-too-many-workers", lambda t, c: (["paths", "sweep", str(EX / "paths_small.toml"), "--scheduler",
                                                  "local:100000"], None), 2, "--scheduler"),
    ("memory-limit-env", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set", "energy.layers=100000"],
                                       None), 2, "energy.layers"),
    ("memory-limit-env-bad", lambda t, c: (["energy", "analyse", str(c / "energy.toml")], None), 2, "STATMECH_ATTN_MAX_MEMORY"),
    ("npz-header-declares-terabytes", lambda t, c: (["energy", "analyse", _with_npz(
        t, '[energy]\ntokens_npz = "data.npz"\n', writer=lambda p: _huge_header_npz(p, "tokens"))], None), 2, "energy.tokens_npz"),
    ("npz-pickled-object", lambda t, c: (["energy", "analyse", _with_npz(
        t, '[energy]\ntokens_npz = "data.npz"\n', writer=lambda p: _pickle_npz(p, "tokens", t / "MARKER"))], None), 2, "'tokens'"),
    ("npz-not-a-zip", lambda t, c: (["energy", "analyse", _with_npz(
        t, '[energy]\ntokens_npz = "data.npz"\n', writer=lambda p: p.write_text("hello"))], None), 2, "energy.tokens_npz"),
    ("npz-fifo", lambda t, c: (["energy", "analyse", _with_npz(
        t, '[energy]\ntokens_npz = "data.npz"\n', writer=lambda p: os.mkfifo(p))], None), 2, "energy.tokens_npz"),
    # configs that are not regular files of a sane size
    ("config-fifo", lambda t, c: (then(["energy", "analyse", str(t / "fifo.toml")], os.mkfifo(t / "fifo.toml")), None), 2, "config"),
    ("config-dev-zero", lambda t, c: (["energy", "analyse", "/dev/zero"], None), 2, "config"),
    ("config-directory", lambda t, c: (["energy", "analyse", str(t)], None), 2, "config"),
    ("config-missing", lambda t, c: (["energy", "analyse", str(t / "absent.toml")], None), 2, "config"),
    ("config-too-large", lambda t, c: (then(["energy", "analyse", str(t / "big.toml")],
                                            (t / "big.toml").write_bytes(b"# " + b"x" * (17 * 1024**2))), None), 2, "config"),
    ("config-not-utf8", lambda t, c: (then(["energy", "analyse", str(t / "bin.toml")], (t / "bin.toml").write_bytes(b"\xff\xfe\x00")), None), 2, "config"),
    # degenerate but well-typed inputs: refused up front with the reason
    ("energy-all-zero-tokens", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set",
                                              "energy.tokens=[[0.0, 0.0], [0.0, 0.0]]", "--out", str(_out(t))], _out(t)), 2, "energy.tokens"),
    ("energy-layer-norm-zero-variance", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set",
                                                       "energy.tokens=[[1.0, 1.0], [2.0, 2.0]]", "--set", "energy.layer_norm=true",
                                                       "--out", str(_out(t))], _out(t)), 2, "energy.tokens"),
    ("oversmoothing-all-zero-tokens", lambda t, c: (["oversmoothing", "analyse", str(c / "os.toml"), "--set",
                                                     "oversmoothing.tokens=[[0.0, 0.0], [0.0, 0.0]]", "--out", str(_out(t))], _out(t)), 2,
                                      "oversmoothing.tokens"),
    ("oversmoothing-ln-scale-1e-300", lambda t, c: (["oversmoothing", "analyse", str(c / "os.toml"), "--set",
                                                     'oversmoothing.pre_ln="linear"', "--set", "oversmoothing.ln_scale=1e-300",
                                                     "--out", str(_out(t))], _out(t)), 2, "oversmoothing.ln_scale"),
    ("oversmoothing-depth-overflows", lambda t, c: (["oversmoothing", "analyse", str(EX / "oversmoothing_sharpen.toml"), "--set",
                                                     "oversmoothing.depth=3000", "--out", str(_out(t))], _out(t)), 2, "oversmoothing.depth"),
    ("energy-beta-overflows-logits", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set", "energy.beta=1e308",
                                                    "--out", str(_out(t))], _out(t)), 2, "energy.beta"),
    ("energy-tokens-overflow", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set",
                                              "energy.tokens=[[1e300, 0.0], [-1e300, 1.0]]"], None), 2, "energy.tokens"),
    ("oversmoothing-zero-growth-of-the-mean", lambda t, c: (["oversmoothing", "analyse", str(c / "os.toml"), "--set",
                                                             "oversmoothing.value_projection=[[-1.0, 0.0], [0.0, -1.0]]", "--set",
                                                             "oversmoothing.attention=[[0.5, 0.5], [0.5, 0.5]]"], None), 2,
                                            "oversmoothing.value_projection"),
    # strict types at the edge
    ("seed-negative", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set", "seed=-1", "--set",
                                     'energy.weights="random"'], None), 2, "seed"),
    ("seed-fraction", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set", "seed=1.5"], None), 2, "seed"),
    ("boolean-as-number", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set", "energy.beta=true"], None), 2, "energy.beta"),
    ("boolean-in-matrix", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set",
                                         "energy.tokens=[[true, 0.0], [1.0, 2.0]]"], None), 2, "energy.tokens"),
    ("complex-array", lambda t, c: (["energy", "analyse", _with_npz(
        t, '[energy]\ntokens_npz = "data.npz"\n', {"tokens": np.array([[1 + 1j, 0.0], [2.0, 1.0]])})], None), 2, "energy.tokens"),
    ("token-ids-not-integer", lambda t, c: (["factors", "fit", str(c / "factors.toml"), "--set",
                                             "factors.token_ids=[0.5, 1, 2, 3, 4, 5, 6, 7]"], None), 2, "factors.token_ids"),
    ("token-ids-negative", lambda t, c: (["factors", "fit", str(c / "factors.toml"), "--set",
                                          "factors.token_ids=[-1, 1, 2, 3, 4, 5, 6, 7]"], None), 2, "factors.token_ids"),
    ("set-newline-smuggles-a-key", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set",
                                                  "energy.beta=1\nenergy.eta=2"], None), 2, "--set"),
    ("set-table-smuggled", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set",
                                          'energy.weights="identity"\n[other]\nx=1'], None), 2, "--set"),
    ("set-bad-key", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set", "energy. beta x=1"], None), 2, "--set"),
    ("unknown-key", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--set", "energy.temperature=1"], None), 2,
     "energy.temperature"),
    # the command line itself
    ("unknown-option", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--outt", "x"], None), 2, "--outt"),
    ("missing-argument", lambda t, c: (["energy", "analyse"], None), 2, "config"),
    ("resume-on-a-non-grid-verb", lambda t, c: (["energy", "analyse", str(c / "energy.toml"), "--resume"], None), 2, "--resume"),
    ("alphas-not-numbers", lambda t, c: (["paths", "sweep", str(EX / "paths_small.toml"), "--alphas", "a,b"], None), 2, "--alphas"),
    ("plot-not-a-run", lambda t, c: (["energy", "plot", str(t)], None), 2, "run_dir"),
    ("plot-damaged-result", lambda t, c: (then(["energy", "plot", str(t / "r")], (t / "r").mkdir(),
                                               (t / "r" / "result.json").write_text("[1, 2]")), None), 2, "run_dir"),
    ("plot-pickled-arrays", lambda t, c: (then(["energy", "plot", str(t / "r")], (t / "r").mkdir(),
                                               (t / "r" / "result.json").write_text('{"theory": "energy", "verb": "analyse", "result": {}}'),
                                               _pickle_npz(t / "r" / "arrays.npz", "norms_in", t / "MARKER")), None), 2, "'norms_in'"),
    ("plot-unknown-style", lambda t, c: (["energy", "plot", str(t), "--style", "neon"], None), 2, "style"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_refused_with_one_line(case, tmp_path, cfgs, monkeypatch):
    name, build, code, param = case
    monkeypatch.chdir(tmp_path)
    env = None
    if name == "memory-limit-env":
        env = {"STATMECH_ATTN_MAX_MEMORY": "1M"}
    elif name == "memory-limit-env-bad":
        env = {"STATMECH_ATTN_MAX_MEMORY": "lots"}
    argv, out = build(tmp_path, cfgs)
    r = cli(*argv, env=env)
    line = check_refusal(r, code, param, tmp=tmp_path, out=out)
    assert line.startswith("error: ")
    assert len(line) <= 420
    assert not (tmp_path / "MARKER").exists()  # no pickle was ever loaded


# ------------------------------------------------------------------------------------------
# internal errors: one line and where the traceback is; --debug shows it


def test_internal_error_is_one_line_with_a_traceback_file(tmp_path, cfgs, monkeypatch):
    from statmech_attn._verb import Verb
    from statmech_attn.energy import verbs

    def broken(cfg):
        raise ZeroDivisionError("a bug, not the user's input")

    monkeypatch.setitem(verbs.VERBS, "analyse", Verb(verbs.EnergySpec, broken))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "run"
    r = cli("energy", "analyse", str(cfgs / "energy.toml"), "--out", str(out))
    line = check_refusal(r, 3, "internal error", tmp=tmp_path, out=out)
    path = Path(line.split("full traceback in ", 1)[1].split(";", 1)[0])
    assert path.is_file() and path.is_relative_to(tmp_path / "cache")
    assert "ZeroDivisionError" in path.read_text() and "Traceback" in path.read_text()
    r = cli("--debug", "energy", "analyse", str(cfgs / "energy.toml"))
    assert r.exit_code == 3 and "Traceback" in r.stderr and "ZeroDivisionError" in r.stderr


def test_solver_that_does_not_converge_stays_exit_1(tmp_path, cfgs, monkeypatch):
    from statmech_attn._solution import SolverError
    from statmech_attn.energy import verbs

    class Sol:
        result, residual, iterations = "max_steps", 1.0, 3

    def stuck(cfg):
        raise SolverError(Sol(), "the solver stopped at max_steps (residual 1)")

    from statmech_attn._verb import Verb

    monkeypatch.setitem(verbs.VERBS, "analyse", Verb(verbs.EnergySpec, stuck))
    out = tmp_path / "run"
    r = cli("energy", "analyse", str(cfgs / "energy.toml"), "--out", str(out))
    check_refusal(r, 1, "max_steps", tmp=tmp_path, out=out)


# ------------------------------------------------------------------------------------------
# run folders: the lock, concurrent runs, the umask, a fresh folder left clean


def test_a_held_lock_refuses_a_second_run_naming_it(tmp_path, cfgs):
    from statmech_attn.io import LOCK_FILE, RunDirLock

    out = tmp_path / "run"
    lock = RunDirLock(out)
    try:
        r = cli("energy", "analyse", str(cfgs / "energy.toml"), "--out", str(out))
        line = check_refusal(r, 2, "--out", tmp=tmp_path)
        assert LOCK_FILE in line and "in use" in line
    finally:
        lock.release()
    r = cli("energy", "analyse", str(cfgs / "energy.toml"), "--out", str(out))
    assert r.exit_code == 0, r.output
    assert not (out / LOCK_FILE).exists() and (out / "result.json").is_file()


def test_two_concurrent_runs_on_one_out_one_success_one_refusal(tmp_path, cfgs):
    out = tmp_path / "run"
    cmd = [sys.executable, "-c", "from statmech_attn.cli import app; app()",
           "oversmoothing", "analyse", str(cfgs / "os.toml"), "--out", str(out), "--set", "oversmoothing.depth=400"]
    env = dict(os.environ, STATMECH_ATTN_CACHE="0")
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    codes = sorted(c for c, _ in results)
    assert codes == [0, 2], results
    err = next(e for c, e in results if c == 2)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--out" in lines[0] and ("in use" in lines[0] or "not empty" in lines[0]), err
    assert json.loads((out / "result.json").read_text())["verb"] == "analyse"


def test_files_get_the_users_umask(tmp_path, cfgs):
    out = tmp_path / "run"
    old = os.umask(0o022)
    try:
        r = cli("energy", "analyse", str(cfgs / "energy.toml"), "--out", str(out))
    finally:
        os.umask(old)
    assert r.exit_code == 0, r.output
    for f in ("result.json", "config.toml", "arrays.npz", "norms.png"):
        assert stat.S_IMODE((out / f).stat().st_mode) == 0o644, f


def test_a_failed_run_in_an_existing_empty_folder_leaves_it_empty(tmp_path, cfgs):
    out = tmp_path / "mine"
    out.mkdir()
    r = cli("energy", "analyse", str(cfgs / "energy.toml"), "--out", str(out), "--set", "energy.tokens=[[0.0, 0.0]]")
    check_refusal(r, 2, "energy.tokens", tmp=tmp_path, out=out)
    assert out.is_dir()  # the user's folder stays, empty


# ------------------------------------------------------------------------------------------
# grids: damaged files, an unreachable scheduler, byte-identical resumed point files


TOY = "alphas = [0.3, 0.6, 0.9, 1.2]\n[compute]\nchunk = 2\n"


def _toy_app():
    sys.path.insert(0, str(ROOT))
    from tests.compute.cli_toy import app as toy

    return toy


def test_damaged_point_file_is_recomputed_with_a_warning(tmp_path):
    toy = _toy_app()
    cfg = tmp_path / "toy.toml"
    cfg.write_text(TOY)
    out = tmp_path / "run"
    assert runner.invoke(toy, [str(cfg), "--out", str(out)]).exit_code == 0
    ref = {f.name: f.read_bytes() for f in (out / "points").glob("alpha=*")}
    (out / "points" / "alpha=0.6.json").write_text('{"point": ')  # truncated
    (out / "points" / "alpha=0.9.json").write_text("[1, 2]")  # valid JSON, not a point
    (out / "points" / "alpha=1.2.npz").write_bytes(b"garbage")
    r = runner.invoke(toy, [str(cfg), "--out", str(out), "--resume"])
    assert r.exit_code == 0, r.output
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 3 and all("recomputed" in w for w in warnings), r.stderr
    assert "Traceback" not in r.stderr
    assert {f.name: f.read_bytes() for f in (out / "points").glob("alpha=*")} == ref  # byte-identical


@pytest.mark.parametrize("damage", ["[]", "{not json", '{"hash": 3}'])
def test_damaged_grid_file_is_refused_naming_it(tmp_path, damage):
    toy = _toy_app()
    cfg = tmp_path / "toy.toml"
    cfg.write_text(TOY)
    out = tmp_path / "run"
    assert runner.invoke(toy, [str(cfg), "--out", str(out)]).exit_code == 0
    (out / "points" / "_grid.json").write_text(damage)
    r = runner.invoke(toy, [str(cfg), "--out", str(out), "--resume"])
    line = check_refusal(r, 2, "_grid.json", tmp=tmp_path)
    assert "damaged" in line or "not a readable" in line


def test_unreachable_scheduler_writes_nothing(tmp_path, monkeypatch):
    from statmech_attn.compute import _schedulers

    monkeypatch.setattr(_schedulers, "CONNECT_TIMEOUT_S", 1.0)
    toy = _toy_app()
    cfg = tmp_path / "toy.toml"
    cfg.write_text(TOY)
    out = tmp_path / "run"
    r = runner.invoke(toy, [str(cfg), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9"])
    check_refusal(r, 2, "--scheduler", tmp=tmp_path, out=out)
    assert not out.exists()
    r = runner.invoke(toy, [str(cfg), "--out", str(out)])  # the plain rerun works
    assert r.exit_code == 0, r.output


def test_interrupted_and_resumed_point_files_are_byte_identical(tmp_path):
    sys.path.insert(0, str(ROOT))
    from statmech_attn.compute import Grid, run_grid
    from tests.compute.toy import fixed_point_task

    grid = Grid.of(along="alpha", chunk=2, alpha=(0.2, 0.4, 0.6, 0.8, 1.0, 1.2), seed=(0, 1))
    full = tmp_path / "full"
    run_grid(fixed_point_task, {}, grid, out=full)
    part = tmp_path / "part"
    counter = tmp_path / "count"
    counter.mkdir()
    with pytest.raises(KeyboardInterrupt):
        run_grid(fixed_point_task, {"counter_dir": str(counter), "interrupt_after": 2}, grid, out=part)
    run_grid(fixed_point_task, {}, grid, out=part, resume=True)
    names = sorted(f.name for f in (full / "points").iterdir() if f.is_file())
    assert names == sorted(f.name for f in (part / "points").iterdir() if f.is_file())
    for n in names:
        assert (full / "points" / n).read_bytes() == (part / "points" / n).read_bytes(), n


def test_a_grid_of_absurd_size_is_refused_naming_its_axis():
    from statmech_attn.compute import Grid

    with pytest.raises(InputError) as e:
        Grid.of(alpha=range(2000), seed=range(1000))
    assert e.value.param == "alpha" and "points" in str(e.value)


def test_timing_is_kept_out_of_the_point_file(tmp_path):
    from statmech_attn.compute import Grid, PointOutput, run_grid

    r = run_grid(_timed_task, {}, Grid.of(alpha=(1.0,)), out=tmp_path)
    doc = json.loads((tmp_path / "points" / "alpha=1.0.json").read_text())
    assert "wall_time_s" not in doc["record"] and doc["record"]["x"] == 1.0
    assert r.points[0].record["wall_time_s"] == 0.5  # still in the record read back (result.json keys unchanged)
    assert PointOutput  # the task's type


def _timed_task(ctx, points, seed):
    from statmech_attn.compute import PointOutput

    return [PointOutput({"x": 1.0, "wall_time_s": 0.5, "result": "converged"}) for _ in points]


# ------------------------------------------------------------------------------------------
# the Python API: the same rules, InputError naming the argument


def _api_cases():
    from statmech_attn import energy, oversmoothing

    th, k = np.array([1.0, 0.0]), np.array([[1.0, 0.0], [0.0, 1.0]])
    return [
        ("beta", lambda: energy.log_partition(th, k, beta=float("nan"))),
        ("beta", lambda: energy.probabilities(th, k, beta=True)),
        ("eta", lambda: energy.ascent_step(th, k, eta=-1)),
        ("eta", lambda: energy.ascent_gain(th, k, eta=float("inf"))),
        ("keys", lambda: energy.log_partition(np.ones(3), k)),
        ("theta", lambda: energy.mean_parameter(th + 1j, k)),
        ("theta", lambda: energy.fisher("abc", k)),
        ("positive", lambda: energy.infonce(th, k, positive=5)),
        ("positive", lambda: energy.exponential_family_nll(th, k, positive=True)),
        ("tokens", lambda: energy.stack_diagnostic(np.zeros((2, 3)), energy.identity_weights(1, 2))),
        ("layers", lambda: energy.identity_weights(10**13, 4)),
        ("w_query", lambda: energy.Weights([[[1j]]], [[[1.0]]], [[[1.0]]])),
        ("x", lambda: energy.layer_norm("abc")),
        ("attention", lambda: oversmoothing.spectrum("abc", np.eye(2))),
        ("value_projection", lambda: oversmoothing.spectrum(np.eye(2), np.eye(2) * 1j)),
        ("value_projection", lambda: oversmoothing.spectrum(np.eye(2), [[True, False], [False, True]])),
        ("tol", lambda: oversmoothing.spectrum(np.eye(2), np.eye(2), tol=float("nan"))),
        ("depth", lambda: oversmoothing.StackSpec(np.eye(2), np.eye(2), 10**13)),
        ("ln_scale", lambda: oversmoothing.StackSpec(np.eye(2), np.eye(2), 3, "linear", (1.0,), -1.0)),
        ("n", lambda: oversmoothing.random_tokens(True, 2, 0)),
    ]


@pytest.mark.parametrize("i", range(20))
def test_python_api_validates_like_the_spec(i):
    param, call = _api_cases()[i]
    with pytest.raises(InputError) as e:
        call()
    assert e.value.param == param, str(e.value)
    assert "\n" not in str(e.value)


def test_python_api_still_traces_under_jit_and_grad():
    import jax

    from statmech_attn import energy

    th, k = np.array([0.3, -0.2]), np.array([[1.0, 0.0], [0.0, 1.0]])
    v = energy.log_partition(th, k)
    assert math.isclose(float(jax.jit(energy.log_partition)(th, k)), float(v), rel_tol=1e-15)
    np.testing.assert_allclose(jax.grad(energy.log_partition)(th, k), energy.mean_parameter(th, k), rtol=1e-14)


def test_the_run_api_refuses_like_the_cli(tmp_path, cfgs):
    from statmech_attn import run

    out = tmp_path / "run"
    with pytest.raises(InputError) as e:
        run("energy analyse", cfgs / "energy.toml", set={"energy.layers": 10**10}, out=out)
    assert e.value.param == "energy.layers" and not out.exists()
