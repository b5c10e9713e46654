"""The ``jaxgeo`` command.

    jaxgeo gravity forward --example dipping-block --out DIR [--field g_z]
    jaxgeo gravity forward --prisms PRISMS.csv --points POINTS.csv --out DIR [--field g_zz]
    jaxgeo gravity invert --example dipping-block --out DIR [--methods inr-fourier,tikhonov]
    jaxgeo gravity invert --data DATA.csv|DATA.grv --out DIR [--cell 250 --depth 4000 ...]

Prisms files: CSV with a header naming the columns west, east, south, north, bottom,
top, density (m, kg/m³; any order, extra columns ignored), or a .npy array (n, 7) in
that order. Points files: CSV with columns easting, northing, upward (m) or a .npy
array (m, 3). Writes ``DIR/gravity_<field>.npz``, ``.csv`` and ``.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

PRISM_COLUMNS = ("west", "east", "south", "north", "bottom", "top", "density")
POINT_COLUMNS = ("easting", "northing", "upward")
UNITS = {"potential": "J/kg", "g_e": "mGal", "g_n": "mGal", "g_z": "mGal"}


class InputError(ValueError):
    """A user file that cannot be read; the message names the file, line and column."""


def read_table(path: str | Path, columns: tuple[str, ...]) -> np.ndarray:
    """Read named float columns from a CSV file (header required) or an .npy array.

    Returns an (n, len(columns)) float64 array. Raises InputError naming the file, the
    line and the column of any missing column or unreadable value.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.suffix == ".npy":
        array = np.load(path)
        if array.ndim != 2 or array.shape[1] != len(columns):
            raise InputError(f"{path}: expected an array of shape (n, {len(columns)}) with columns {', '.join(columns)}; got {array.shape}")
        return array.astype(np.float64)
    with path.open(newline="") as handle:
        # keep the file's own line numbers: comment lines are skipped, not renumbered
        lines = [(n, text) for n, text in enumerate(handle, start=1) if not text.lstrip().startswith("#")]
        parsed = list(csv.reader(text for _, text in lines))
        if not parsed:
            raise InputError(f"{path}: the file is empty")
        header = [h.strip().lower() for h in parsed[0]]
        missing = [c for c in columns if c not in header]
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(missing)} in header {header}")
        index = [header.index(c) for c in columns]
        rows = []
        for (line_number, _), row in zip(lines[1:], parsed[1:]):
            if not row or all(not cell.strip() for cell in row):
                continue
            values = []
            for c, i in zip(columns, index):
                try:
                    values.append(float(row[i]))
                except (ValueError, IndexError):
                    cell = row[i] if i < len(row) else "<missing>"
                    raise InputError(f"{path}, line {line_number}, column '{c}': cannot read {cell!r} as a number") from None
            rows.append(values)
    if not rows:
        raise InputError(f"{path}: no data rows")
    return np.asarray(rows, dtype=np.float64)


def _gravity_forward(args) -> int:
    import jax

    jax.config.update("jax_enable_x64", not args.float32)
    from jaxgeo.gravity import prism_gravity
    from jaxgeo.gravity.examples import EXAMPLES
    from jaxgeo.plotting import plot_map

    if args.example:
        example = EXAMPLES[args.example]()
        prisms, density = example["mesh"], example["density"]
        coordinates = example["coordinates"]
        source = f"example '{args.example}' ({prisms.size} prisms on a {prisms.shape} mesh)"
    else:
        if not (args.prisms and args.points):
            print("error: give --example NAME, or both --prisms FILE and --points FILE", file=sys.stderr)
            return 2
        table = read_table(args.prisms, PRISM_COLUMNS)
        prisms, density = table[:, :6], table[:, 6]
        coordinates = tuple(read_table(args.points, POINT_COLUMNS).T)
        source = f"{args.prisms} ({prisms.shape[0]} prisms)"
    dtype = np.float32 if args.float32 else np.float64
    if args.float32:
        coordinates = tuple(np.asarray(c, dtype) for c in coordinates)
        density = np.asarray(density, dtype)
        prisms = prisms if not isinstance(prisms, np.ndarray) else prisms.astype(dtype)
    n_points = np.size(coordinates[0])
    print(f"jaxgeo gravity forward: {args.field} of {source} at {n_points} points ({np.dtype(dtype).name})", flush=True)
    start = time.perf_counter()
    values = np.asarray(prism_gravity(coordinates, prisms, density, field=args.field))
    elapsed = time.perf_counter() - start
    units = UNITS.get(args.field, "Eötvös")
    print(f"  computed in {elapsed:.2f} s (compilation included); range {np.nanmin(values):.6g} … {np.nanmax(values):.6g} {units}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"gravity_{args.field}"
    e, n, u = (np.broadcast_to(c, values.shape) for c in coordinates)
    np.savez(stem.with_suffix(".npz"), easting=e, northing=n, upward=u, values=values, field=args.field, units=units)
    with stem.with_suffix(".csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*POINT_COLUMNS, f"{args.field}_{units}"])
        writer.writerows(zip(e.ravel(), n.ravel(), u.ravel(), values.ravel()))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = plot_map(e, n, values, title=f"{args.field} — {source}", units=units, symmetric=args.field not in ("g_z", "potential"))
    ax.figure.savefig(stem.with_suffix(".png"), dpi=120)
    plt.close(ax.figure)
    meta = {"field": args.field, "units": units, "source": source, "n_points": int(n_points), "dtype": np.dtype(dtype).name, "seconds": elapsed}
    (out / "run.json").write_text(json.dumps(meta, indent=2))
    for suffix in (".npz", ".csv", ".png"):
        print(f"  wrote {stem.with_suffix(suffix)}")
    return 0


def _gravity_invert(args) -> int:
    import jax

    if args.float64:
        jax.config.update("jax_enable_x64", True)
    import dataclasses

    import numpy as np

    from jaxgeo.inversion import FieldConfig, GravityProblem, INRConfig, TikhonovConfig
    from jaxgeo.inversion._io import read_gravity_data
    from jaxgeo.inversion._job import default_mesh, run_job
    from jaxgeo.inversion.synthetic import paper_setup

    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    dtype = "float64" if args.float64 else "float32"
    field = FieldConfig()
    if args.bounds is not None:
        field = dataclasses.replace(field, bounds=tuple(args.bounds))
    inr = dataclasses.replace(INRConfig(field=field, dtype=dtype), max_steps=args.max_steps or INRConfig().max_steps)
    tikhonov = TikhonovConfig(dtype=dtype)
    if args.example:
        from jaxgeo.inversion.synthetic import PRIOR_BOUNDS, PRIOR_DEPTH_GAIN

        if args.bounds is None:  # the example's prior (documented in jaxgeo.inversion.synthetic)
            inr = dataclasses.replace(inr, field=dataclasses.replace(inr.field, bounds=PRIOR_BOUNDS[args.example]),
                                      depth_gain=PRIOR_DEPTH_GAIN[args.example])
        setup = paper_setup(args.example, seed=args.seed)
        if args.depth_gain is not None:
            inr = dataclasses.replace(inr, depth_gain=args.depth_gain)
        problem, truth, description = setup["problem"], setup["truth"], setup["description"]
    else:
        if not args.data:
            print("error: give --example NAME or --data FILE", file=sys.stderr)
            return 2
        if args.depth_gain is not None:
            inr = dataclasses.replace(inr, depth_gain=args.depth_gain)
        table = read_gravity_data(args.data)  # raises DataFileError (file, line, column) before anything is written
        mesh = default_mesh(table, cell=args.cell, cell_z=args.cell_z, depth=args.depth, padding=args.padding, top=args.top)
        problem = GravityProblem(mesh, tuple(table[:, :3].T), table[:, 3], table[:, 4])
        if args.remove_mean:
            problem = GravityProblem(mesh, problem.coordinates, problem.data - np.mean(problem.data), problem.sigma)
        truth, description = None, f"{args.data} ({problem.n_data} stations)"
    metrics = run_job(problem, args.out, methods=methods, truth=truth, inr_config=inr, tikhonov_config=tikhonov,
                      seed=args.seed, description=description, progress=not args.no_progress)
    out = Path(args.out)
    print(f"  wrote {out / 'model.npz'}, {out / 'metrics.json'}, {out / 'sections.png'}, {out / 'data_fit.png'}")
    del metrics
    return 0


def build_parser() -> argparse.ArgumentParser:
    from jaxgeo.gravity import FIELD_NAMES
    from jaxgeo.gravity.examples import EXAMPLES

    parser = argparse.ArgumentParser(prog="jaxgeo", description="Differentiable geophysics in JAX.")
    commands = parser.add_subparsers(dest="command", required=True)
    gravity = commands.add_parser("gravity", help="gravity of prisms").add_subparsers(dest="action", required=True)
    forward = gravity.add_parser("forward", help="forward-model a field of prisms at observation points")
    source = forward.add_mutually_exclusive_group()
    source.add_argument("--example", choices=sorted(EXAMPLES), help="an embedded model")
    source.add_argument("--prisms", help="CSV (west,east,south,north,bottom,top,density) or .npy (n, 7)")
    forward.add_argument("--points", help="CSV (easting,northing,upward) or .npy (m, 3); with --prisms")
    forward.add_argument("--field", default="g_z", choices=FIELD_NAMES, help="field to compute (default g_z)")
    forward.add_argument("--out", default="jaxgeo-output", help="output folder (default jaxgeo-output)")
    forward.add_argument("--float32", action="store_true", help="compute in float32 (default float64)")
    forward.set_defaults(handler=_gravity_forward)

    from jaxgeo.inversion._job import DEFAULT_METHODS, METHODS
    from jaxgeo.inversion.synthetic import MODELS

    invert = gravity.add_parser(
        "invert", help="invert g_z data for density (INR and classical)",
        description="Invert g_z data for the density contrast on a prism mesh with an implicit neural "
        "representation (Fourier features by default) and/or the Li & Oldenburg Tikhonov baseline.",
    )
    data = invert.add_mutually_exclusive_group()
    data.add_argument("--example", choices=sorted(MODELS), help="the synthetic set-up of Mishra et al. (2026)")
    data.add_argument("--data", help="CSV (easting,northing,upward,value,sigma; m, mGal) or UBC .grv file")
    invert.add_argument("--out", default="jaxgeo-output", help="output folder (default jaxgeo-output)")
    invert.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                        help=f"comma-separated, from {', '.join(METHODS)} (default {','.join(DEFAULT_METHODS)})")
    invert.add_argument("--cell", type=float, help="horizontal cell size, m (default: median station spacing)")
    invert.add_argument("--cell-z", type=float, help="vertical cell size, m (default: --cell)")
    invert.add_argument("--depth", type=float, help="mesh depth below its top, m (default: half the mesh width)")
    invert.add_argument("--padding", type=float, help="mesh padding around the stations, m (default: 2 cells)")
    invert.add_argument("--top", type=float, help="upward coordinate of the mesh top, m (default: lowest station)")
    invert.add_argument("--remove-mean", action="store_true", help="subtract the data mean (regional level) first")
    invert.add_argument("--bounds", type=float, nargs=2, metavar=("LOW", "HIGH"), help="INR density bounds, kg/m³")
    invert.add_argument("--depth-gain", type=float, help="INR depth weighting exponent (default 0; the example's prior otherwise)")
    invert.add_argument("--max-steps", type=int, help="INR optimiser steps at most")
    invert.add_argument("--seed", type=int, default=0, help="seed of the network initialisation and of the example's noise")
    invert.add_argument("--float64", action="store_true", help="compute in float64 (default float32)")
    invert.add_argument("--no-progress", action="store_true", help="no progress bar")
    invert.set_defaults(handler=_gravity_invert)

    from jaxgeo.gquery._cli import register as _register_gquery

    _register_gquery(commands)
    from jaxgeo.mcmc._cli import register as _register_mcmc

    _register_mcmc(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (InputError, ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
