"""Exact number of modes slower than a trial phase velocity (Wittrick–Williams count).

The root search of :mod:`._search` numbers modes by counting sign changes of the secular
function on a grid, which misses two roots that share a cell. This module counts the
modes below a trial phase velocity ``c`` at an angular frequency ``ω`` *without* a grid,
so a root found by the search can be checked to be the mode it is reported as, and a
wrong one repaired.

Principle
---------
At a fixed horizontal wavenumber ``k`` the layered half-space is a self-adjoint
eigenproblem in ``ω²``. Its *dynamic stiffness* ``K(ω)`` (forces on the interfaces per
unit displacement of the interfaces, every layer solved exactly) is real and symmetric,
and the Wittrick–Williams theorem gives the number of eigenfrequencies below ``ω``:

    J(ω) = Σ_layers J0(layer) + s{K(ω)},

where ``s{K}`` is the number of negative eigenvalues of ``K`` and ``J0`` the number of
eigenfrequencies below ``ω`` of a layer whose two faces are clamped (Wittrick &
Williams, 1971). Every mode branch ``ω_n(k)`` rises with ``k`` (positive group
velocity), so the number of eigenfrequencies below ``ω`` at ``k = ω/c`` is the number of
modes whose phase velocity at ``ω`` is below ``c``. The count is for trapped modes,
``c`` below the half-space shear velocity.

- ``K`` is block tridiagonal (2×2 blocks per interface for P-SV, 1×1 for SH) and
  ``s{K}`` is accumulated by block Gaussian elimination from the free surface down
  (Sylvester's law of inertia): a ``lax.scan`` over the layers, like the secular
  function.
- Layer stiffness (P-SV): with ``u_x = U(z) e^{i(kx-ωt)}`` and ``u_z = i W(z) e^{…}``
  the equations and the stiffness are real. The motions of a homogeneous layer split
  into ones symmetric and antisymmetric about its mid-plane, each a 2×2 problem in the
  functions ``τ(ζ) = tan(√ζ)/√ζ`` (``tanh(√-ζ)/√-ζ`` for ``ζ < 0``) of
  ``ζ = (p d)²`` and ``(q d)²`` (``p``, ``q`` the P and S vertical wavenumbers, ``d``
  the half-thickness). ``τ`` is carried as a ratio ``N/D`` so that its poles are
  finite numbers; thick evanescent layers tend smoothly to the half-space's stiffness.
- ``J0`` of a clamped P-SV layer: two clamped halves joined at the mid-plane give
  ``J0(h) = 2 J0(h/2) + s{mid-plane block}``, and by the layer's mirror symmetry the
  mid-plane block is diagonal, so each halving costs two sign tests. The halving
  stops at ``levels``: a clamped layer thinner than half an S wavelength,
  ``q h < π``, has no eigenfrequency below ``ω`` (its Rayleigh quotient exceeds
  ``μ (k² + π²/h²) / ρ`` when ``λ + μ >= 0``), which ``valid`` checks. ``τ(4ζ)``
  follows from ``τ(ζ)`` by the double-angle formula, one division per level.
- SH (Love): ``J0`` is the number of ``n >= 1`` with ``n π < q h``.

The count is exact in exact arithmetic; in floating point it is exact away from a
small neighbourhood of each root (where the deciding pivot is rounding-sized), so a
caller checks a root ``c_m`` by counting at ``c_m (1 ± δ)``.

References
----------
Wittrick, W. H. & Williams, F. W. (1971). A general algorithm for computing natural
frequencies of elastic structures. Q. J. Mech. Appl. Math. 24(3), 263–284.
https://doi.org/10.1093/qjmam/24.3.263
Kausel, E. & Roësset, J. M. (1981). Stiffness matrices for layered soils. BSSA 71(6),
1743–1761. https://doi.org/10.1785/BSSA0710061743
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .._validation import check_choice, check_positive, is_traced, validate_layered_model
from ._secular import _computed_once

# _computed_once (of _secular) is applied to every τ ratio below, after the series and
# after each doubling: XLA:CPU fuses cheap elementwise producers into every consumer and
# recomputes them there, and each ratio feeds the next doubling and a level's stiffness,
# so the series and every doubling before it were recomputed in each of the layer body's
# fusions (4,794 fused operations per layer from 692 in the program; float32, levels 3).
# A division by an exact 1 is not duplicated: 831 multiplications in the compiled count
# instead of 2,693 (2,651 of those in its layer step), and a count of 64 points on 32
# prior draws (130 layers) took 5.5 ms instead of 14.5 ms on one core (2026-12-04). The
# results change only by rounding, as XLA contracts the operations differently (float32
# counts near roots: tests/dispersion/test_mode_count_exact.py).

__all__ = ["modes_below"]

# Halvings of each layer for J0 (P-SV): exact while q h < π 2^levels, i.e. up to
# 2^levels half S wavelengths across one layer (256 with 8); ``valid`` says where not.
_LEVELS = 8
# |ζ| up to which N = sin√ζ/√ζ and D = cos√ζ (sinh, cosh for ζ < 0) come from their
# Taylor series in ζ (entire functions; no libm call, which XLA:CPU does not
# vectorise); beyond it, only for ζ < 0 (strongly evanescent), N/D = tanh√-ζ/√-ζ.
_SERIES_LIMIT = 2.5
# terms: the first neglected one at |ζ| = 2.5 is below 2e-16 (float64), 5e-10 (float32)
_TERMS = {4: 8, 8: 11}


def _tau(zeta):
    """``τ(ζ)`` as a ratio ``(N, D)`` with ``N/D = tan√ζ/√ζ`` (``tanh`` for ``ζ < 0``)."""
    terms = _TERMS[jnp.dtype(zeta.dtype).itemsize]
    z = jnp.clip(zeta, -_SERIES_LIMIT, _SERIES_LIMIT)
    n = jnp.ones_like(z)
    d = jnp.ones_like(z)
    for j in range(terms, 0, -1):  # Horner: Σ (-z)^j / (2j+1)!  and  Σ (-z)^j / (2j)!
        n = 1.0 - z * n / ((2 * j) * (2 * j + 1))
        d = 1.0 - z * d / ((2 * j - 1) * (2 * j))
    far = zeta < -_SERIES_LIMIT
    root = jnp.sqrt(jnp.where(far, -zeta, 1.0))
    return jnp.where(far, jnp.tanh(root) / root, n), jnp.where(far, 1.0, d)


def _double(n, d, zeta):
    """``(N, D)`` of ``τ(4ζ)`` from that of ``τ(ζ)``, scaled to stay bounded."""
    nn = n * n
    dd = d * d
    inverse = 1.0 / (dd + jnp.abs(zeta) * nn)
    return n * d * inverse, (dd - zeta * nn) * inverse


def _family_stiffness(dp, pp, ep, dq, qq, eq, mu, g):
    """Stiffness of a half-layer (units ``k c²``) of both mirror families, as ``F adj(D)`` and ``det D``.

    ``pp = k d N_p``, ``dp = D_p`` (the same for S), ``ep = c²/α² - 1``,
    ``eq = c²/β² - 1``, ``mu = ρβ²/c²``, ``g = ρ - 2 mu``.
    """
    mu2 = 2.0 * mu
    # symmetric family (U even, W odd): D = [[dp, -dq], [ep pp, qq]],
    # F = [[-2mu ep pp, g qq], [g dp, 2mu dq]]
    epp = ep * pp
    det_s = dp * qq + dq * epp
    s11 = -mu2 * epp * qq - g * qq * epp
    s12 = -mu2 * epp * dq + g * qq * dp
    s22 = g * dp * dq + mu2 * dq * dp
    s21 = g * dp * qq - mu2 * dq * epp
    # antisymmetric family (U odd, W even): D = [[pp, eq qq], [-dp, dq]],
    # F = [[2mu dp, g dq], [g pp, -2mu eq qq]]
    eqq = eq * qq
    det_a = pp * dq + eqq * dp
    a11 = mu2 * dp * dq + g * dq * dp
    a12 = -mu2 * dp * eqq + g * dq * pp
    a21 = g * pp * dq - mu2 * eqq * dp
    a22 = -g * pp * eqq - mu2 * eqq * pp
    return (s11, s12, s21, s22, det_s), (a11, a12, a21, a22, det_a)


def _negative_diagonal(families):
    """Negative entries (0-2) of the diagonal of ``A = (K_s + K_a)/2``, without a division."""
    (s11, _, _, s22, det_s), (a11, _, _, a22, det_a) = families
    first = (s11 * det_a + a11 * det_s) * (det_s * det_a) < 0
    second = (s22 * det_a + a22 * det_s) * (det_s * det_a) < 0
    return first.astype(jnp.int32) + second.astype(jnp.int32)


def _bottom_and_coupling(families):
    """Bottom block ``A = (K_s + K_a)/2`` and coupling ``B = (K_s - K_a) R / 2`` of a layer.

    ``R = diag(1, -1)``; the top block is ``R A R`` (mirror symmetry). ``A`` is
    returned as its three distinct entries (symmetrised).
    """
    (s11, s12, s21, s22, det_s), (a11, a12, a21, a22, det_a) = families
    inv_s = 0.5 / det_s
    inv_a = 0.5 / det_a
    ks = [v * inv_s for v in (s11, s12, s21, s22)]
    ka = [v * inv_a for v in (a11, a12, a21, a22)]
    a = (ks[0] + ka[0], 0.5 * (ks[1] + ka[1] + ks[2] + ka[2]), ks[3] + ka[3])
    b = (ks[0] - ka[0], ka[1] - ks[1], ks[2] - ka[2], ka[3] - ks[3])
    return a, b


def _eliminate(m11, m12, m22, a11, a12, a22, b11, b12, b21, b22):
    """``A - B M^{-1} B^T`` (symmetric 2×2 as three entries)."""
    inverse = 1.0 / (m11 * m22 - m12 * m12)
    i11, i12, i22 = m22 * inverse, -m12 * inverse, m11 * inverse
    x11 = b11 * i11 + b12 * i12
    x12 = b11 * i12 + b12 * i22
    x21 = b21 * i11 + b22 * i12
    x22 = b21 * i12 + b22 * i22
    return (
        a11 - (x11 * b11 + x12 * b12),
        a12 - (x11 * b21 + x12 * b22),
        a22 - (x21 * b21 + x22 * b22),
    )


def _propagate(s11, s12, s22, families):
    """Impedance below a layer from the one above it, through the mirror families.

    ``u_b = -(R + 2W) u_t``, ``sigma_b = (R S - 2 K_s W) u_t`` with
    ``W = (K_s - K_a)^{-1} (R S + K_a R)``; returns ``sigma_b u_b^{-1}`` symmetrised.
    Well conditioned where the layer is thin (no term of order 1/(k h) is subtracted);
    ``K_s - K_a`` vanishes in thick evanescent layers, where the elimination is used.
    """
    (f11, f12, f21, f22, det_s), (g11, g12, g21, g22, det_a) = families
    inv_s, inv_a = 1.0 / det_s, 1.0 / det_a
    ks = (f11 * inv_s, f12 * inv_s, f21 * inv_s, f22 * inv_s)
    ka = (g11 * inv_a, g12 * inv_a, g21 * inv_a, g22 * inv_a)
    d11, d12, d21, d22 = (x - y for x, y in zip(ks, ka))
    # R S + K_a R, R = diag(1, -1)
    r11, r12, r21, r22 = s11 + ka[0], s12 - ka[1], -s12 + ka[2], -s22 - ka[3]
    inverse = 1.0 / (d11 * d22 - d12 * d21)
    w11 = (d22 * r11 - d12 * r21) * inverse
    w12 = (d22 * r12 - d12 * r22) * inverse
    w21 = (-d21 * r11 + d11 * r21) * inverse
    w22 = (-d21 * r12 + d11 * r22) * inverse
    # G = -(R + 2W) maps u_t to u_b; H = R S - 2 K_s W maps u_t to sigma_b
    g11_, g12_, g21_, g22_ = -1.0 - 2.0 * w11, -2.0 * w12, -2.0 * w21, 1.0 - 2.0 * w22
    h11 = s11 - 2.0 * (ks[0] * w11 + ks[1] * w21)
    h12 = s12 - 2.0 * (ks[0] * w12 + ks[1] * w22)
    h21 = -s12 - 2.0 * (ks[2] * w11 + ks[3] * w21)
    h22 = -s22 - 2.0 * (ks[2] * w12 + ks[3] * w22)
    inverse = 1.0 / (g11_ * g22_ - g12_ * g21_)
    # H G^{-1}, G^{-1} = [[g22, -g12], [-g21, g11]] / det
    n11 = (h11 * g22_ - h12 * g21_) * inverse
    n12 = (-h11 * g12_ + h12 * g11_) * inverse
    n21 = (h21 * g22_ - h22 * g21_) * inverse
    n22 = (-h21 * g12_ + h22 * g11_) * inverse
    return n11, 0.5 * (n12 + n21), n22


def _negative_2x2(m11, m12, m22):
    det = m11 * m22 - m12 * m12
    return jnp.where(det < 0, 1, jnp.where(m11 + m22 < 0, 2, 0)).astype(jnp.int32)


def modes_below(c, omega, thickness, vp, vs, rho, *, wave="rayleigh", levels=_LEVELS):
    """Number of modes whose phase velocity at ``omega`` is below ``c`` (exact count).

    Parameters
    ----------
    c : array, shape S
        Trial phase velocities (km/s), below the half-space shear velocity.
    omega : array, shape S
        Angular frequencies (rad/s), broadcast against ``c``.
    thickness, vp, vs, rho : array, shape (L,)
        Layered model (km, km/s, g/cm³), last row the half-space; zero-thickness
        layers change nothing.
    wave : {"rayleigh", "love"}
        Static choice of the wave type.
    levels : int
        Static number of halvings for the clamped-layer counts (P-SV).

    Returns
    -------
    count : int32 array, shape S
        Number of modes (fundamental included) with phase velocity below ``c``.
    valid : bool array, shape S
        False where the count cannot be trusted: ``c`` at or above the half-space
        shear velocity, or a layer more than about ``2^levels`` half S wavelengths
        thick at this ``c`` and ``omega``.
    """
    check_choice(wave, "wave", ("rayleigh", "love"))
    if not is_traced(c, omega, thickness, vp, vs, rho):
        check_positive(c, "c")
        check_positive(omega, "omega")
        validate_layered_model(thickness, vp, vs, rho)
    dtype = jnp.result_type(*(jnp.asarray(a) for a in (c, omega, thickness, vp, vs, rho)), jnp.float32)
    c, omega, thickness, vp, vs, rho = (jnp.asarray(a, dtype) for a in (c, omega, thickness, vp, vs, rho))
    c, omega = jnp.broadcast_arrays(c, omega)
    k_half = 0.5 * omega / c
    c2 = c * c
    inverse_c2 = 1.0 / c2
    eq_h = c2 / vs[-1] ** 2 - 1.0
    mu_h = rho[-1] * vs[-1] ** 2 * inverse_c2
    zero = jnp.zeros_like(c)
    count0 = jnp.zeros(c.shape, jnp.int32)
    layers = (thickness[:-1], 1.0 / vp[:-1] ** 2, 1.0 / vs[:-1] ** 2, rho[:-1] * vs[:-1] ** 2, rho[:-1])

    if wave == "love":

        def love_body(carry, layer):
            s, count, valid = carry
            h, _, inverse_vs2, mu_c2, _ = layer
            kd = k_half * h
            eq = c2 * inverse_vs2 - 1.0
            zq = kd * kd * eq
            mu = mu_c2 * inverse_c2
            # τ at level 0 by doubling up from the series' range (J0 of SH is analytic)
            nq, dq = (_computed_once(v, kd) for v in _tau(zq * 4.0 ** (-levels)))
            for level in range(levels, 0, -1):
                nq, dq = (_computed_once(v, kd) for v in _double(nq, dq, zq * 4.0 ** (-level)))
            qq = kd * nq
            # K_s = -mu eq Q / D, K_a = mu D / Q (units k c²)
            inverse = 0.5 / (qq * dq)
            ks = -mu * eq * qq * qq * inverse
            ka = mu * dq * dq * inverse
            a, b = ks + ka, ks - ka
            m = s + a
            j0 = jnp.where(zq > 0, jnp.ceil(2.0 * jnp.sqrt(jnp.maximum(zq, 0.0)) * (1.0 / math.pi)) - 1.0, 0.0)
            step = (m < 0).astype(jnp.int32) + j0.astype(jnp.int32)
            present = h > 0
            ok = zq * 4.0 ** (-levels) < _SERIES_LIMIT
            return (
                jnp.where(present, a - b * b / m, s),
                count + jnp.where(present, step, 0),
                valid & (ok | ~present),
            ), None

        (s, count, valid), _ = jax.lax.scan(love_body, (zero, count0, eq_h < 0), layers)
        a_hs = mu_h * jnp.sqrt(jnp.maximum(-eq_h, 0.0))
        return count + (s + a_hs < 0).astype(jnp.int32), valid

    def body(carry, layer):
        s11, s12, s22, count, valid = carry
        h, inverse_vp2, inverse_vs2, mu_c2, rho_i = layer
        kd = k_half * h  # k × half-thickness
        ep = c2 * inverse_vp2 - 1.0
        eq = c2 * inverse_vs2 - 1.0
        mu = mu_c2 * inverse_c2
        g = rho_i - 2.0 * mu
        zp0, zq0 = kd * kd * ep, kd * kd * eq
        shrink = 4.0 ** (-levels)
        zp, zq = zp0 * shrink, zq0 * shrink
        kd_l = kd * 2.0 ** (-levels)
        ok = zq < (math.pi**2) / 4.0
        np_, dp, nq, dq = (_computed_once(v, kd) for v in (*_tau(zp), *_tau(zq)))
        j0 = jnp.zeros(c.shape, jnp.int32)
        for level in range(levels, 0, -1):
            # mid-plane block of two clamped halves of thickness h / 2^(level-1)
            families = _family_stiffness(dp, kd_l * np_, ep, dq, kd_l * nq, eq, mu, g)
            j0 = j0 + (2 ** (level - 1)) * _negative_diagonal(families)
            np_, dp, nq, dq = (_computed_once(v, kd) for v in (*_double(np_, dp, zp), *_double(nq, dq, zq)))
            zp, zq, kd_l = 4.0 * zp, 4.0 * zq, 2.0 * kd_l
        families = _family_stiffness(dp, kd * np_, ep, dq, kd * nq, eq, mu, g)
        (a11, a12, a22), (b11, b12, b21, b22) = _bottom_and_coupling(families)
        # top block R A R
        m11, m12, m22 = s11 + a11, s12 - a12, s22 + a22
        step = _negative_2x2(m11, m12, m22) + j0
        # Eliminating the top node, S_next = A - B M^{-1} B^T, subtracts terms of order
        # 1/(k h) that cancel to order one in a thin layer (float32 lost the count on
        # 100-layer models at long periods). There the impedance is propagated instead
        # (sigma = S u above the layer, as the stiffness's Schur complement is):
        # with the half-layer stiffnesses K_s, K_a and W = (K_s - K_a)^{-1}(R S + K_a R),
        # u_bottom = -(R + 2W) u_top and sigma_bottom = (R S - 2 K_s W) u_top.
        n11, n12, n22 = _eliminate(m11, m12, m22, a11, a12, a22, b11, b12, b21, b22)
        t11, t12, t22 = _propagate(s11, s12, s22, families)
        thin = jnp.maximum(jnp.abs(zp0), jnp.abs(zq0)) < 1.0
        n11, n12, n22 = (jnp.where(thin, t, n) for t, n in ((t11, n11), (t12, n12), (t22, n22)))
        present = h > 0
        keep = lambda new, old: jnp.where(present, new, old)  # noqa: E731
        return (
            keep(n11, s11), keep(n12, s12), keep(n22, s22),
            count + jnp.where(present, step, 0), valid & (ok | ~present),
        ), None

    init = (zero, zero, zero, count0, eq_h < 0)
    (s11, s12, s22, count, valid), _ = jax.lax.scan(body, init, layers)
    # half-space: the thick-layer limit, N/D -> 1/√-ζ, D = 1
    one = jnp.ones_like(c)
    ep_h = c2 / vp[-1] ** 2 - 1.0
    ph = jax.lax.rsqrt(jnp.maximum(-ep_h, 1e-30))
    qh = jax.lax.rsqrt(jnp.maximum(-eq_h, 1e-30))
    (a11, a12, a22), _ = _bottom_and_coupling(
        _family_stiffness(one, ph, ep_h, one, qh, eq_h, mu_h, rho[-1] - 2.0 * mu_h)
    )
    count = count + _negative_2x2(s11 + a11, s12 - a12, s22 + a22)
    return count, valid
