"""Execute every notebook in notebooks/ on small sizes (the slowest four only with ``-m slow``).

Notebooks read the environment variable ``JAXGEO_SMALL`` (set to "1" here) and shrink
their problem sizes when it is set, so the whole set runs in a few minutes on 2 cores.
"""

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
# the longest to execute (minutes of compilation on 2 cores) run with `-m slow`; their code
# paths are covered by tests/dispersion, tests/gquery, tests/earth and tests/inversion
SLOW = {"dispersion", "gquery", "earth_prior", "inr_gravity_inversion"}
PARAMS = [pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW else []) for p in NOTEBOOKS]


@pytest.mark.parametrize("path", PARAMS)
def test_notebook_runs(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("JAXGEO_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
