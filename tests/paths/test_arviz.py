"""``paths validate`` writes each point's NUTS posterior as ArviZ InferenceData (NetCDF)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "paths_validate.toml"


@pytest.mark.slow
def test_validate_quick_writes_netcdf(tmp_path: Path) -> None:
    import statmech_attn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    rec = statmech_attn.run("paths validate", EXAMPLE, set=["validate.gd.enabled=false", "validate.langevin.enabled=false"],
                            out=tmp_path, quick=True)
    files = sorted(tmp_path.glob("posterior_*.nc"))
    points = rec["result"]["points"]
    assert len(files) == len(points) == 2
    for p in points:
        idata = az.from_netcdf(tmp_path / f"posterior_{p['key']}.nc")
        post = idata.posterior
        assert {"U1", "U2", "U_a", "f_mean", "f_var"} <= set(post.data_vars)
        assert post.sizes["chain"] == 4 and post.sizes["draw"] == 150
        assert post["U1"].shape[2:] == (4, 4) and post["f_mean"].shape[2] == p["n_test"]
        table = az.summary(idata, var_names=["U_a"], round_to="none")
        assert abs(table.loc["U_a", "mean"] - p["comparisons"]["U_a"]["simulation"]) < 1e-9
        assert (tmp_path / f"posterior_summary_{p['key']}.csv").is_file()
