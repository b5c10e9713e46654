"""Reading gravity data files, with errors that name the file and the line.

Two formats:

- CSV with a header naming the columns ``easting, northing, upward, value, sigma``
  (m, m, m, mGal, mGal; any order, extra columns ignored; ``#`` comment lines
  allowed);
- the UBC-GIF observation format (``.grv`` / ``.obs``): the first non-comment line is
  the number of stations, then one line per station ``easting northing elevation
  value sigma``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA_COLUMNS = ("easting", "northing", "upward", "value", "sigma")


class DataFileError(ValueError):
    """A data file that cannot be used; the message names the file and the line."""


def _number(text: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataFileError(f"{path}, line {line}, column '{column}': cannot read {text!r} as a number") from None
    if not np.isfinite(value):
        raise DataFileError(f"{path}, line {line}, column '{column}': value {text!r} is not finite")
    return value


def _check_sigma(rows: list[tuple[int, list[float]]], path: Path) -> None:
    for line, values in rows:
        if values[4] <= 0:
            raise DataFileError(f"{path}, line {line}, column 'sigma': σ must be > 0, got {values[4]!r}")


def _lines(path: Path):
    """(line number, stripped text) of the non-blank, non-comment lines."""
    with path.open() as handle:
        for number, text in enumerate(handle, start=1):
            text = text.strip()
            if text and not text.startswith(("#", "!", "%")):
                yield number, text


def read_csv_data(path: Path) -> np.ndarray:
    lines = list(_lines(path))
    if not lines:
        raise DataFileError(f"{path}: the file holds no header and no data")
    header_line, header_text = lines[0]
    header = [h.strip().lower() for h in header_text.split(",")]
    missing = [c for c in DATA_COLUMNS if c not in header]
    if missing:
        raise DataFileError(
            f"{path}, line {header_line}: missing column(s) {', '.join(missing)}; the header must name "
            f"{', '.join(DATA_COLUMNS)} (got {', '.join(header)})"
        )
    index = [header.index(c) for c in DATA_COLUMNS]
    rows = []
    for number, text in lines[1:]:
        cells = [c.strip() for c in text.split(",")]
        if len(cells) < len(header):
            raise DataFileError(f"{path}, line {number}: {len(cells)} values, the header has {len(header)} columns")
        rows.append((number, [_number(cells[i], path, number, c) for c, i in zip(DATA_COLUMNS, index)]))
    if not rows:
        raise DataFileError(f"{path}: no data rows after the header")
    _check_sigma(rows, path)
    return np.asarray([r for _, r in rows], dtype=np.float64)


def read_ubc_data(path: Path) -> np.ndarray:
    lines = list(_lines(path))
    if not lines:
        raise DataFileError(f"{path}: empty file")
    first_line, first = lines[0]
    try:
        count = int(first.split()[0])
    except ValueError:
        raise DataFileError(f"{path}, line {first_line}: expected the number of stations, got {first!r}") from None
    rows = []
    for number, text in lines[1:]:
        cells = text.split()
        if len(cells) < 5:
            raise DataFileError(
                f"{path}, line {number}: expected 5 values (easting northing elevation value sigma), got {len(cells)}"
            )
        rows.append((number, [_number(cells[i], path, number, c) for i, c in enumerate(DATA_COLUMNS)]))
    if len(rows) != count:
        raise DataFileError(f"{path}, line {first_line}: announces {count} stations but the file holds {len(rows)}")
    _check_sigma(rows, path)
    return np.asarray([r for _, r in rows], dtype=np.float64)


def read_gravity_data(path) -> np.ndarray:
    """Read stations, g_z data and σ from a CSV or UBC file.

    Returns
    -------
    array (n, 5): easting, northing, upward (m), value, sigma (mGal).

    Raises
    ------
    DataFileError naming the file, line and column of the first problem: a missing
    column, a non-numeric or non-finite value, σ ≤ 0, a wrong station count.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    if path.suffix.lower() in (".grv", ".obs", ".dat"):
        return read_ubc_data(path)
    return read_csv_data(path)
