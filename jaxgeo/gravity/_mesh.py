"""Regular tensor meshes of prisms and the vertex-sharing evaluation."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ._kernels import Field
from ._prism import Accuracy, combine, log_scale, masked_density_sum
from ._safe import safe_norm


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class PrismMesh:
    """A regular tensor mesh of right-rectangular prisms, given by its cell edges.

    Parameters
    ----------
    easting : array (n_east + 1,)
        Cell edges along easting (m), non-decreasing.
    northing : array (n_north + 1,)
        Cell edges along northing (m), non-decreasing.
    upward : array (n_up + 1,)
        Cell edges along upward (m), non-decreasing (bottom to top).

    Cell (i, j, k) spans [easting[i], easting[i+1]] × [northing[j], northing[j+1]] ×
    [upward[k], upward[k+1]]. Densities are arrays of shape ``shape`` = (n_east,
    n_north, n_up), or flat in the same (C) order, which is also the row order of
    :meth:`prisms`. A PrismMesh is a pytree: ``jax.grad`` with respect to a mesh returns
    a PrismMesh of edge gradients.
    """

    easting: jax.Array
    northing: jax.Array
    upward: jax.Array

    @property
    def shape(self) -> tuple[int, int, int]:
        """Number of cells along (easting, northing, upward)."""
        return (self.easting.shape[0] - 1, self.northing.shape[0] - 1, self.upward.shape[0] - 1)

    @property
    def size(self) -> int:
        """Number of cells."""
        n_e, n_n, n_u = self.shape
        return n_e * n_n * n_u

    def prisms(self) -> jax.Array:
        """The cells as an (n, 6) array of (west, east, south, north, bottom, top), m."""
        e, n, u = (jnp.asarray(a) for a in (self.easting, self.northing, self.upward))
        grids = jnp.meshgrid(*(jnp.arange(s) for s in self.shape), indexing="ij")
        i, j, k = (g.ravel() for g in grids)
        return jnp.stack([e[i], e[i + 1], n[j], n[j + 1], u[k], u[k + 1]], axis=-1)

    def centers(self) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Cell centres (easting, northing, upward), each of shape ``shape`` (m)."""
        c = [0.5 * (jnp.asarray(a)[1:] + jnp.asarray(a)[:-1]) for a in (self.easting, self.northing, self.upward)]
        return tuple(jnp.meshgrid(*c, indexing="ij"))

    @classmethod
    def regular(cls, region, shape, bottom, top) -> "PrismMesh":
        """Equal cells over ``region`` = (west, east, south, north) from bottom to top (m)."""
        west, east, south, north = region
        n_e, n_n, n_u = shape
        return cls(
            jnp.linspace(west, east, n_e + 1),
            jnp.linspace(south, north, n_n + 1),
            jnp.linspace(bottom, top, n_u + 1),
        )


def _split_edges(edges, block: int):
    """Pad edges to a multiple of ``block`` cells (zero-width cells) and split into
    overlapping windows of block + 1 edges: (n_blocks, block + 1)."""
    n_cells = edges.shape[0] - 1
    n_blocks = -(-n_cells // block)
    pad = n_blocks * block - n_cells
    padded = jnp.concatenate([edges, jnp.broadcast_to(edges[-1:], (pad,))])
    index = jnp.arange(n_blocks)[:, None] * block + jnp.arange(block + 1)[None, :]
    return padded[index], pad


def _boxes(mesh: PrismMesh, cell_block):
    """Cut the mesh into boxes of cell_block cells; returns per-box edges and padding."""
    # At most cell_block cells per box. Along easting and northing the cells are split
    # evenly, so that little padding is needed (40 cells in boxes of at most 16: 3 of
    # 14, not 16 + 16 + 8 and 8 padding cells). Along upward, the minor axis of the
    # per-cell arrays that XLA vectorises, the box keeps the requested size.
    block = tuple(
        -(-s // -(-s // min(b, s))) if axis < 2 else min(b, s)
        for axis, (b, s) in enumerate(zip(cell_block, mesh.shape))
    )
    (ex, pad_e), (ey, pad_n), (ez, pad_u) = (
        _split_edges(edges, b) for edges, b in zip((mesh.easting, mesh.northing, mesh.upward), block)
    )
    n_be, n_bn, n_bu = ex.shape[0], ey.shape[0], ez.shape[0]
    box_e = jnp.repeat(ex, n_bn * n_bu, axis=0)
    box_n = jnp.tile(jnp.repeat(ey, n_bu, axis=0), (n_be, 1))
    box_u = jnp.tile(ez, (n_be * n_bn, 1))
    return block, (n_be, n_bn, n_bu), (pad_e, pad_n, pad_u), (box_e, box_n, box_u)


def _difference_matrix(n_edges: int, dtype):
    """(n_edges − 1, n_edges) matrix D with (D @ v)[i] = v[i + 1] − v[i]."""
    eye = np.eye(n_edges)
    return jnp.asarray(eye[1:] - eye[:-1], dtype=dtype)


def _offsets(pts, e_edges, n_edges, u_edges):
    """Edge offsets from each point (P, b+1) along the three axes, and the cells' bounds."""
    X = e_edges[None, :] - pts[:, 0:1]
    Y = n_edges[None, :] - pts[:, 1:2]
    Z = u_edges[None, :] - pts[:, 2:3]
    bounds = (
        X[:, :-1, None, None], X[:, 1:, None, None],
        Y[:, None, :-1, None], Y[:, None, 1:, None],
        Z[:, None, None, :-1], Z[:, None, None, 1:],
    )
    return X, Y, Z, bounds


def _vertex_kernels(field: Field, X, Y, Z):
    """The vertex kernel at every shared vertex of a box (P, b_e+1, b_n+1, b_u+1)."""
    shape = (X.shape[0], X.shape[1], Y.shape[1], Z.shape[1])
    # The vertices are laid along one flat axis: XLA vectorises the kernel along the
    # minor axis, which would otherwise be the b_u + 1 vertices of one column.
    xs, ys, zs = (
        jnp.broadcast_to(a, shape).reshape(shape[0], -1)
        for a in (X[:, :, None, None], Y[:, None, :, None], Z[:, None, None, :])
    )
    # One log scale per point for the whole box, from the box's extreme edges.
    inv_scale = log_scale(X[:, 0], X[:, -1], Y[:, 0], Y[:, -1], Z[:, 0], Z[:, -1])[:, None]
    return field.vertex(xs, ys, zs, safe_norm(xs, ys, zs), inv_scale).reshape(shape)


def _box_values(field: Field, accuracy: Accuracy, pts, e_edges, n_edges, u_edges):
    """Geometric values (points, b_e, b_n, b_u) of one box of cells, vertex-shared."""
    X, Y, Z, bounds = _offsets(pts, e_edges, n_edges, u_edges)

    def near_fn():
        # One kernel evaluation per shared vertex, differenced to cells along each
        # axis in the same order as the generic 8-vertex sum (identical values).
        k = _vertex_kernels(field, X, Y, Z)
        # Difference to cells with ±1 bidiagonal matrices rather than overlapping
        # slices: XLA would fuse the kernel into each slice and evaluate every shared
        # vertex up to 8 times; a dot forces one evaluation. Adding exact zeros, the
        # result equals the sequential differences of the generic path bit for bit.
        k = jnp.einsum("ai,pijk->pajk", _difference_matrix(X.shape[1], k.dtype), k)
        k = jnp.einsum("bj,pajk->pabk", _difference_matrix(Y.shape[1], k.dtype), k)
        return jnp.einsum("ck,pabk->pabc", _difference_matrix(Z.shape[1], k.dtype), k)

    values = combine(field, accuracy, bounds, near_fn)
    volume = (
        (e_edges[1:] - e_edges[:-1])[:, None, None]
        * (n_edges[1:] - n_edges[:-1])[None, :, None]
        * (u_edges[1:] - u_edges[:-1])[None, None, :]
    )
    return jnp.where((volume > 0)[None], values, 0.0)


def _point_blocks(points, point_block: int):
    n_points = points.shape[0]
    n_pb = -(-n_points // point_block)
    pad = jnp.broadcast_to(points[:1], (n_pb * point_block - n_points, 3))
    return jnp.concatenate([points, pad]).reshape(n_pb, point_block, 3)


def mesh_forward(field: Field, accuracy: Accuracy, points, mesh: PrismMesh, density, point_block: int, cell_block):
    """Geometric field × density summed over the mesh at points (P, 3) → (P,).

    The mesh is cut into boxes of ``cell_block`` = (b_e, b_n, b_u) cells. For a block
    of points and a box, the vertex kernel is evaluated once on the box's
    (b_e+1)(b_n+1)(b_u+1) shared vertices (instead of 8 times per cell). Where every
    cell of the box lies within ``near_ratio`` half-diagonals of every point of the
    block (below) and no point touches the box, the box's field is the dot product of those kernels with vertex
    weights computed once from the densities. Otherwise the kernels are differenced to
    cell values and far cells use the same Gauss–Legendre quadrature as the generic
    path; both paths agree to rounding (measured 9e-13 relative, see ``ACCURACY``).
    """
    block, counts, pads, boxes = _boxes(mesh, cell_block)
    dens = jnp.pad(density, tuple((0, p) for p in pads))
    (n_be, n_bn, n_bu), (b_e, b_n, b_u) = counts, block
    dens = dens.reshape(n_be, b_e, n_bn, b_n, n_bu, b_u).transpose(0, 2, 4, 1, 3, 5)
    dens = dens.reshape(n_be * n_bn * n_bu, b_e, b_n, b_u)

    # Vertex weights of each box: the field of a box whose cells all take the
    # vertex-kernel sum is Σ_cells ρ_c Σ_8 ±K = Σ_vertices K_v W_v with W = Dᵀ_e Dᵀ_n Dᵀ_u ρ
    # (the transpose of the differencing to cells), computed once for all points.
    d_e, d_n, d_u = (_difference_matrix(b + 1, dens.dtype) for b in block)
    weights = jnp.einsum("ai,bj,ck,nabc->nijk", d_e, d_n, d_u, dens)

    # Rounding errors of the vertex sum add up like a random walk over the box's vertices,
    # so a box of n_v vertices keeps one cell's accuracy (at far_ratio) up to
    # far_ratio·(n_v/8)^(1/6) half-diagonals (error ∝ ratio³/sqrt(n_v)), capped at
    # mesh_near_ratio; a single cell keeps the generic path's switch.
    n_vertices = (b_e + 1) * (b_n + 1) * (b_u + 1)
    near_ratio = min(accuracy.mesh_near_ratio, accuracy.far_ratio * (n_vertices / 8) ** (1 / 6))

    @jax.checkpoint
    def box_sum(pts, e_edges, n_edges, u_edges, rho, w):
        X, Y, Z, _ = _offsets(pts, e_edges, n_edges, u_edges)
        # The box-wide vertex sum applies where every (point, cell) pair of the box is
        # within near_ratio (empty cells aside) and no point touches the closed box:
        # no face jump and no undefined edge can occur. Tested conservatively per point
        # rather than per pair: no cell centre is farther than the farthest box corner,
        # and no non-empty cell has a smaller half-diagonal than the box's smallest.
        widths = [jnp.diff(edges) for edges in (e_edges, n_edges, u_edges)]
        half2 = [0.25 * w**2 for w in widths]
        cell_h2 = half2[0][:, None, None] + half2[1][None, :, None] + half2[2][None, None, :]
        # Cells of zero volume (the padding, or empty cells of the mesh) contribute
        # exactly nothing on either path and are left out of the test.
        solid = (widths[0] > 0)[:, None, None] & (widths[1] > 0)[None, :, None] & (widths[2] > 0)[None, None, :]
        h2_min = jnp.min(jnp.where(solid, cell_h2, jnp.inf))
        corner2 = sum(jnp.maximum(A[:, 0] ** 2, A[:, -1] ** 2) for A in (X, Y, Z))
        all_near = jnp.all(corner2 <= near_ratio**2 * h2_min)
        touches = (X[:, 0] <= 0) & (X[:, -1] >= 0) & (Y[:, 0] <= 0) & (Y[:, -1] >= 0) & (Z[:, 0] <= 0) & (Z[:, -1] >= 0)

        def per_cell():
            values = _box_values(field, accuracy, pts, e_edges, n_edges, u_edges)
            return masked_density_sum(values, rho, lambda v, r: jnp.einsum("pijk,ijk->p", v, r), lambda m: m[None])

        def shared():
            return jnp.einsum("pijk,ijk->p", _vertex_kernels(field, X, Y, Z), w)

        return jax.lax.cond(all_near & ~jnp.any(touches), shared, per_cell)

    def per_points(pts):
        def body(total, box):
            return total + box_sum(pts, *box), None

        total, _ = jax.lax.scan(body, jnp.zeros(pts.shape[0], pts.dtype), (*boxes, dens, weights))
        return total

    out = jax.lax.map(per_points, _point_blocks(points, point_block))
    return out.reshape(-1)[: points.shape[0]]


def mesh_jacobian(field: Field, accuracy: Accuracy, points, mesh: PrismMesh, point_block: int, cell_block):
    """Geometric sensitivities (P, n_cells) of the field to each cell's density."""
    block, counts, pads, boxes = _boxes(mesh, cell_block)

    def per_points(pts):
        def body(carry, box):
            return carry, _box_values(field, accuracy, pts, *box)

        _, values = jax.lax.scan(body, None, boxes)
        n_be, n_bn, n_bu = counts
        values = values.reshape(n_be, n_bn, n_bu, pts.shape[0], *block)
        values = values.transpose(3, 0, 4, 1, 5, 2, 6)
        values = values.reshape(pts.shape[0], n_be * block[0], n_bn * block[1], n_bu * block[2])
        n_e, n_n, n_u = mesh.shape
        return values[:, :n_e, :n_n, :n_u].reshape(pts.shape[0], -1)

    out = jax.lax.map(per_points, _point_blocks(points, point_block))
    return out.reshape(-1, mesh.size)[: points.shape[0]]
