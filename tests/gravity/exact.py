"""Reference values of prism fields in 50-digit arithmetic (mpmath).

The closed-form 8-vertex sum evaluated with 50 significant digits is exact to float64
rounding at any distance: the cancellation that ruins it in float64 far from the prism
(terms ~R², sum ~V/R) costs at most ~20 of the 50 digits at 1e6 prism sizes. Inputs are
taken as the exact binary values of their float64 representation.
"""

from __future__ import annotations

import math

import mpmath as mp

G = mp.mpf("6.6743e-11")


def _slog(x, y, z, r):
    if r == 0:
        return mp.mpf(0)
    if x >= 0:
        return mp.log(x + r)
    if y == 0 and z == 0:
        return -mp.log(-2 * x)
    return mp.log((y * y + z * z) / (r - x))


def _satan(a, b):
    if b == 0:
        return mp.pi / 2 * (1 if a > 0 else (-1 if a < 0 else 0))
    return mp.atan(a / b)


_KERNELS = {
    "potential": lambda x, y, z, r: x * y * _slog(z, x, y, r) + y * z * _slog(x, y, z, r) + z * x * _slog(y, z, x, r)
    - x * x / 2 * _satan(y * z, x * r) - y * y / 2 * _satan(z * x, y * r) - z * z / 2 * _satan(x * y, z * r),
    "g_e": lambda x, y, z, r: -(y * _slog(z, x, y, r) + z * _slog(y, z, x, r) - x * _satan(y * z, x * r)),
    "g_n": lambda x, y, z, r: -(z * _slog(x, y, z, r) + x * _slog(z, x, y, r) - y * _satan(z * x, y * r)),
    "g_z": lambda x, y, z, r: -(x * _slog(y, z, x, r) + y * _slog(x, y, z, r) - z * _satan(x * y, z * r)),
    "g_ee": lambda x, y, z, r: -_satan(y * z, x * r),
    "g_nn": lambda x, y, z, r: -_satan(z * x, y * r),
    "g_zz": lambda x, y, z, r: -_satan(x * y, z * r),
    "g_en": lambda x, y, z, r: _slog(z, x, y, r),
    "g_ez": lambda x, y, z, r: _slog(y, z, x, r),
    "g_nz": lambda x, y, z, r: _slog(x, y, z, r),
}
_SIGN = {"g_z": -1, "g_ez": -1, "g_nz": -1}
_UNIT = {"potential": 1, "g_e": 1e5, "g_n": 1e5, "g_z": 1e5}
_FACE_AXIS = {"g_ee": 0, "g_nn": 1, "g_zz": 2}
_SINGULAR_EDGES = {"g_ee": (1, 2), "g_nn": (0, 2), "g_zz": (0, 1), "g_en": (2,), "g_ez": (1,), "g_nz": (0,)}


def exact_field(point, prism, density, field, dps=50):
    """Exact field of one prism at one point (harmonica's units and signs), or NaN.

    NaN where harmonica's field is undefined (tensor components on some edges); on a
    face, the diagonal component normal to it is the limit from outside.
    """
    with mp.workdps(dps):
        e, n, u = (mp.mpf(float(c)) for c in point)
        bounds = [mp.mpf(float(c)) for c in prism]
        shifted = [bounds[0] - e, bounds[1] - e, bounds[2] - n, bounds[3] - n, bounds[4] - u, bounds[5] - u]
        lo, hi = shifted[0::2], shifted[1::2]
        for axis in _SINGULAR_EDGES.get(field, ()):
            others = [a for a in range(3) if a != axis]
            if lo[axis] <= 0 <= hi[axis] and all(lo[a] == 0 or hi[a] == 0 for a in others):
                return math.nan
        total = mp.mpf(0)
        for i, x in enumerate((lo[0], hi[0])):
            for j, y in enumerate((lo[1], hi[1])):
                for k, z in enumerate((lo[2], hi[2])):
                    r = mp.sqrt(x * x + y * y + z * z)
                    total += (-1) ** (i + j + k + 1) * _KERNELS[field](x, y, z, r)
        axis = _FACE_AXIS.get(field)
        if axis is not None:
            others = [a for a in range(3) if a != axis]
            if hi[axis] == 0 and all(lo[a] < 0 < hi[a] for a in others):
                total += 4 * mp.pi
        value = total * G * mp.mpf(float(density)) * _SIGN.get(field, 1) * _UNIT.get(field, mp.mpf(10) ** 9)
        return float(value)


def exact_fields(points, prisms, densities, field):
    """Sum of exact fields over prisms at each point: points (P, 3), prisms (M, 6)."""
    out = []
    for p in points:
        with mp.workdps(50):
            values = [exact_field(p, pr, d, field) for pr, d in zip(prisms, densities)]
        out.append(math.nan if any(math.isnan(v) for v in values) else float(mp.fsum(values)))
    return out
