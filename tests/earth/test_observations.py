"""Observation files (the input of gquery predict and mcmc run): round trips and errors."""

import numpy as np
import pytest

from jaxgeo.earth import ObservationFileError, Observations, read_observations, write_observations


def station(**changes):
    t = np.arange(0.0, 2.0, 0.1)
    values = dict(
        phase_periods=[5.0, 10.0, 20.0], phase=[3.0, 3.4, 3.7], phase_sigma=[0.06, 0.07, 0.07],
        group_periods=[8.0, 16.0], group=[2.9, 3.2], group_sigma=[0.1, 0.1],
        rf_times=t, rf=np.exp(-((2.5 * t) ** 2)), rf_sigma=np.full(t.size, 0.02), slowness=0.06, gauss=2.5,
        ref_vs_depth=[0.0, 50.0], ref_vs=[3.0, 4.4], ref_vs_sigma=[0.3, 0.2],
        references={"crust_thickness": (35.0, 4.0), "sediment_thickness": (1.0, 0.5)},
    )
    values.update(changes)
    return Observations(**values)


@pytest.mark.parametrize("suffix", [".txt", ".npz"])
def test_round_trip(tmp_path, suffix):
    obs = station()
    back = read_observations(write_observations(obs, tmp_path / f"station{suffix}"))
    for name in ("phase_periods", "phase", "group", "rf_times", "rf", "rf_sigma", "ref_vs", "ref_vs_depth"):
        np.testing.assert_allclose(getattr(back, name), getattr(obs, name), rtol=1e-7)
    assert back.slowness == pytest.approx(0.06) and back.gauss == pytest.approx(2.5)
    for key, value in obs.references.items():
        assert back.references[key] == pytest.approx(value)
    assert back.kinds == ("phase", "group", "rf")


def test_subsets_and_reference_interpolation():
    obs = station().subset(["phase"])
    assert obs.kinds == ("phase",) and np.isnan(obs.slowness)
    vs, sigma = obs.reference_at([25.0, 60.0])
    assert vs[0] == pytest.approx(3.7) and sigma[0] == pytest.approx(0.25) and np.isnan(vs[1])
    with pytest.raises(ValueError, match="kinds"):
        obs.subset(["love"])


def write(tmp_path, text):
    path = tmp_path / "obs.txt"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, match",
    [
        ("phase 10 3.5 0.1\nlove 10 3.5 0.1\n", r"obs.txt, line 2: unknown kind 'love'"),
        ("# header\nphase 10 3.5\n", r"line 2: phase lines have 4 columns, got 3"),
        ("phase 10 abc 0.1\n", r"line 1, column 3 \(value\): cannot read 'abc'"),
        ("phase 10 3.5 0\n", r"line 1, column 4 \(sigma\): must be > 0"),
        ("phase -1 3.5 0.1\n", r"line 1, column 2 \(period\): must be > 0"),
        ("rf 0 0.5 0.02 0.06 2.5\nrf 0.1 0.4 0.02 0.07 2.5\n", r"line 2: slowness/gauss .* differ from line 1"),
        ("rf 0 0.5 0.02\n", r"line 1: rf lines have 6 columns"),
        ("phase 10 3.5 0.1\nphase 10 3.6 0.1\n", r"line 2: phase period 10 s repeated \(first on line 1\)"),
        ("# nothing\n", r"no phase, group or rf lines"),
        ("rf 0 0.5 0.02 0.06 2.5\nrf 0.1 0.4 0.02 0.06 2.5\nrf 0.3 0.4 0.02 0.06 2.5\n", r"uniformly spaced"),
        ("ref_ct - 35 3\nref_ct - 36 3\nphase 10 3.5 0.1\n", r"line 2: ref_ct given twice"),
    ],
)
def test_text_errors_name_file_and_line(tmp_path, text, match):
    with pytest.raises(ObservationFileError, match=match):
        read_observations(write(tmp_path, text))


def test_npz_errors(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, phase_periods=[10.0], phase=[3.5])
    with pytest.raises(ObservationFileError, match=r"bad.npz: array\(s\) .* given without \['phase_sigma'\]"):
        read_observations(path)
    np.savez(path, phase_periods=[10.0, 20.0], phase=[3.5, np.nan], phase_sigma=[0.1, 0.1])
    with pytest.raises(ObservationFileError, match=r"phase\[1\] = nan must be finite and > 0"):
        read_observations(path)
    np.savez(path, phase_periods=[10.0], phase=[3.5], phase_sigma=[0.1], velocity=[1.0])
    with pytest.raises(ObservationFileError, match="unknown array"):
        read_observations(path)
    with pytest.raises(ObservationFileError, match="no such file"):
        read_observations(tmp_path / "missing.txt")
