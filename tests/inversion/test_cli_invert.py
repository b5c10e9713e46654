"""`jaxgeo gravity invert` end to end, data readers, and bad-file errors."""

import json
import os

import numpy as np
import pytest

from jaxgeo.cli import main
from jaxgeo.inversion._io import DataFileError, read_gravity_data
from jaxgeo.inversion._job import default_mesh
from problems import block_problem

HEADER = "easting,northing,upward,value,sigma\n"


def write_block_csv(path, rng=None):
    problem, _ = block_problem()
    rows = np.column_stack([*problem.coordinates, problem.data, problem.sigma])
    with open(path, "w") as handle:
        handle.write("# a buried block, g_z in mGal\n" + HEADER)
        for row in rows:
            handle.write(",".join(f"{v:.10g}" for v in row) + "\n")
    return rows


def test_cli_inverts_a_csv_file(tmp_path, capsys):
    data = tmp_path / "block.csv"
    write_block_csv(data)
    out = tmp_path / "out"
    code = main(["gravity", "invert", "--data", str(data), "--out", str(out), "--cell", "100", "--depth", "600",
                 "--padding", "0", "--max-steps", "100", "--no-progress", "--methods", "inr-fourier,tikhonov"])
    assert code == 0
    for name in ("model.npz", "metrics.json", "sections.png", "data_fit.png"):
        assert (out / name).stat().st_size > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["methods"]) == {"inr-fourier", "tikhonov"}
    for entry in metrics["methods"].values():
        for key in ("data_rms_misfit", "chi2", "seconds", "iterations", "settings"):
            assert key in entry
        assert "rms_density_error" not in entry  # no truth for user data
    assert metrics["methods"]["tikhonov"]["chi2"] == pytest.approx(1.0, abs=0.05)
    with np.load(out / "model.npz") as model:
        assert model["density_inr_fourier"].shape == (10, 10, 6)
    assert not [p for p in os.listdir(out) if p.startswith(".partial")]
    assert "inr-fourier" in capsys.readouterr().out


def test_cli_example_writes_truth_metrics(tmp_path):
    out = tmp_path / "ex"
    code = main(["gravity", "invert", "--example", "dipping-block", "--out", str(out), "--max-steps", "40",
                 "--no-progress", "--methods", "inr-none"])
    assert code == 0
    entry = json.loads((out / "metrics.json").read_text())["methods"]["inr-none"]
    assert {"rms_density_error", "correlation", "chi2", "data_rms_misfit", "seconds", "iterations"} <= set(entry)
    assert entry["iterations"] == 40


@pytest.mark.parametrize(
    "body, message",
    [
        ("easting,northing,value,sigma\n1,2,3,4\n", r"bad.csv, line 1: missing column\(s\) upward"),
        (HEADER + "0,0,1,0.5,0.1\n0,10,1,abc,0.1\n", r"bad.csv, line 3, column 'value': cannot read 'abc'"),
        (HEADER + "0,0,1,0.5,0.1\n# note\n0,10,1,nan,0.1\n", r"bad.csv, line 4, column 'value': value 'nan' is not finite"),
        (HEADER + "0,0,1,0.5,0.1\n0,10,1,0.4,0\n", r"bad.csv, line 3, column 'sigma': σ must be > 0"),
        (HEADER + "0,0,1,0.5\n", r"bad.csv, line 2: 4 values, the header has 5 columns"),
        (HEADER, r"bad.csv: no data rows"),
    ],
)
def test_bad_csv_files_name_file_and_line(tmp_path, capsys, body, message):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(DataFileError, match=message):
        read_gravity_data(path)
    out = tmp_path / "out"
    code = main(["gravity", "invert", "--data", str(path), "--out", str(out), "--no-progress"])
    assert code == 2
    assert "bad.csv" in capsys.readouterr().err
    assert not out.exists()  # nothing written


def test_ubc_format(tmp_path):
    path = tmp_path / "obs.grv"
    path.write_text("! comment\n3\n1 2 3 0.5 0.05\n4 5 6 0.6 0.05\n7 8 9 0.7 0.05\n")
    table = read_gravity_data(path)
    np.testing.assert_array_equal(table[1], [4, 5, 6, 0.6, 0.05])
    path.write_text("4\n1 2 3 0.5 0.05\n")
    with pytest.raises(DataFileError, match=r"obs.grv, line 1: announces 4 stations but the file holds 1"):
        read_gravity_data(path)
    path.write_text("1\n1 2 3 0.5 -0.05\n")
    with pytest.raises(DataFileError, match=r"obs.grv, line 2, column 'sigma'"):
        read_gravity_data(path)
    path.write_text("1\n1 2 3 0.5\n")
    with pytest.raises(DataFileError, match=r"line 2: expected 5 values"):
        read_gravity_data(path)


def test_default_mesh_covers_the_stations():
    e, n = np.meshgrid(np.arange(0, 1001, 100.0), np.arange(0, 501, 100.0))
    table = np.column_stack([e.ravel(), n.ravel(), np.full(e.size, 20.0), np.zeros(e.size), np.ones(e.size)])
    mesh = default_mesh(table)
    east, north, up = (np.asarray(a) for a in (mesh.easting, mesh.northing, mesh.upward))
    assert np.diff(east)[0] == pytest.approx(100.0)
    assert east[0] <= -200 and east[-1] >= 1200 and north[0] <= -200 and north[-1] >= 700
    assert up[-1] == pytest.approx(20.0)  # top at the lowest station: no station inside a cell
    assert up[-1] - up[0] == pytest.approx(0.5 * 1400.0, abs=100.0)


def test_laguna_del_maule_file_reads(shared_data):
    table = read_gravity_data(os.path.join(shared_data, "gravity", "laguna_del_maule_bouguer.grv"))
    assert table.shape == (191, 5)
    np.testing.assert_allclose(table[:, 4], 0.05)
    assert table[:, 1].min() > 5e6  # UTM 19S northings


@pytest.mark.slow
def test_main_job_meets_the_paper_goals(tmp_path):
    """The README's main job: the Fourier-feature INR beats the classical baseline on the
    paper's dipping block, at the goal's accuracy and data fit."""
    out = tmp_path / "main"
    assert main(["gravity", "invert", "--example", "dipping-block", "--out", str(out), "--no-progress"]) == 0
    methods = json.loads((out / "metrics.json").read_text())["methods"]
    inr, tikhonov = methods["inr-fourier"], methods["tikhonov"]
    assert inr["rms_density_error"] <= 55.0 and inr["chi2"] <= 1.1
    assert inr["rms_density_error"] < tikhonov["rms_density_error"]


@pytest.mark.slow
def test_laguna_del_maule_inversion(shared_data, tmp_path):
    """The documented real-data command (coarser cells): both methods fit the data and
    find the low-density body as the strongest feature."""
    path = os.path.join(shared_data, "gravity", "laguna_del_maule_bouguer.grv")
    out = tmp_path / "ldm"
    code = main(["gravity", "invert", "--data", path, "--cell", "1000", "--cell-z", "500", "--depth", "5000",
                 "--remove-mean", "--out", str(out), "--no-progress"])
    assert code == 0
    methods = json.loads((out / "metrics.json").read_text())["methods"]
    for entry in methods.values():
        assert entry["chi2"] <= 1.1
    with np.load(out / "model.npz") as model:
        for key in ("density_inr_fourier", "density_tikhonov"):
            assert model[key].min() < -abs(model[key].max()) / 2  # a dominant negative contrast


def test_bad_mesh_options_are_rejected(tmp_path, capsys):
    data = tmp_path / "block.csv"
    write_block_csv(data)
    out = tmp_path / "out"
    assert main(["gravity", "invert", "--data", str(data), "--out", str(out), "--cell", "-5", "--no-progress"]) == 2
    assert "cell must be > 0" in capsys.readouterr().err
    assert not out.exists()
