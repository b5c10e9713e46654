"""A gravity inverse problem on a prism mesh: data, their σ, and the forward operator.

The forward operator maps a density grid (n_east, n_north, n_up) kg/m³ to g_z at the
stations (mGal). It is built once as a dense sensitivity matrix when that fits in
``max_dense_bytes``, otherwise it is the matrix-free mesh path of
:func:`jaxgeo.gravity.prism_gravity` (shared vertices, O(block) memory), whose
gradient JAX derives by transposition. Both are pytrees, so they are passed to
jitted training steps as arguments rather than baked in as constants.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ..gravity import PrismMesh, prism_gravity, prism_gravity_jacobian
from .._validation import check_finite, check_positive

DEFAULT_MAX_DENSE_BYTES = 1 << 30


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class DenseOperator:
    """g = G ρ with a stored sensitivity matrix G (n_data, n_cells), mGal per kg/m³."""

    matrix: jax.Array
    kind: str = dataclasses.field(default="dense", metadata={"static": True})

    def __call__(self, density):
        return self.matrix @ density.reshape(-1)

    def transpose(self, residual):
        """Gᵀ r, flat (n_cells,)."""
        return residual @ self.matrix

    def columns(self, densities):
        """G applied to k density grids (k, ...) at once: (n_data, k), one matrix product.

        The (n_data, k) layout keeps G the left operand of both this product and its
        transpose; the (k, n_data) product that ``vmap`` gives is about twice as slow
        on CPU.
        """
        return self.matrix @ densities.reshape(densities.shape[0], -1).T


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class MeshOperator:
    """g = prism_gravity(stations, mesh, ρ): matrix-free, memory O(blocks)."""

    mesh: PrismMesh
    coordinates: tuple
    kind: str = dataclasses.field(default="matrix-free", metadata={"static": True})

    def __call__(self, density):
        return prism_gravity(self.coordinates, self.mesh, density.reshape(self.mesh.shape), "g_z", validate=False).reshape(-1)

    def transpose(self, residual):
        """Gᵀ r by reverse-mode differentiation of the (linear) forward operator."""
        zeros = jnp.zeros(self.mesh.size, residual.dtype)
        _, vjp = jax.vjp(self.__call__, zeros)
        return vjp(residual)[0]

    def columns(self, densities):
        """The operator on k density grids (k, ...): (n_data, k)."""
        return jax.vmap(self.__call__)(densities).T


@dataclasses.dataclass(frozen=True)
class GravityProblem:
    """Observed g_z (mGal, downward positive) at stations above a prism mesh.

    Attributes
    ----------
    mesh : PrismMesh
        The cells whose density contrast (kg/m³) is sought.
    coordinates : (easting, northing, upward), each (n_data,), m
    data : (n_data,) mGal
    sigma : (n_data,) mGal, standard deviation of each datum (> 0)
    """

    mesh: PrismMesh
    coordinates: tuple
    data: np.ndarray
    sigma: np.ndarray

    def __post_init__(self):
        coords = tuple(np.asarray(c, dtype=np.float64).reshape(-1) for c in self.coordinates)
        if len(coords) != 3:
            raise ValueError(f"coordinates must be (easting, northing, upward); got {len(coords)} arrays")
        n = coords[0].shape[0]
        data = np.asarray(self.data, dtype=np.float64).reshape(-1)
        sigma = np.broadcast_to(np.asarray(self.sigma, dtype=np.float64), data.shape).copy()
        for name, array in zip(("easting", "northing", "upward", "data", "sigma"), coords + (data, sigma)):
            if array.shape[0] != n:
                raise ValueError(f"{name} has {array.shape[0]} values but easting has {n}")
            check_finite(array, name)
        check_positive(sigma, "sigma")
        object.__setattr__(self, "coordinates", coords)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "sigma", sigma)

    @property
    def n_data(self) -> int:
        return self.data.shape[0]

    def dense_bytes(self, dtype=jnp.float32) -> int:
        """Memory of the dense sensitivity matrix in ``dtype``."""
        return self.n_data * self.mesh.size * jnp.dtype(dtype).itemsize

    def operator(self, *, dtype=jnp.float32, max_dense_bytes: int = DEFAULT_MAX_DENSE_BYTES, kind: str = "auto"):
        """The forward operator: ``"dense"`` if it fits in ``max_dense_bytes`` (or if
        asked), else ``"matrix-free"``. Returns a DenseOperator or MeshOperator."""
        if kind not in ("auto", "dense", "matrix-free"):
            raise ValueError(f"kind must be 'auto', 'dense' or 'matrix-free'; got {kind!r}")
        if kind == "auto":
            kind = "dense" if self.dense_bytes(dtype) <= max_dense_bytes else "matrix-free"
        # Shift to a local origin in float64 first: UTM coordinates (1e6–1e7 m) would
        # lose metres if cast to float32 as they are.
        edges = [np.asarray(a, np.float64) for a in (self.mesh.easting, self.mesh.northing, self.mesh.upward)]
        origin = (edges[0][0], edges[1][0], edges[2][-1])
        mesh = PrismMesh(*(jnp.asarray(a - o, dtype) for a, o in zip(edges, origin)))
        coords = tuple(jnp.asarray(c - o, dtype) for c, o in zip(self.coordinates, origin))
        if kind == "dense":
            return DenseOperator(prism_gravity_jacobian(coords, mesh, "g_z"))
        return MeshOperator(mesh, coords)


def standardized_centers(mesh: PrismMesh, n_sub: int = 1, dtype=jnp.float32):
    """Sample points of every cell in standardised coordinates.

    Each cell is split into n_sub³ equal sub-cells whose centres are the samples;
    coordinates are shifted and scaled by the mean and standard deviation of the cell
    centres along each axis (the same transform for every sample).

    Returns
    -------
    array (n_east, n_north, n_up, n_sub³, 3)
    """
    axes_c, axes_s = [], []
    for edges in (np.asarray(mesh.easting, np.float64), np.asarray(mesh.northing, np.float64), np.asarray(mesh.upward, np.float64)):
        width = np.diff(edges)
        fractions = (np.arange(n_sub) + 0.5) / n_sub
        axes_s.append(edges[:-1, None] + width[:, None] * fractions[None, :])
        axes_c.append(0.5 * (edges[1:] + edges[:-1]))
    centers = np.stack(np.meshgrid(*axes_c, indexing="ij"), axis=-1).reshape(-1, 3)
    mean, std = centers.mean(axis=0), centers.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    se, sn, su = axes_s
    grid = np.stack(
        np.broadcast_arrays(
            se[:, None, None, :, None, None], sn[None, :, None, None, :, None], su[None, None, :, None, None, :]
        ),
        axis=-1,
    )
    shape = mesh.shape
    grid = grid.reshape(*shape, n_sub**3, 3)
    return jnp.asarray((grid - mean) / std, dtype)


def depth_weights(mesh: PrismMesh, *, exponent: float = 2.0, z0: float | None = None):
    """Li & Oldenburg (1998, doi:10.1190/1.1444302) depth weighting w = (d + z0)^(−β/2).

    d is the depth of each cell centre below the top of the mesh (m), z0 defaults to
    half the thinnest cell, β = ``exponent`` (2 for gravity). Normalised to max 1.
    Returns an array of the mesh's shape.
    """
    up = np.asarray(mesh.upward, np.float64)
    if z0 is None:
        z0 = 0.5 * float(np.min(np.diff(up)))
    depth = up[-1] - 0.5 * (up[1:] + up[:-1])
    w = (depth + z0) ** (-exponent / 2.0)
    w = w / w.max()
    return np.broadcast_to(w[None, None, :], mesh.shape).copy()
