"""`statmech-attn potts sample|train|plot`: runs, outputs and bad input (exit 2, one line naming the parameter)."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from statmech_attn.cli import app

from . import _problems as P

runner = CliRunner()

POTTS_TABLE = """
[potts]
sites = 4
colours = 3
interaction = [[0, 1, 0, 0.5], [1, 0, -0.5, 0], [0, -0.5, 0, 1], [0.5, 0, 1, 0]]
colour_matrix = [[1.0, -0.5, -0.5], [-0.5, 1.0, -0.5], [-0.5, -0.5, 1.0]]
fields = [[0.3, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]
beta = 1.0
"""


def _write(tmp_path, body, name="c.toml"):
    p = tmp_path / name
    p.write_text(body)
    return p


def test_sample_train_plot_round_trip(tmp_path):
    cfg = _write(tmp_path, "seed = 3\n" + POTTS_TABLE + "[sampler]\nchains = 4\nburn_in = 50\nthin = 2\nn_samples = 4000\n")
    out = tmp_path / "samples"
    r = runner.invoke(app, ["potts", "sample", str(cfg), "--out", str(out)])
    assert r.exit_code == 0, r.output
    rec = json.loads((out / "result.json").read_text())
    assert rec["seed"] == 3 and rec["verb"] == "sample"
    res = rec["result"]
    assert abs(res["log_partition"] - P.CHECK1_LOG_Z) < 1e-12  # check 1's model (U = 1.5(I − 11ᵀ/3))
    np.testing.assert_allclose(np.asarray(res["exact_one_site_marginals"])[:, 0], P.CHECK1_P0, atol=1e-9)
    assert res["n_samples"] == 4000 and res["acceptance"] == 1.0 and res["max_marginal_error"] < 0.05
    with np.load(out / "arrays.npz") as z:
        assert z["sequences"].shape == (4000, 4) and z["sequences"].dtype == np.int32
        assert z["chain_id"].shape == (4000,)
    r = runner.invoke(app, ["potts", "plot", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "sample.png").is_file()

    # train on the sample run directory; the true model comes from the run's own config
    tcfg = _write(tmp_path, f'seed = 1\n[train]\ndata = "{out}"\nattention = "linear"\nlr = 0.05\n'
                            'batch_size = 4000\nepochs = 40\nsizes = [400, 4000]\n', "t.toml")
    tout = tmp_path / "train"
    r = runner.invoke(app, ["potts", "train", str(tcfg), "--out", str(tout)])
    assert r.exit_code == 0, r.output
    res = json.loads((tout / "result.json").read_text())["result"]
    for key in ("layer", "train_loss", "validation_loss", "epochs_run", "test_ce", "test_kl", "cond_entropy",
                "coupling_error", "top_pair_precision", "auc", "colour_cosine"):
        assert key in res, key
    assert res["test_set"] == "validation" and res["n_validation"] == 400
    assert [c["n_samples"] for c in res["recovery_curve"]] == [400, 4000]
    with np.load(tout / "arrays.npz") as z:
        assert z["attention"].shape == (1, 4, 4) and z["value"].shape == (1, 3, 3)
        assert z["couplings"].shape == (4, 4, 3, 3) and z["loss_curve"].shape == (res["epochs_run"], 2)
        c = z["couplings"]
        np.testing.assert_allclose(c, np.transpose(c, (1, 0, 3, 2)), atol=1e-14)  # symmetrised
        np.testing.assert_allclose(c.sum(axis=-1), 0, atol=1e-12)  # zero-sum gauge
    r = runner.invoke(app, ["potts", "plot", str(tout)])
    assert r.exit_code == 0, r.output
    for stem in ("interaction", "loss", "recovery"):
        assert (tout / f"{stem}.png").is_file()
    _check_paper_grade(out, tout)


def _check_paper_grade(sample_dir, train_dir):
    """Every panel labelled, the interaction maps on one colour scale with one labelled colour bar, the
    recovery strip at a sane size with human titles, legends placed, ``paper`` one column wide."""
    import matplotlib.pyplot as plt
    from matplotlib.image import imread

    from statmech_attn import io
    from statmech_attn._style import style_context
    from statmech_attn.potts import plots

    figs = []
    for d, fn in ((sample_dir, plots.sample_figures), (train_dir, plots.train_figures)):
        figs += fn(io.read_result(d), io.read_arrays(d))
    by_stem = dict((stem, fig) for fig, stem in figs)
    for fig, stem in figs:
        for ax in fig.axes:
            if ax.get_label() == "<colorbar>":
                assert ax.get_xlabel() or ax.get_ylabel(), f"{stem}: unlabelled colour bar"
            elif ax.axison:
                assert ax.get_xlabel() and ax.get_ylabel(), f"{stem}: {ax.get_title()}"
                assert "_" not in ax.get_title(), f"{stem}: snake_case title {ax.get_title()!r}"
    maps = [a for a in by_stem["interaction"].axes if a.images and a.get_label() != "<colorbar>"]
    assert len(maps) == 2 and maps[0].images[0].get_clim() == maps[1].images[0].get_clim()
    assert len([a for a in by_stem["interaction"].axes if a.get_label() == "<colorbar>"]) == 1
    h, w = imread(train_dir / "recovery.png").shape[:2]
    assert w <= 2400 and h <= 900, (w, h)
    # the sample plot's legend sits below the panels (a figure legend), not on the points
    fig = by_stem["sample"]
    assert fig.legends and all(a.get_legend() is None for a in fig.axes)
    with style_context("paper"):
        for fig, _ in plots.sample_figures(io.read_result(sample_dir), io.read_arrays(sample_dir)):
            assert abs(fig.get_figwidth() - 3.4) < 1e-9
    plt.close("all")


def test_train_vanilla_on_user_npz_without_potts_table(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "seqs.npz", sequences=rng.integers(0, 3, size=(120, 5)))
    cfg = _write(tmp_path, '[train]\nlayer = "vanilla"\ndata = "seqs.npz"\ncolours = 3\nembed_dim = 4\nepochs = 3\n')
    r = runner.invoke(app, ["potts", "train", str(cfg), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)["result"]
    assert res["layer"] == "vanilla" and res["test_kl"] is None and res["coupling_error"] is None
    assert res["test_ce"] > 0


def test_exact_sampling_from_the_cli():
    r = runner.invoke(app, ["potts", "sample", "examples/potts_sample.toml", "--json", "--set", "sampler.exact=true",
                            "--set", "sampler.n_samples=500"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)["result"]
    assert res["n_samples"] == 500 and res["chains"] == 1


BAD_DATA = {
    "value_ge_C": lambda: {"sequences": np.array([[0, 1, 3], [0, 1, 2]])},
    "negative": lambda: {"sequences": np.array([[0, -1, 2], [0, 1, 2]])},
    "nan": lambda: {"sequences": np.array([[0.0, np.nan, 2.0], [0.0, 1.0, 2.0]])},
    "one_site": lambda: {"sequences": np.array([[0], [1]])},
    "not_2d": lambda: {"sequences": np.array([0, 1, 2])},
    "no_key": lambda: {"x": np.array([[0, 1, 2]])},
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_training_data_exit_2(tmp_path, case):
    np.savez(tmp_path / "d.npz", **BAD_DATA[case]())
    cfg = _write(tmp_path, '[train]\ndata = "d.npz"\ncolours = 3\nepochs = 1\n')
    r = runner.invoke(app, ["potts", "train", str(cfg)])
    assert r.exit_code == 2, r.output
    assert "train.data" in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_ragged_npz_exit_2(tmp_path):
    # a ragged array can only be stored as a pickled object array, which is refused
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = [0, 1, 2], [0, 1]
    np.savez(tmp_path / "d.npz", sequences=ragged)
    cfg = _write(tmp_path, '[train]\ndata = "d.npz"\ncolours = 3\n')
    r = runner.invoke(app, ["potts", "train", str(cfg)])
    assert r.exit_code == 2 and "train.data" in r.output and len(r.output.strip().splitlines()) == 1


@pytest.mark.parametrize("body, param", [
    (POTTS_TABLE.replace("[0, 1, 0, 0.5], [1, 0", "[0, 1, 0, 0.5], [2, 0"), "potts.interaction"),
    (POTTS_TABLE.replace("sites = 4", "sites = 1"), "potts.sites"),
    (POTTS_TABLE.replace("beta = 1.0", "beta = -1.0"), "potts.beta"),
    (POTTS_TABLE.replace("colours = 3", "colours = 2"), "potts.colour_matrix"),
    (POTTS_TABLE.replace("[0, 1, 0, 0.5], [1, 0, -0.5, 0]", "[1, 1, 0, 0.5], [1, 0, -0.5, 0]"), "potts.interaction"),
    (POTTS_TABLE + "[sampler]\nchains = 0\n", "sampler.chains"),
    (POTTS_TABLE + '[sampler]\nscan = "zigzag"\n', "sampler.scan"),
    (POTTS_TABLE + "[sampler]\nexact = true\n", "potts.max_enumerate"),
    ("[sampler]\nchains = 2\n", "potts"),
    (POTTS_TABLE + "[sampler]\nwalkers = 2\n", "sampler.walkers"),
])
def test_bad_sample_config_exit_2(tmp_path, body, param):
    if param == "potts.max_enumerate":
        body = body.replace("beta = 1.0", "beta = 1.0\nmax_enumerate = 10")
    r = runner.invoke(app, ["potts", "sample", str(_write(tmp_path, body))])
    assert r.exit_code == 2, r.output
    assert param in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


@pytest.mark.parametrize("extra, param", [
    ("", "train.colours"),
    ("colours = 3\nmask_fraction = 0.0\n", "train.mask_fraction"),
    ("colours = 3\nlayer = \"deep\"\n", "train.layer"),
    ("colours = 3\nvalidation_fraction = 1.0\n", "train.validation_fraction"),
    ("colours = 3\nsizes = [1000]\n", "train.sizes"),
])
def test_bad_train_config_exit_2(tmp_path, extra, param):
    np.savez(tmp_path / "d.npz", sequences=np.zeros((10, 3), dtype=int))
    r = runner.invoke(app, ["potts", "train", str(_write(tmp_path, '[train]\ndata = "d.npz"\n' + extra))])
    assert r.exit_code == 2, r.output
    assert param in r.output and len(r.output.strip().splitlines()) == 1


def test_plot_of_a_missing_run_exit_2(tmp_path):
    r = runner.invoke(app, ["potts", "plot", str(tmp_path)])
    assert r.exit_code == 2 and "run_dir" in r.output
