"""Per-vertex and point-mass kernels of the right-rectangular prism.

All kernels are geometric: multiply by G·ρ (SI) to get the field in SI units. They use
*upward* components; the user-facing wrapper flips the sign of the z components
(``g_z``, ``g_ez``, ``g_nz`` are downward) and converts units.

Vertex kernels ``k(x, y, z, r, s)`` take the shifted coordinates of one prism vertex,
x = vertex easting − point easting (likewise y, z), r = sqrt(x² + y² + z²) and
s = 1/L, the inverse of a length common to all vertices of a prism by which log
arguments are divided (see :func:`jaxgeo.gravity._safe.safe_log`). The
field of a prism is the alternating 8-vertex sum

    f(p) = Σ_{i,j,k ∈ {1,2}} (−1)^{i+j+k} k(x_i, y_j, z_k),

with index 2 the upper bound (east, north, top). Closed forms from Nagy, Papp & Benedek
(2000), doi:10.1007/s001900000116, and Nagy et al. (2002), doi:10.1007/s00190-002-0264-7,
with the limits of Fukushima (2020), doi:10.1093/gji/ggaa380.

Point-mass kernels ``m(dx, dy, dz, inv_d)`` take the offset from the observation point
to a source point (dx = source − point) and 1/|d|. Integrated over the prism by
Gauss–Legendre quadrature they give the same field; far from the prism that is exact to
rounding, while the 8-vertex sum loses digits to cancellation there.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from ._safe import safe_arctan, safe_log

# --- vertex kernels (closed forms) -------------------------------------------------------


def vertex_potential(x, y, z, r, s):
    return (
        x * y * safe_log(z, x, y, r, s)
        + y * z * safe_log(x, y, z, r, s)
        + z * x * safe_log(y, z, x, r, s)
        - 0.5 * x * x * safe_arctan(y * z, x * r)
        - 0.5 * y * y * safe_arctan(z * x, y * r)
        - 0.5 * z * z * safe_arctan(x * y, z * r)
    )


def vertex_e(x, y, z, r, s):
    return -(y * safe_log(z, x, y, r, s) + z * safe_log(y, z, x, r, s) - x * safe_arctan(y * z, x * r))


def vertex_n(x, y, z, r, s):
    return -(z * safe_log(x, y, z, r, s) + x * safe_log(z, x, y, r, s) - y * safe_arctan(z * x, y * r))


def vertex_u(x, y, z, r, s):
    return -(x * safe_log(y, z, x, r, s) + y * safe_log(x, y, z, r, s) - z * safe_arctan(x * y, z * r))


def vertex_ee(x, y, z, r, s):
    return -safe_arctan(y * z, x * r)


def vertex_nn(x, y, z, r, s):
    return -safe_arctan(z * x, y * r)


def vertex_uu(x, y, z, r, s):
    return -safe_arctan(x * y, z * r)


def vertex_en(x, y, z, r, s):
    return safe_log(z, x, y, r, s)


def vertex_eu(x, y, z, r, s):
    return safe_log(y, z, x, r, s)


def vertex_nu(x, y, z, r, s):
    return safe_log(x, y, z, r, s)


# --- point-mass kernels (for Gauss–Legendre quadrature far from the prism) ------------------


def mass_potential(dx, dy, dz, inv_d):
    return inv_d


def mass_e(dx, dy, dz, inv_d):
    return dx * inv_d**3


def mass_n(dx, dy, dz, inv_d):
    return dy * inv_d**3


def mass_u(dx, dy, dz, inv_d):
    return dz * inv_d**3


def mass_ee(dx, dy, dz, inv_d):
    return (3.0 * dx * dx * inv_d**2 - 1.0) * inv_d**3


def mass_nn(dx, dy, dz, inv_d):
    return (3.0 * dy * dy * inv_d**2 - 1.0) * inv_d**3


def mass_uu(dx, dy, dz, inv_d):
    return (3.0 * dz * dz * inv_d**2 - 1.0) * inv_d**3


def mass_en(dx, dy, dz, inv_d):
    return 3.0 * dx * dy * inv_d**5


def mass_eu(dx, dy, dz, inv_d):
    return 3.0 * dx * dz * inv_d**5


def mass_nu(dx, dy, dz, inv_d):
    return 3.0 * dy * dz * inv_d**5


class Field(NamedTuple):
    """Everything the assembly needs to know about one field.

    vertex, mass : the two kernels.
    sign : +1, or −1 for components along the downward axis.
    unit : SI → output units (1 for J/kg, 1e5 for mGal, 1e9 for Eötvös).
    singular_edges : axes (0 easting, 1 northing, 2 upward) of the prism edges on which
        the field is undefined (NaN), as in harmonica.
    face_axis : for diagonal tensor components, the axis whose upper face needs the
        4π jump so that the value there is the limit from outside; else None.
    terms : the vertex kernel as a sum of terms (kind, axis, scale, powers), read by
        the paired 8-vertex sum (:func:`jaxgeo.gravity._prism.paired_near_field`):
        kind ``"log"`` is ln(a + r) with a the coordinate along ``axis`` (a
        :func:`safe_log`), kind ``"atan"`` is arctan(b·c / (a·r)) (a
        :func:`safe_arctan`); each is multiplied by scale·x^px·y^py·z^pz with
        powers = (px, py, pz). None (the diagonal tensor components, whose face
        conventions rest on the per-vertex arctan) keeps the per-vertex sum.
    """

    vertex: Callable
    mass: Callable
    sign: float
    unit: float
    singular_edges: tuple[int, ...]
    face_axis: int | None
    terms: tuple[tuple[str, int, float, tuple[int, int, int]], ...] | None = None


# Term tables of the vertex kernels above (axis 0 easting, 1 northing, 2 upward). A
# log term's coefficient never involves its own axis, and an arctan term's only its
# own axis: that is what lets the paired sum combine vertices before the logarithm.
_E, _N, _U = 0, 1, 2
_TERMS = {
    "potential": (
        ("log", _U, 1.0, (1, 1, 0)), ("log", _E, 1.0, (0, 1, 1)), ("log", _N, 1.0, (1, 0, 1)),
        ("atan", _E, -0.5, (2, 0, 0)), ("atan", _N, -0.5, (0, 2, 0)), ("atan", _U, -0.5, (0, 0, 2)),
    ),
    "g_e": (("log", _U, -1.0, (0, 1, 0)), ("log", _N, -1.0, (0, 0, 1)), ("atan", _E, 1.0, (1, 0, 0))),
    "g_n": (("log", _E, -1.0, (0, 0, 1)), ("log", _U, -1.0, (1, 0, 0)), ("atan", _N, 1.0, (0, 1, 0))),
    "g_z": (("log", _N, -1.0, (1, 0, 0)), ("log", _E, -1.0, (0, 1, 0)), ("atan", _U, 1.0, (0, 0, 1))),
    "g_en": (("log", _U, 1.0, (0, 0, 0)),),
    "g_ez": (("log", _N, 1.0, (0, 0, 0)),),
    "g_nz": (("log", _E, 1.0, (0, 0, 0)),),
}

FIELDS: dict[str, Field] = {
    "potential": Field(vertex_potential, mass_potential, 1.0, 1.0, (), None, _TERMS["potential"]),
    "g_e": Field(vertex_e, mass_e, 1.0, 1e5, (), None, _TERMS["g_e"]),
    "g_n": Field(vertex_n, mass_n, 1.0, 1e5, (), None, _TERMS["g_n"]),
    "g_z": Field(vertex_u, mass_u, -1.0, 1e5, (), None, _TERMS["g_z"]),
    "g_ee": Field(vertex_ee, mass_ee, 1.0, 1e9, (1, 2), 0),
    "g_nn": Field(vertex_nn, mass_nn, 1.0, 1e9, (0, 2), 1),
    "g_zz": Field(vertex_uu, mass_uu, 1.0, 1e9, (0, 1), 2),
    "g_en": Field(vertex_en, mass_en, 1.0, 1e9, (2,), None, _TERMS["g_en"]),
    "g_ez": Field(vertex_eu, mass_eu, -1.0, 1e9, (1,), None, _TERMS["g_ez"]),
    "g_nz": Field(vertex_nu, mass_nu, -1.0, 1e9, (0,), None, _TERMS["g_nz"]),
}

#: Gravitational constant in m³ kg⁻¹ s⁻² (CODATA 2018, the value harmonica uses).
GRAVITATIONAL_CONST = 6.6743e-11
