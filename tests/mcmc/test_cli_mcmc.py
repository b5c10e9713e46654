"""``jaxgeo mcmc run`` end to end on a tiny run, and its input errors."""

import json

import jax
import numpy as np
import pytest

from jaxgeo import earth
from jaxgeo.cli import main


@pytest.fixture(scope="module")
def station(tmp_path_factory):
    """One station's noisy receiver function (RF only: the cheapest forward model)."""
    from jaxgeo.receiver import receiver_function

    params = earth.sample_prior(jax.random.key(11), 1, np.float64)[0]
    times = np.arange(61) / 10.0
    rf = np.asarray(receiver_function(times, *earth.receiver_model(params), slowness=0.06, gauss=2.5))
    rf = rf + 0.02 * np.random.default_rng(3).standard_normal(rf.size)
    observations = earth.Observations(rf_times=times, rf=rf, rf_sigma=np.full(rf.size, 0.02), slowness=0.06,
                                      gauss=2.5, source="synthetic")
    path = tmp_path_factory.mktemp("station") / "station.txt"
    earth.write_observations(observations, path)
    return path, params


@pytest.mark.slow  # ~45 s on 2 cores (RWM compile); bad-input CLI tests stay in the default run
def test_run_writes_results(station, tmp_path, capsys):
    path, _ = station
    out = tmp_path / "out"
    argv = ["mcmc", "run", "--input", str(path), "--out", str(out), "--sampler", "rwm", "--chains", "2",
            "--warmup", "20", "--steps", "20", "--thin", "2", "--no-progress"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "wrote" in captured.out and "R-hat" in captured.out
    assert "not converged" in captured.err  # 20 steps cannot converge, and the user is told
    result = np.load(out / "posterior.npz")
    assert result["samples"].shape == (2, 10, 23)
    assert result["summary_vs_mean"].shape == (161,) and result["summary_depth"].shape == (161,)
    for name in ("crust_vp_vs", "sediment_thickness", "crust_thickness"):
        lo, mid, hi = (float(result[f"summary_{name}_{s}"]) for s in ("p05", "p50", "p95"))
        assert lo <= mid <= hi
    inside = (result["samples"] >= earth.LOWER) & (result["samples"] <= earth.UPPER)
    assert inside.all()
    diagnostics = json.loads((out / "diagnostics.json").read_text())
    assert len(diagnostics["rhat"]) == 23 and diagnostics["settings"]["sampler"] == "rwm"
    assert diagnostics["converged"] is False and diagnostics["warnings"]
    assert (out / "posterior.png").stat().st_size > 10_000


def test_bad_input_files_name_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("# kind x value sigma\nphase 10 3.5 0.07\nphase 20 x 0.07\n")
    assert main(["mcmc", "run", "--input", str(bad), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and f"{bad}, line 3, column 3 (value)" in err
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("phase 10 3.5 0.07\nlove 20 3.6 0.07\n")
    assert main(["mcmc", "run", "--input", str(unknown), "--out", str(tmp_path / "o")]) == 2
    assert f"{unknown}, line 2: unknown kind 'love'" in capsys.readouterr().err
    assert main(["mcmc", "run", "--input", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "o")]) == 2
    assert "missing.txt: no such file" in capsys.readouterr().err
    good = tmp_path / "good.txt"
    good.write_text("phase 10 3.5 0.07\nphase 20 3.6 0.07\n")
    assert main(["mcmc", "run", "--input", str(good), "--kinds", "rf", "--out", str(tmp_path / "o")]) == 2
    assert "--kinds: " in capsys.readouterr().err
    assert main(["mcmc", "run", "--input", str(good), "--chains", "1", "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 2
    assert "n_chains: expected an integer ≥ 2" in capsys.readouterr().err
