"""Free-surface P-SV response of a layered half-space to an incident plane P wave.

The response is computed with Kennett's recursive reflectivity method: frequency-
independent interface reflection/transmission matrices are combined from the half-space
upwards with layer phase factors ``exp(-i ω η h)``. With the branch of the vertical
slowness chosen below, every phase factor has modulus ≤ 1 for the (possibly complex,
``Im ω ≤ 0``) frequencies used here, so nothing grows with layer thickness or frequency
(no overflow for thick stacks or evanescent layers), unlike the Thomson–Haskell product.

Conventions (used only inside this module):

* time dependence ``exp(+i ω t)`` (forward transform ``∫ f(t) exp(-i ω t) dt``), as in
  the receiver-function definition of CONVENTIONS.md;
* ``x`` horizontal in the direction of propagation, ``z`` positive *down*;
* the wave vector ``b = (u_x, u_z, τ_xz / (-iω), τ_zz / (-iω))`` is continuous across
  interfaces; each layer's solution is ``b = D · (P↓, S↓, P↑, S↑)`` (columns of the
  eigenvector matrix ``D``, see :func:`eigenvectors`).

References
----------
Kennett, B. L. N. & Kerry, N. J. (1979). Seismic waves in a stratified half space.
Geophys. J. R. astr. Soc. 57, 557–583. https://doi.org/10.1111/j.1365-246X.1979.tb06779.x

Aki, K. & Richards, P. G. (2002). Quantitative Seismology, 2nd ed., ch. 5 and 9.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._math import complex_exp

__all__ = ["vertical_slowness", "eigenvectors", "free_surface_response", "transfer_function"]


def vertical_slowness(velocity, slowness_squared):
    """Vertical slowness η = √(1/v² − p²) (s/km) with the decaying evanescent branch.

    For ``p > 1/v`` the wave is evanescent and we return ``η = −i √(p² − 1/v²)`` so that
    the downward phase factor ``exp(−i ω η h)`` decays (``Re ω ≥ 0``). The square root is
    taken of ``|1/v² − p²|`` and the branch chosen with ``where``: the gradient stays
    finite on both sides (the exact grazing point η = 0 is a true singularity of the
    problem, excluded by validation for the half-space).
    """
    difference = 1.0 / velocity**2 - slowness_squared
    root = jnp.sqrt(jnp.abs(difference))
    return jnp.where(difference >= 0, root + 0j, -1j * root)


def eigenvectors(vp, vs, rho, slowness):
    """Eigenvector matrices ``D`` of the P-SV system, one per layer.

    Parameters
    ----------
    vp, vs, rho : array (n_layers,)
        P and S velocity (km/s), density (g/cm³).
    slowness : scalar
        Horizontal slowness p (s/km).

    Returns
    -------
    D : complex array (n_layers, 4, 4)
        Columns (P↓, S↓, P↑, S↑); rows (u_x, u_z, τ_xz/(−iω), τ_zz/(−iω)). P columns have
        unit displacement ``α(p, ±η_α)``, S columns ``β(η_β, ∓p)``.
    eta_p, eta_s : complex arrays (n_layers,)
        Vertical slownesses of P and S (s/km).
    """
    p2 = slowness**2
    eta_p = vertical_slowness(vp, p2)
    eta_s = vertical_slowness(vs, p2)
    mu = rho * vs**2
    gamma = 1.0 - 2.0 * vs**2 * p2  # 1 − 2β²p²
    zero_row = jnp.zeros_like(eta_p)
    p_col_ux = vp * slowness + zero_row
    p_col_uz = vp * eta_p
    p_col_tx = 2.0 * mu * vp * slowness * eta_p
    p_col_tz = rho * vp * gamma + zero_row
    s_col_ux = vs * eta_s
    s_col_uz = -vs * slowness + zero_row
    s_col_tx = rho * vs * gamma + zero_row
    s_col_tz = -2.0 * mu * vs * slowness * eta_s
    down_p = jnp.stack([p_col_ux, p_col_uz, p_col_tx, p_col_tz], axis=-1)
    down_s = jnp.stack([s_col_ux, s_col_uz, s_col_tx, s_col_tz], axis=-1)
    up_p = jnp.stack([p_col_ux, -p_col_uz, -p_col_tx, p_col_tz], axis=-1)
    up_s = jnp.stack([s_col_ux, -s_col_uz, -s_col_tx, s_col_tz], axis=-1)
    matrix = jnp.stack([down_p, down_s, up_p, up_s], axis=-1)
    return matrix, eta_p, eta_s


def _inverse_eigenvectors(matrix, eta_p, eta_s, vp, vs, rho):
    """Closed-form ``D⁻¹`` from the reciprocity (symplectic) identity.

    With ``J' = diag(1, −1, 1, −1)·[[0, I], [−I, 0]]`` one has ``Dᵀ J' D = [[0, X], [−X, 0]]``,
    ``X = −diag(2ρα²η_α, 2ρβ²η_β)``, hence ``D⁻¹ = [[0, Y], [−Y, 0]] Dᵀ J'`` with
    ``Y = diag(1/(2ρα²η_α), 1/(2ρβ²η_β))``. This avoids a general 4×4 solve per layer.
    """
    flux = jnp.stack([2.0 * rho * vp**2 * eta_p, 2.0 * rho * vs**2 * eta_s], axis=-1)
    transposed = jnp.swapaxes(matrix, -1, -2)  # rows: (P↓, S↓, P↑, S↑)
    # Dᵀ J': column k of the result is ± a column of Dᵀ.
    dt_j = jnp.stack(
        [-transposed[..., 2], transposed[..., 3], transposed[..., 0], -transposed[..., 1]],
        axis=-1,
    )
    top = dt_j[..., 2:, :] / flux[..., :, None]
    bottom = -dt_j[..., :2, :] / flux[..., :, None]
    return jnp.concatenate([top, bottom], axis=-2)


def _inv2(m):
    """Inverse of 2×2 matrices (…, 2, 2) in closed form."""
    a, b, c, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
    det = a * d - b * c
    row0 = jnp.stack([d, -b], axis=-1)
    row1 = jnp.stack([-c, a], axis=-1)
    return jnp.stack([row0, row1], axis=-2) / det[..., None, None]


def _matmul(a, b):
    """Batched small-matrix product (…, i, j) × (…, j, k) as a broadcast multiply and sum.

    Written element-wise on purpose: XLA fuses it into one loop, whereas a batched
    ``dot_general`` of many 4×4 or 2×2 complex matrices (under ``vmap``, a batch of
    models × layers) runs an order of magnitude slower on CPU.
    """
    return jnp.sum(a[..., :, :, None] * b[..., None, :, :], axis=-2)


def _entries(m):
    """The four entries (m₀₀, m₀₁, m₁₀, m₁₁) of a 2×2 matrix."""
    return m[0, 0], m[0, 1], m[1, 0], m[1, 1]


def _mm(a, b):
    """Product of two 2×2 matrices given as entry tuples (entries broadcast)."""
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
    )


def _mv(a, v):
    """Matrix (entry tuple) times vector (pair)."""
    return a[0] * v[0] + a[1] * v[1], a[2] * v[0] + a[3] * v[1]


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b))


def _inv2_entries(a):
    """Inverse of a 2×2 matrix given as entries (closed form)."""
    inv_det = 1.0 / (a[0] * a[3] - a[1] * a[2])  # one complex division, four products
    return a[3] * inv_det, -a[1] * inv_det, -a[2] * inv_det, a[0] * inv_det


def interface_coefficients(matrix, inverse):
    """Reflection/transmission matrices of every interface (frequency independent).

    For the interface between layer j (above) and j+1 (below), with
    ``Q = D_{j+1}⁻¹ D_j`` mapping (↓, ↑) amplitudes above to those below:
    ``R_D = −Q₂₂⁻¹ Q₂₁``, ``T_D = Q₁₁ + Q₁₂ R_D``, ``T_U = Q₂₂⁻¹``, ``R_U = Q₁₂ Q₂₂⁻¹``.

    Returns four complex arrays (n_layers − 1, 2, 2): R_D, T_D, R_U, T_U.
    """
    q = _matmul(inverse[1:], matrix[:-1])
    q11, q12 = q[:, :2, :2], q[:, :2, 2:]
    q21, q22 = q[:, 2:, :2], q[:, 2:, 2:]
    t_up = _inv2(q22)
    r_down = -_matmul(t_up, q21)
    t_down = q11 + _matmul(q12, r_down)
    r_up = _matmul(q12, t_up)
    return r_down, t_down, r_up, t_up


def free_surface_response(omega, thickness, vp, vs, rho, slowness, *, renormalise=False):
    """Radial and vertical free-surface displacement spectra for an incident plane P wave.

    Parameters
    ----------
    omega : complex array (n_freq,)
        Angular frequencies (rad/s), ``Re ω ≥ 0`` and ``Im ω ≤ 0`` (complex frequency
        damping is allowed).
    thickness, vp, vs, rho : arrays (n_layers,)
        Layered model (km, km/s, km/s, g/cm³); the last row is the half-space and its
        thickness is ignored. Zero-thickness layers are exact no-ops.
    slowness : scalar
        Horizontal slowness p ≥ 0 (s/km), ``p < 1/vp[-1]``.
    renormalise : bool (static)
        Rescale the up-going source term at every layer (per frequency). The ratio
        ``U_R/U_Z`` is unchanged and cannot underflow, but the absolute spectra are
        then scaled by an arbitrary per-frequency factor; keep ``False`` to synthesise
        waveforms.

    Returns
    -------
    radial, vertical : complex arrays (n_freq,)
        Free-surface displacement spectra ``U_R`` (positive in the direction of
        propagation, i.e. away from the source) and ``U_Z`` (positive up) for a unit
        up-going P wave at the top of the half-space. Their ratio is the receiver
        function's transfer function; the common phase (travel time) cancels in it.
    """
    matrix, eta_p, eta_s = eigenvectors(vp, vs, rho, slowness)
    inverse = _inverse_eigenvectors(matrix, eta_p, eta_s, vp, vs, rho)
    r_down, t_down, r_up, t_up = interface_coefficients(matrix, inverse)

    eta = jnp.stack([eta_p, eta_s], axis=-1)[:-1]  # (n_layers - 1, 2), half-space excluded
    # Phase of one crossing of each layer: |exp(-i ω η h)| ≤ 1 for Im ω ≤ 0, Im η ≤ 0.
    phase = complex_exp(-1j * omega[None, :, None] * (eta * thickness[:-1, None])[:, None, :])
    p_phase, s_phase = phase[..., 0], phase[..., 1]
    # the reflection matrix takes the phase on both sides: products formed outside the scan
    phases = (p_phase, s_phase, p_phase * p_phase, p_phase * s_phase, s_phase * s_phase)

    # The recursion works on 2×2 matrices stored as their four entries (each an array
    # over frequency): explicit element-wise products vectorise and fuse far better than
    # batched 2×2 matmuls, in particular under vmap.
    n_freq = omega.shape[0]
    cdtype = phase.dtype if phase.size else matrix.dtype
    zero = jnp.zeros((n_freq,), dtype=cdtype)
    one = jnp.ones((n_freq,), dtype=cdtype)
    reflection0 = (zero, zero, zero, zero)
    source0 = (one, zero)

    def up_one_layer(carry, layer):
        # carry: reflection matrix M (↑ = M ↓ + S) and source term S at the top of the
        # layer below the interface; returns them at the top of the layer above.
        reflection, source = carry
        rd, td, ru, tu = (_entries(x) for x in layer[:4])
        # Below the interface ↑ = M ↓ + S; across it ↓_below = T_D ↓_above + R_U ↑_below
        # and ↑_above = R_D ↓_above + T_U ↑_below. Eliminating ↑_below with
        # V = (I − M R_U)⁻¹ (the reverberation operator) and X = T_U V:
        # M_above = R_D + X M T_D and S_above = X S.
        m_ru = _mm(reflection, ru)
        x = _mm(tu, _inv2_entries((1.0 - m_ru[0], -m_ru[1], -m_ru[2], 1.0 - m_ru[3])))
        reflection_bottom = _add(rd, _mm(x, _mm(reflection, td)))
        source_bottom = _mv(x, source)
        p_phase, s_phase, pp, ps, ss = layer[4:]
        reflection_top = (
            pp * reflection_bottom[0],
            ps * reflection_bottom[1],
            ps * reflection_bottom[2],
            ss * reflection_bottom[3],
        )
        source_top = (p_phase * source_bottom[0], s_phase * source_bottom[1])
        if renormalise:
            # a cheap norm (no square roots): max of |Re| and |Im| of both entries
            parts = [f(x) for x in source_top for f in (jnp.real, jnp.imag)]
            scale = 1.0 / jnp.max(jnp.abs(jnp.stack(parts)), axis=0)
            source_top = (source_top[0] * scale, source_top[1] * scale)
        return (reflection_top, source_top), None

    (reflection, source), _ = jax.lax.scan(
        up_one_layer, (reflection0, source0), (r_down, t_down, r_up, t_up, *phases), reverse=True
    )

    top = matrix[0]
    traction_down, traction_up = top[2:, :2], top[2:, 2:]
    free_surface = -_inv2(traction_down) @ traction_up  # ↓ = R_fs ↑ at z = 0
    m_r = _mm(reflection, _entries(free_surface))
    up_at_surface = _mv(_inv2_entries((1.0 - m_r[0], -m_r[1], -m_r[2], 1.0 - m_r[3])), source)
    to_displacement = _entries(top[:2, :2] @ free_surface + top[:2, 2:])
    radial, down = _mv(to_displacement, up_at_surface)
    return radial, -down


def transfer_function(omega, thickness, vp, vs, rho, slowness):
    """Receiver-function transfer function ``U_R(ω) / U_Z(ω)`` (dimensionless).

    Same arguments as :func:`free_surface_response`; returns a complex array (n_freq,).
    """
    radial, vertical = free_surface_response(
        omega, thickness, vp, vs, rho, slowness, renormalise=True
    )
    return radial / vertical
