"""The `jaxgeo` command line."""

import numpy as np
import pytest

from jaxgeo.cli import main, read_table
from jaxgeo.gravity import prism_gravity


def _write_inputs(tmp_path):
    prisms = tmp_path / "prisms.csv"
    prisms.write_text("# two prisms\nname,west,east,south,north,bottom,top,density\na,-100,100,-50,50,-300,-100,250\nb,150,300,-80,40,-200,-50,-120\n")
    points = tmp_path / "points.csv"
    rows = ["easting,northing,upward"] + [f"{e},{n},10" for e in (-400, 0, 400) for n in (-300, 300)]
    points.write_text("\n".join(rows) + "\n")
    return prisms, points


def test_forward_from_csv_files(tmp_path, capsys):
    prisms, points = _write_inputs(tmp_path)
    out = tmp_path / "out"
    assert main(["gravity", "forward", "--prisms", str(prisms), "--points", str(points), "--field", "g_zz", "--out", str(out)]) == 0
    result = np.load(out / "gravity_g_zz.npz")
    table = read_table(prisms, ("west", "east", "south", "north", "bottom", "top", "density"))
    coords = tuple(read_table(points, ("easting", "northing", "upward")).T)
    expected = prism_gravity(coords, table[:, :6], table[:, 6], field="g_zz")
    np.testing.assert_allclose(result["values"], expected, rtol=1e-12)
    assert str(result["units"]) == "Eötvös"
    assert (out / "gravity_g_zz.png").stat().st_size > 1000
    assert (out / "gravity_g_zz.csv").read_text().splitlines()[0] == "easting,northing,upward,g_zz_Eötvös"
    assert "wrote" in capsys.readouterr().out


def test_npy_inputs(tmp_path):
    prisms, points = _write_inputs(tmp_path)
    np.save(tmp_path / "prisms.npy", read_table(prisms, ("west", "east", "south", "north", "bottom", "top", "density")))
    np.save(tmp_path / "points.npy", read_table(points, ("easting", "northing", "upward")))
    assert main(["gravity", "forward", "--prisms", str(tmp_path / "prisms.npy"), "--points", str(tmp_path / "points.npy"), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "gravity_g_z.npz").exists()


def test_bad_files_name_file_line_and_column(tmp_path, capsys):
    prisms, points = _write_inputs(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("west,east,south,north,bottom,top,density\n0,1,0,1,-1,0,100\n0,1,0,x,-1,0,100\n")
    assert main(["gravity", "forward", "--prisms", str(bad), "--points", str(points), "--out", str(tmp_path)]) == 2
    assert "line 3, column 'north': cannot read 'x'" in capsys.readouterr().err
    commented = tmp_path / "commented.csv"
    commented.write_text("# prisms\nwest,east,south,north,bottom,top,density\n0,1,0,1,-1,0,100\n# a note\n0,1,0,x,-1,0,100\n")
    assert main(["gravity", "forward", "--prisms", str(commented), "--points", str(points), "--out", str(tmp_path)]) == 2
    assert "line 5, column 'north'" in capsys.readouterr().err  # the file's own line numbers
    inverted = tmp_path / "inverted.csv"
    inverted.write_text("west,east,south,north,bottom,top,density\n0,1,0,1,-1,0,100\n5,1,0,1,-1,0,100\n")
    assert main(["gravity", "forward", "--prisms", str(inverted), "--points", str(points), "--out", str(tmp_path)]) == 2
    assert "west > east at index [1]" in capsys.readouterr().err
    missing = tmp_path / "missing.csv"
    missing.write_text("easting,northing\n0,0\n")
    assert main(["gravity", "forward", "--prisms", str(prisms), "--points", str(missing), "--out", str(tmp_path)]) == 2
    assert "missing column(s) upward" in capsys.readouterr().err


def test_needs_a_source(tmp_path):
    assert main(["gravity", "forward", "--out", str(tmp_path)]) == 2


@pytest.mark.slow
def test_embedded_example(tmp_path):
    assert main(["gravity", "forward", "--example", "dipping-block", "--out", str(tmp_path)]) == 0
    result = np.load(tmp_path / "gravity_g_z.npz")
    assert result["values"].shape == (41, 41)
    assert 1.0 < result["values"].max() < 2.0  # mGal, a 300 kg/m³ block 200 m deep
