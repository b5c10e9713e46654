"""Secular (period) functions of Love and Rayleigh waves in a layered half-space.

This module holds the numerically delicate part of the dispersion operator: the layer
propagators and their overflow-free normalisation. Everything else (root search,
implicit differentiation, kernels) only needs ``secular_function``.

Formulation
-----------
With a plane-wave factor ``exp(i(kx - ωt))`` and the dimensionless depth ``ζ = k z``,
the motion-stress vector of P-SV waves ``y = (u_z, u_x / i, σ_zz / (k c²), σ_xz / (i k c²))``
obeys ``dy/dζ = A y`` with a *real* 4×4 matrix that depends only on the phase velocity
``c`` and the layer's ``α, β, ρ`` (stresses are divided by ``c²`` so that every entry is
a ratio of velocities times density, which keeps float32 well scaled). SH waves use
``y = (u_y, σ_yz / (k c²))``. A homogeneous layer of thickness ``d`` has the propagator
``exp(-A k d)`` (upwards); with ``r_a² = 1 - c²/α²`` and ``r_b² = 1 - c²/β²`` its entries
are combinations of ``cosh(k d r)`` and ``sinh(k d r) / r`` (``cos``/``sin`` when
``r² < 0``), obtained from the Cayley–Hamilton form
``exp(Ax) = Σ_j Π_{i≠j} (A² - r_i²) / (r_j² - r_i²) · (cosh(r_j x) + A sinh(r_j x)/r_j)``.

Rayleigh waves use the second compound (delta) matrix of that propagator (Dunkin,
1965; Thomson, 1997): the 2×2 minors of the two solutions that decay into the
half-space. The compound entries were reduced with ``cosh² - r² sinh²/r² = 1`` so that
they contain only the products ``cosh_a cosh_b``, ``sinh_a sinh_b``, ``cosh_a sinh_b``,
``sinh_a cosh_b`` and ``1``: no growing term cancels another, which is what makes the
method stable for thick layers and short periods. One minor is redundant
(``Δ_{u_x σ_xz} = -Δ_{u_z σ_zz}``), leaving a 5-vector. Love waves use the 2×2
Thomson–Haskell propagator directly.

Overflow: every layer matrix is multiplied by ``exp(-(k d r_a + k d r_b))`` (only the
evanescent factors, those with ``r² > 0``, blended smoothly to 1 for ``k d r < 1/2``;
see :func:`layer_functions`), so all its entries are bounded, and the
propagated vector is divided by its largest entry before every layer. Both factors are
positive, so the sign and the zeros of the secular function are untouched.

References
----------
Dunkin, J. W. (1965). Computation of modal solutions in layered, elastic media at high
frequencies. BSSA 55(2), 335–358. https://doi.org/10.1785/BSSA0550020335
Thomson, W. T. (1950). Transmission of elastic waves through a stratified solid
medium. J. Appl. Phys. 21, 89–93. https://doi.org/10.1063/1.1699629
Haskell, N. A. (1953). The dispersion of surface waves on multilayered media. BSSA
43(1), 17–34. https://doi.org/10.1785/BSSA0430010017
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._math import cos_sin_polynomials, reduce_half_pi, rotate_quadrant

__all__ = ["secular_function", "layer_functions"]

# |x² r²| below which cosh/sinh are evaluated by their Taylor series: the explicit
# formulas lose digits to cancellation there (sinh(x)/x, cos of tiny angles), and the
# series at this radius is exact to ~1e-15 with the terms kept.
_SERIES_RADIUS = 0.25


def layer_functions(x, r2):
    """Scaled hyperbolic functions of one layer.

    Parameters
    ----------
    x : array
        Dimensionless thickness ``k d`` (wavenumber times thickness), ``>= 0``.
    r2 : array
        ``r² = 1 - c²/v²`` for the wave speed ``v`` of the layer (may be negative).

    Returns
    -------
    ch, sh, scale : arrays, broadcast shape
        ``ch = cosh(x r) · g``, ``sh = sinh(x r)/r · g`` (``cos``/``sin`` form for
        ``r² < 0``) and ``g = e^{-h}``: ``h = x r`` where ``x² r² >= 1/4`` (evanescent,
        growing solutions), ``h = 20 z² - 48 z³`` (``z = x² r²``) on ``0 < z < 1/4``
        and ``h = 0`` for ``z <= 0``. ``g`` is positive and continuously
        differentiable in ``c``, so it moves neither the sign nor the zeros of the
        secular function and adds no jump or kink that would slow the secant
        refinement; its derivative never enters the implicit derivative (it
        multiplies ``F = 0``).
    """
    z = x * x * r2
    small = jnp.abs(z) < _SERIES_RADIUS
    grow = z > 0
    # One square root serves both the evanescent (w = x r) and oscillatory
    # (w = x |r|) branches; the series branch never uses it, and the guard keeps
    # its gradient finite there.
    w = jnp.sqrt(jnp.where(small, 1.0, jnp.abs(z)))
    # The scale g = e^{-h} with h = w on the evanescent branch, h = 20 z² - 48 z³ on
    # the growing part of the series branch (it meets w = 1/2 at z = 1/4 with the same
    # value and slope) and h = 0 for z <= 0: g is C¹ in c, so the secular function has
    # no jumps or kinks from it and secant steps converge superlinearly. One exp serves
    # both branches.
    h = jnp.where(small, jnp.where(grow, z * z * (20.0 - 48.0 * z), 0.0), w)
    # One exp serves both: e^{-h} = sqrt(e^{-2h}). (Written as exp(-h)², XLA's simplifier
    # turns the square into a second exp(-2h), and XLA:CPU's float64 exp, a rational
    # approximation with a division, costs several times a square root.) Where e^{-2h}
    # underflows (h > 354 in float64, > 44 in float32) e^{-h} is set to 0: it multiplies
    # only the "1" term of the compound matrix, then negligible against cosh·cosh ≥ 1/4.
    decay = jnp.exp(-2.0 * h)
    positive = decay > 0
    e_h = jnp.where(positive, jnp.sqrt(jnp.where(positive, decay, 1.0)), 0.0)
    # One pair of polynomials serves the oscillatory and the series branch: cos and
    # sin of w reduced to |ρ| ≤ π/4 are Taylor polynomials in ρ² (as jaxgeo._math.cos_sin,
    # vectorised where XLA:CPU's sin/cos are scalar calls), and the same polynomials at
    # -z are the series cosh √z = Σ z^n/(2n)! and sinh √z / √z = Σ z^n/(2n+1)! for |z| < 1/4.
    rho, quadrant = reduce_half_pi(w)
    cos_p, sin_p = cos_sin_polynomials(jnp.where(small, -z, rho * rho), z.dtype)
    cos_w, sin_w = rotate_quadrant(cos_p, rho * sin_p, quadrant)
    # Evanescent: cosh(w) e^{-w} = (1 + e^{-2w})/2, sinh(w) e^{-w} = (1 - e^{-2w})/2.
    ch_far = jnp.where(grow, 0.5 * (1.0 + decay), cos_w)
    sh_far = jnp.where(grow, 0.5 * (1.0 - decay), sin_w) / w
    scale = jnp.where(grow | small, e_h, 1.0)
    ch = jnp.where(small, cos_p * e_h, ch_far)
    shx = jnp.where(small, sin_p * e_h, sh_far)
    return _computed_once(ch, x), _computed_once(x * shx, x), _computed_once(scale, x)


def _computed_once(value, x):
    """``value`` divided by an exact 1 (``x >= 0``) that the compiler cannot fold.

    XLA:CPU fuses cheap elementwise producers into every consumer and so recomputes
    them once per consumer: the five compound-matrix components of a layer each
    recomputed both layer functions' cos/sin polynomials and series. A division counts as
    expensive and is not duplicated, so each value is computed once per layer and
    read by the five. Measured on the 2-core Xeon (float64, 20 layers, one device):
    ~1,700 → ~770 HLO operations per layer step. The value is unchanged (a division
    by 1 is exact) and so is its derivative.
    """
    return value / jnp.where(x >= 0, 1.0, -1.0).astype(value.dtype)


def _max_abs_normalise(vector):
    norm = jnp.abs(vector[0])
    for component in vector[1:]:
        norm = jnp.maximum(norm, jnp.abs(component))
    # A zero vector cannot occur for a non-degenerate layer; guard the division anyway.
    inverse = 1.0 / jnp.where(norm > 0, norm, 1.0)
    return tuple(component * inverse for component in vector)


def _love_layer_constants(vs, rho):
    return (vs * vs, 1.0 / (vs * vs), rho, 1.0 / rho)


def _love_coefficients_from(c2, inverse_c2, vs2, inverse_vs2, rho, irho):
    t = vs2 * inverse_c2  # β²/c²
    # r² = 1 - c²/β², 1/μ with μ = ρ β²/c² the shear modulus / c², and μ r².
    return 1.0 - c2 * inverse_vs2, irho * c2 * inverse_vs2, rho * (t - 1.0)


def _love_layer(carry, x, coefficients):
    r2, inverse_mu, mu_r2 = coefficients
    ch, sh, _ = layer_functions(x, r2)
    y1, y2 = carry
    # Upward propagator exp(-A x) for A = [[0, 1/mu], [mu r², 0]].
    n1 = ch * y1 - inverse_mu * sh * y2
    n2 = ch * y2 - mu_r2 * sh * y1
    return (n1, n2)


def _love_halfspace(c2, vs, rho):
    t = vs * vs / c2
    rb2 = jnp.maximum(1.0 - 1.0 / t, 0.0)
    rb = jnp.sqrt(jnp.where(rb2 > 0, rb2, 1.0)) * (rb2 > 0)
    # Decaying solution exp(-r ζ): (u, σ/(k c²)) = (1, -mu r).
    return (jnp.ones_like(c2), -rho * t * rb)


def _rayleigh_layer_constants(vp, vs, rho):
    """The ``c``-independent factors of :func:`_rayleigh_coefficients`, per layer."""
    return (vs * vs, 1.0 / (vs * vs), 1.0 / (vp * vp), rho, 1.0 / rho)


def _rayleigh_coefficients(c2, vp, vs, rho):
    """Polynomial coefficients of the reduced compound matrix (functions of c and the layer)."""
    return _rayleigh_coefficients_from(c2, 1.0 / c2, *_rayleigh_layer_constants(vp, vs, rho))


def _rayleigh_coefficients_from(c2, inverse_c2, vs2, inverse_vs2, inverse_vp2, rho, irho):
    # Products only: the reciprocals of c² and of the layer constants are taken once,
    # outside the layer loop (divisions are the slowest vector operations here).
    t = vs2 * inverse_c2  # β²/c²
    p = c2 * inverse_vp2  # c²/α²
    u = c2 * inverse_vs2  # 1/t
    t2 = t * t
    tm1 = t - 1.0
    pm1 = p - 1.0
    s1 = 2.0 * t - 1.0
    a2 = 4.0 * t * tm1 * (p - 2.0) - 1.0
    b1 = 4.0 * t - 1.0
    b2 = 2.0 * p * t - 2.0 * p - 4.0 * t + 3.0
    f1 = s1 * s1
    return dict(
        r2a=1.0 - p,
        r2b=1.0 - u,
        a1=8.0 * t2 - 4.0 * t + 1.0,
        a2=a2,
        a3=-4.0 * t * s1,
        b1r=b1 * irho,
        b2r=b2 * irho,
        ur=(1.0 - u) * irho,
        ir=irho,
        pr=pm1 * irho,
        g1=2.0 * irho * irho,
        g2=(p * tm1 - 2.0 * t + 1.0) * u * irho * irho,
        e1r=2.0 * rho * t * s1 * b1,
        e2r=rho * (8.0 * p * t2 * tm1 - 16.0 * t2 * t + 20.0 * t2 - 6.0 * t + 1.0),
        h1=-8.0 * t * s1,
        h2=-2.0 * a2,
        h3=b1 * b1,
        tm2=2.0 * tm1,
        s1=s1,
        s2=2.0 * t * pm1,
        f1r=rho * f1,
        f2r=4.0 * t2 * pm1 * rho,
        pm1=pm1,
        k1=4.0 * t * tm1 * rho,
        um=1.0 - u,
        m1=-8.0 * rho * rho * t2 * f1,
        m2=-rho * rho * (16.0 * p * t2 * t * tm1 - 32.0 * t2 * t2 + 48.0 * t2 * t - 24.0 * t2 + 8.0 * t - 1.0),
    )


def _rayleigh_layer(carry, x, k):
    cha, sha, ga = layer_functions(x, k["r2a"])
    chb, shb, gb = layer_functions(x, k["r2b"])
    cc = cha * chb
    ss = sha * shb
    cs = cha * shb
    sc = sha * chb
    one = ga * gb
    ccm1 = cc - one
    d01, d02, d03, d12, d23 = carry
    # Entries of the reduced (5×5) compound propagator, grouped where they repeat.
    corner = k["a1"] * cc + k["a2"] * ss + k["a3"] * one
    b_term = k["b1r"] * ccm1 + k["b2r"] * ss
    e_term = k["e1r"] * ccm1 + k["e2r"] * ss
    i_term = k["ir"] * cs + k["pr"] * sc
    u_term = k["ur"] * cs - k["ir"] * sc
    s_term = k["s1"] * cs + k["s2"] * sc
    t_term = k["tm2"] * cs - k["s1"] * sc
    f_term = k["f1r"] * cs + k["f2r"] * sc
    g_term = k["k1"] * cs - k["f1r"] * sc
    n01 = corner * d01 - 2.0 * b_term * d02 + u_term * d03 + i_term * d12 - (k["g1"] * ccm1 + k["g2"] * ss) * d23
    n02 = (
        e_term * d01
        + (k["h1"] * cc + k["h2"] * ss + k["h3"] * one) * d02
        + t_term * d03
        + s_term * d12
        - b_term * d23
    )
    n03 = f_term * d01 - 2.0 * s_term * d02 + cc * d03 + k["pm1"] * ss * d12 - i_term * d23
    n12 = g_term * d01 - 2.0 * t_term * d02 - k["um"] * ss * d03 + cc * d12 - u_term * d23
    n23 = (k["m1"] * ccm1 + k["m2"] * ss) * d01 + 2.0 * e_term * d02 - g_term * d03 - f_term * d12 + corner * d23
    return (n01, n02, n03, n12, n23)


def _rayleigh_halfspace(c2, vp, vs, rho):
    t = vs * vs / c2
    u = 1.0 / t
    ra2 = jnp.maximum(1.0 - c2 / (vp * vp), 0.0)
    rb2 = jnp.maximum(1.0 - u, 0.0)
    ra = jnp.sqrt(jnp.where(ra2 > 0, ra2, 1.0)) * (ra2 > 0)
    rb = jnp.sqrt(jnp.where(rb2 > 0, rb2, 1.0)) * (rb2 > 0)
    rarb = ra * rb
    # Wedge product of the two decaying eigenvectors, times the positive factor
    # 2 r_a (1 + r_b²) ρ² c⁴ that clears every denominator.
    g = 2.0 * rarb - 2.0 + u
    d01 = u * u * (1.0 - rarb)
    d02 = -rho * u * g
    d03 = -rho * u * u * ra
    d12 = rho * u * u * rb
    d23 = rho * rho * (4.0 * rarb - (2.0 - u) ** 2)
    return (d01, d02, d03, d12, d23)


def secular_function(c, omega, thickness, vp, vs, rho, *, wave="rayleigh"):
    """Normalised secular function ``F(c, ω)`` of a layered half-space.

    Its zeros in ``c < vs[-1]`` are the phase velocities of the normal modes. The
    function is real, continuous in ``c`` and ``ω``, and scaled by a positive,
    smooth factor chosen to avoid overflow; only its sign and zeros carry meaning.

    Parameters
    ----------
    c : array, shape S
        Trial phase velocities (km/s), broadcast against ``omega``.
    omega : array, shape S
        Angular frequencies ``2π/T`` (rad/s).
    thickness, vp, vs, rho : array, shape (L,)
        Layer thickness (km), P and S velocities (km/s) and density (g/cm³), top to
        bottom; the last entry is the half-space (its thickness is ignored).
    wave : {"rayleigh", "love"}
        Static choice of the wave type.

    Returns
    -------
    array, shape S
        The surface traction component of the propagated solution (Love: ``σ_yz``;
        Rayleigh: the stress–stress minor ``Δ_{σ_zz σ_xz}``).

    Notes
    -----
    Layers are folded from the half-space upwards with ``lax.scan``; a layer of zero
    thickness has the identity propagator and changes nothing.
    """
    c2 = c * c
    omega_over_c = omega / c
    shape = jnp.broadcast_shapes(c2.shape, omega_over_c.shape)
    if wave == "love":
        carry = _love_halfspace(c2, vs[-1], rho[-1])
        layers = _love_layer_constants(vs, rho)
        coefficients, step = _love_coefficients_from, _love_layer
    elif wave == "rayleigh":
        carry = _rayleigh_halfspace(c2, vp[-1], vs[-1], rho[-1])
        layers = _rayleigh_layer_constants(vp, vs, rho)
        coefficients, step = _rayleigh_coefficients_from, _rayleigh_layer
    else:
        raise ValueError(f"argument 'wave' must be 'rayleigh' or 'love'; got {wave!r}")
    carry = tuple(jnp.broadcast_to(v, shape) for v in carry)
    inverse_c2 = 1.0 / c2

    def body(state, layer):
        # The coefficients depend on c and the layer only. Computing them here,
        # inside the fused loop body, is faster on CPU than precomputing them for all
        # layers (measured: the ~25 precomputed arrays cost more memory traffic than
        # the arithmetic they save); the layer's own reciprocals (a few scalars per
        # layer) and 1/c² are taken outside, so the body has no division left but
        # the normalisation's.
        # The vector is normalised *before* each layer, not after: the output of the
        # top layer is left unnormalised, so F stays a smooth function of c near its
        # zeros. (Normalising last would clip F to ±1 wherever the traction is the
        # largest component, e.g. at modes trapped in a low-velocity channel, and
        # make its derivative vanish at the root.)
        thickness_i, *properties = layer
        state = _max_abs_normalise(state)
        return step(state, omega_over_c * thickness_i, coefficients(c2, inverse_c2, *properties)), None

    layers = tuple(values[:-1][::-1] for values in (thickness, *layers))
    carry, _ = jax.lax.scan(body, carry, layers)
    return carry[-1]
