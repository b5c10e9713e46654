"""The ``jaxgeo`` command.

    jaxgeo gravity forward --example dipping-block --out DIR [--field g_z]
    jaxgeo gravity forward --prisms PRISMS.csv --points POINTS.csv --out DIR [--field g_zz]

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
        reader = csv.reader(line for line in handle if not line.lstrip().startswith("#"))
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise InputError(f"{path}: the file is empty") from None
        missing = [c for c in columns if c not in header]
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(missing)} in header {header}")
        index = [header.index(c) for c in columns]
        rows = []
        for line_number, row in enumerate(reader, start=2):
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (InputError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
