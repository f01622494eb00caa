"""``statmech_attn.run`` is the command line's Python twin: for every verb it returns the record that
``statmech-attn <theory> <verb> ... --json`` prints (same keys, same numbers; timing fields aside), and
``statmech_attn.load_run`` reads a run folder back.  The config is given to ``run`` as a dict and to the
command line as the same TOML file, so the dict route is checked too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from typer.testing import CliRunner

import statmech_attn
from statmech_attn.cli import app
from statmech_attn.config import load_toml

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"
runner = CliRunner()

#: fields that measure time or the environment, not the computation
VOLATILE = {"created", "argv", "environment", "wall_time_s", "wall_time", "seconds", "steps_per_second", "time_s"}

POTTS = {"sites": 4, "colours": 3, "interaction": [[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0]],
         "colour_matrix": [[1.0, -0.5, -0.5], [-0.5, 1.0, -0.5], [-0.5, -0.5, 1.0]], "beta": 1.0}
REPLICA = {"colours": 3, "colour_matrix": [[4 / 3, -2 / 3, -2 / 3], [-2 / 3, 4 / 3, -2 / 3], [-2 / 3, -2 / 3, 4 / 3]],
           "ridge": 0.1, "alphas": [0.5, 1.0], "cubature_order": 12}


def _strip(x):
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        return [_strip(v) for v in x]
    return x


def _absolute(cfg: dict, base: Path) -> dict:
    """Relative file names in an example resolved against its folder (a dict config has no folder)."""
    out = {}
    for k, v in cfg.items():
        if isinstance(v, dict):
            out[k] = _absolute(v, base)
        elif isinstance(v, str) and (k.endswith("_npz") or k in ("data", "test_data", "npz", "states_npz")):
            out[k] = str((base / v).resolve())
        else:
            out[k] = v
    return out


def _example(name: str) -> dict:
    return _absolute(load_toml(EX / name), EX)


def _check(tmp_path, command: str, cfg: dict, sets: dict, cli_args: list[str] = (), **options):
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps(cfg))
    argv = [*command.split(), str(path), "--json", *cli_args]
    for k, v in sets.items():
        argv += ["--set", f"{k}={json.dumps(v)}"]
    r = runner.invoke(app, argv)
    assert r.exit_code in (0, 1), r.output
    cli = json.loads(r.stdout)
    api = statmech_attn.run(command, cfg, set=sets, **options)
    assert _strip(api) == _strip(cli)
    assert api["theory"], api["verb"] == tuple(command.split())
    return api


CASES = [
    ("paths solve", lambda: _example("paths_small.toml"), {"model.temperature": 0.1}, [], {}),
    ("paths sweep", lambda: _example("paths_small.toml"), {}, ["--alphas", "0.5,1"], {"alphas": [0.5, 1.0]}),
    ("paths gp", lambda: _example("paths_small.toml"), {}, [], {}),
    ("potts sample", lambda: {"seed": 1, "potts": POTTS, "sampler": {"chains": 2, "burn_in": 20, "n_samples": 200}},
     {}, [], {}),
    ("potts train", lambda: _example("potts_train.toml"), {"train.epochs": 3, "train.sizes": [300]}, [], {}),
    ("potts replica", lambda: {"replica": REPLICA}, {}, [], {}),
    ("potts validate", lambda: {"replica": REPLICA, "validate": {"sizes": [12], "seeds": [0], "n_test": 50}}, {}, [], {}),
    ("energy analyse", lambda: _example("energy.toml"), {}, [], {}),
    ("oversmoothing analyse", lambda: _example("oversmoothing.toml"), {"oversmoothing.depth": 5}, [], {}),
    ("oversmoothing train", lambda: _example("oversmoothing_train.toml"),
     {"train.steps": 20, "train.sequences": 8, "train.depth": 3, "train.modes": ["smooth"]}, [], {}),
    ("factors fit", lambda: _example("factors.toml"),
     {"factors.n_factors": 8, "factors.n_epochs": 2, "factors.network.tokens": 64}, [], {}),
]


@pytest.mark.smoke
@pytest.mark.parametrize("command, make, sets, cli_args, options", CASES, ids=[c[0] for c in CASES])
def test_run_equals_the_cli_json(tmp_path, command, make, sets, cli_args, options):
    _check(tmp_path, command, make(), sets, list(cli_args), **options)


@pytest.mark.slow
def test_run_equals_the_cli_json_paths_validate(tmp_path):
    cfg = _example("paths_validate.toml")
    _check(tmp_path, "paths validate", cfg, {}, ["--quick"], quick=True)


def test_load_run_reads_back_what_run_wrote(tmp_path):
    out = tmp_path / "run"
    rec = statmech_attn.run("energy analyse", EX / "energy.toml", out=out)
    folder = statmech_attn.load_run(out)
    assert _strip(folder.record) == _strip(rec)
    assert folder.config["energy"]["beta"] == rec["config"]["energy"]["beta"]
    np.testing.assert_array_equal(folder.arrays["tokens"][-1], np.asarray(rec["result"]["tokens_after"]))


def test_run_refuses_an_unknown_command_and_option():
    from statmech_attn.errors import InputError

    with pytest.raises(InputError, match="command"):
        statmech_attn.run("paths solv", EX / "paths_small.toml")
    with pytest.raises(InputError, match="alphas"):
        statmech_attn.run("paths solve", EX / "paths_small.toml", alphas=[1.0])
