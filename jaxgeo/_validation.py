"""Input validation shared by all operators.

Every public operator validates its inputs *outside* ``jit`` through these helpers and
raises ``ValueError`` naming the argument, the offending index and the value. The
helpers accept anything array-like; traced values (inside ``jit``) cannot be inspected,
so callers skip validation when they get one (see :func:`is_traced`).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np

__all__ = [
    "is_traced",
    "as_host_array",
    "check_finite",
    "check_positive",
    "check_nonnegative",
    "check_same_length",
    "check_choice",
    "validate_layered_model",
]


def is_traced(*values) -> bool:
    """True if any value (or leaf of a pytree) is a JAX tracer, i.e. we are inside a transform."""
    leaves = jax.tree_util.tree_leaves(values)
    return any(isinstance(leaf, jax.core.Tracer) for leaf in leaves)


def as_host_array(value, name: str) -> np.ndarray:
    """Convert to a NumPy array (on the host) or raise a ValueError naming ``name``."""
    try:
        return np.asarray(value)
    except Exception as err:  # pragma: no cover - exotic inputs
        raise ValueError(f"argument '{name}' could not be converted to an array: {err}") from err


def _first_bad(mask: np.ndarray) -> tuple[int, ...]:
    index = np.argwhere(mask)[0]
    return tuple(int(i) for i in index)


def _format_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def check_finite(value, name: str) -> np.ndarray:
    """Raise if any entry is NaN or infinite, naming the first offending index."""
    array = as_host_array(value, name)
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"argument '{name}' must be numeric, got dtype {array.dtype}")
    bad = ~np.isfinite(array)
    if bad.any():
        index = _first_bad(bad)
        raise ValueError(
            f"argument '{name}' has a non-finite value {array[index].item()!r} at index "
            f"{_format_index(index)} ({int(bad.sum())} non-finite entries in all)"
        )
    return array


def check_positive(value, name: str) -> np.ndarray:
    """Raise unless every entry is finite and strictly positive."""
    array = check_finite(value, name)
    bad = array <= 0
    if bad.any():
        index = _first_bad(bad)
        raise ValueError(
            f"argument '{name}' must be positive, got {array[index].item()!r} at index "
            f"{_format_index(index)}"
        )
    return array


def check_nonnegative(value, name: str) -> np.ndarray:
    """Raise unless every entry is finite and >= 0."""
    array = check_finite(value, name)
    bad = array < 0
    if bad.any():
        index = _first_bad(bad)
        raise ValueError(
            f"argument '{name}' must be non-negative, got {array[index].item()!r} at index "
            f"{_format_index(index)}"
        )
    return array


def check_same_length(arrays: Sequence[np.ndarray], names: Sequence[str], axis: int = -1) -> None:
    """Raise unless all arrays have the same length along ``axis``."""
    lengths = [np.shape(a)[axis] if np.ndim(a) else 1 for a in arrays]
    if len(set(lengths)) > 1:
        detail = ", ".join(f"'{n}' has {length}" for n, length in zip(names, lengths))
        raise ValueError(f"arguments must have the same length: {detail}")


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    """Raise unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(
            f"argument '{name}' must be one of {', '.join(repr(c) for c in choices)}; got {value!r}"
        )
    return value


def validate_layered_model(thickness, vp, vs, rho) -> None:
    """Validate a 1-D layered model (km, km/s, km/s, g/cm³; last row the half-space).

    Checks equal lengths along the last axis, finite values, thickness >= 0, positive
    velocities and density, and vs < vp / sqrt(2) (positive Poisson ratio bound used by
    surface-wave and receiver-function codes). Leading batch axes are allowed. Raises
    ``ValueError`` naming the argument and the offending index.
    """
    arrays = [as_host_array(a, n) for a, n in zip((thickness, vp, vs, rho), ("thickness", "vp", "vs", "rho"))]
    names = ("thickness", "vp", "vs", "rho")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        detail = ", ".join(f"'{n}' has shape {a.shape}" for n, a in zip(names, arrays))
        raise ValueError(f"layered-model arrays must have the same shape: {detail}")
    if arrays[0].ndim == 0 or arrays[0].shape[-1] < 1:
        raise ValueError("layered-model arrays must have at least one layer (the half-space)")
    check_nonnegative(arrays[0], "thickness")
    check_positive(arrays[1], "vp")
    check_positive(arrays[2], "vs")
    check_positive(arrays[3], "rho")
    bad = arrays[2] >= arrays[1] / np.sqrt(2.0)
    if bad.any():
        index = _first_bad(bad)
        raise ValueError(
            f"argument 'vs' must be below vp/sqrt(2): vs={arrays[2][index].item()!r} and "
            f"vp={arrays[1][index].item()!r} at index {_format_index(index)}"
        )
