"""The inversion job behind ``jaxgeo gravity invert``: run methods, write results.

Everything the job writes goes to a staging folder first and is moved into the
output folder only when every method has finished, so an interrupted or failed run
leaves no half-written results there (only the INR checkpoints, under
``DIR/checkpoints/<method>``, which let the same command resume after a kill).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shutil
import time
from pathlib import Path

import jax
import numpy as np

from ._fields import FieldConfig
from ._inr import INRConfig, INRInversion
from ._metrics import model_metrics
from ._problem import GravityProblem
from ._tikhonov import TikhonovConfig, tikhonov_inversion

METHODS = ("inr-fourier", "inr-positional", "inr-none", "tikhonov", "tikhonov-bounded")
DEFAULT_METHODS = ("inr-fourier", "tikhonov")


def default_mesh(data: np.ndarray, *, cell: float | None = None, cell_z: float | None = None, depth: float | None = None,
                 padding: float | None = None, top: float | None = None):
    """A regular mesh for stations (easting, northing, upward columns of ``data``), m.

    Defaults: horizontal cell = the median distance from each station to its nearest
    neighbour (rounded to 2 significant digits); vertical cell = horizontal cell;
    padding = 2 cells around the stations' bounding box; depth = half the larger
    horizontal side of the padded box; top = the lowest station (the mesh never
    contains a station).
    """
    from ..gravity import PrismMesh

    e, n, u = data[:, 0], data[:, 1], data[:, 2]
    if cell is None:
        from scipy.spatial import cKDTree

        xy = np.stack([e, n], axis=1)
        distance, _ = cKDTree(xy).query(xy, k=2) if len(xy) > 1 else (np.ones((1, 2)), None)
        cell = float(np.median(distance[:, 1]))
        cell = float(f"{cell:.2g}") if cell > 0 else 1.0
    cell_z = cell if cell_z is None else cell_z
    padding = 2 * cell if padding is None else padding
    for name, value in (("cell", cell), ("cell_z", cell_z)):
        if not value > 0:
            raise ValueError(f"{name} must be > 0; got {value}")
    if padding < 0:
        raise ValueError(f"padding must be ≥ 0; got {padding}")
    top = float(u.min()) if top is None else top
    west, east = e.min() - padding, e.max() + padding
    south, north = n.min() - padding, n.max() + padding
    n_e = max(1, int(np.ceil((east - west) / cell)))
    n_n = max(1, int(np.ceil((north - south) / cell)))
    depth = 0.5 * max(n_e, n_n) * cell if depth is None else depth
    if not depth > 0:
        raise ValueError(f"depth must be > 0; got {depth}")
    n_u = max(1, int(np.ceil(depth / cell_z)))
    return PrismMesh(
        west + cell * np.arange(n_e + 1),
        south + cell * np.arange(n_n + 1),
        top - cell_z * np.arange(n_u + 1)[::-1],
    )


def inr_config_for(method: str, base: INRConfig) -> INRConfig:
    """The INR configuration of ``inr-<encoding>`` derived from ``base``."""
    encoding = method.split("-", 1)[1]
    return dataclasses.replace(base, field=dataclasses.replace(base.field, encoding=encoding))


def run_job(problem: GravityProblem, out, *, methods=DEFAULT_METHODS, truth=None, inr_config: INRConfig = INRConfig(),
            tikhonov_config: TikhonovConfig = TikhonovConfig(), seed: int = 0, description: str = "",
            progress: bool = True, log=print) -> dict:
    """Run each method on ``problem``, then write the results to ``out``.

    Writes ``model.npz`` (mesh edges, recovered densities, truth, stations, observed and
    predicted data), ``metrics.json`` (per method: rms_density_error and correlation
    when the truth is known, data_rms_misfit in mGal, chi2 per datum, seconds,
    iterations, settings), ``sections.png`` (plan and sections of truth and
    recoveries) and ``data_fit.png`` (observed, predicted and residual maps).
    Returns the metrics dictionary.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    out = Path(out)
    dtype = np.dtype(inr_config.dtype)
    operator = problem.operator(dtype=dtype, max_dense_bytes=inr_config.max_dense_bytes, kind=inr_config.operator)
    op_note = f"{operator.kind}" + (f" ({problem.n_data} × {problem.mesh.size}, {problem.dense_bytes(dtype) / 2**20:.1f} MiB)" if operator.kind == "dense" else "")
    log(f"jaxgeo gravity invert: {description or 'user data'}")
    log(f"  mesh {problem.mesh.shape} = {problem.mesh.size} cells, {problem.n_data} data; forward operator: {op_note}")
    results, densities, predictions = {}, {}, {}
    for method in methods:
        if method.startswith("tikhonov"):
            t0 = time.perf_counter()
            tk_config = tikhonov_config
            if method == "tikhonov-bounded":  # the same bounds as the INR
                tk_config = dataclasses.replace(tikhonov_config, bounds=tuple(inr_config.field.bounds))
            r = tikhonov_inversion(problem, tk_config, operator=operator)
            entry = {"seconds": r.seconds, "iterations": r.iterations, "beta": r.beta,
                     "settings": tk_config.to_dict()}
            density, predicted = r.density, r.predicted
            total = time.perf_counter() - t0
        else:
            cfg = inr_config_for(method, inr_config)
            inversion = INRInversion(problem, cfg, operator=operator)
            r = inversion.fit(jax.random.key(seed), workdir=out / "checkpoints" / method, progress=progress)
            entry = {"seconds": r.seconds, "compile_seconds": r.compile_seconds, "iterations": r.iterations,
                     "n_parameters": r.n_parameters, "resumed_from_step": r.resumed_from,
                     "settings": {**cfg.to_dict(), "seed": seed}}
            density, predicted = r.density, r.predicted
            total = r.seconds + r.compile_seconds
        entry = {**model_metrics(density, problem, predicted, truth), **entry, "operator": operator.kind}
        results[method] = entry
        densities[method], predictions[method] = density, predicted
        figures = ", ".join(f"{k} {entry[k]:.4g}" for k in ("rms_density_error", "correlation", "data_rms_misfit", "chi2") if k in entry)
        log(f"  {method}: {figures}; {entry['iterations']} iterations in {entry['seconds']:.2f} s ({total:.2f} s with set-up)")
    metrics = {
        "description": description,
        "mesh_shape": list(problem.mesh.shape),
        "n_cells": problem.mesh.size,
        "n_data": problem.n_data,
        "operator": op_note,
        "methods": results,
        "units": {"rms_density_error": "kg/m^3", "data_rms_misfit": "mGal", "seconds": "s"},
        "machine": {"platform": platform.platform(), "devices": [str(d) for d in jax.devices()], "jax": jax.__version__},
    }
    _write_outputs(out, problem, truth, densities, predictions, metrics)
    return metrics


def _write_outputs(out: Path, problem, truth, densities, predictions, metrics):
    from .. import plotting

    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        arrays = {
            "easting_edges": np.asarray(problem.mesh.easting), "northing_edges": np.asarray(problem.mesh.northing),
            "upward_edges": np.asarray(problem.mesh.upward), "station_easting": problem.coordinates[0],
            "station_northing": problem.coordinates[1], "station_upward": problem.coordinates[2],
            "observed": problem.data, "sigma": problem.sigma,
        }
        if truth is not None:
            arrays["truth"] = np.asarray(truth)
        for method in densities:
            key = method.replace("-", "_")
            arrays[f"density_{key}"] = densities[method]
            arrays[f"predicted_{key}"] = predictions[method]
        np.savez(staging / "model.npz", **arrays)
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2))
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = plotting.plot_sections(problem.mesh, densities, truth=truth, stations=problem.coordinates)
        fig.savefig(staging / "sections.png", dpi=110)
        plt.close(fig)
        fig = plotting.plot_data_fit(problem.coordinates, problem.data, predictions, sigma=problem.sigma)
        fig.savefig(staging / "data_fit.png", dpi=110)
        plt.close(fig)
        for path in staging.iterdir():
            os.replace(path, out / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
