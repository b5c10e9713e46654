"""cos, sin, log and arctan that XLA:CPU vectorises.

On the CPU, XLA lowers ``sin`` and ``cos`` (and the trigonometric half of a complex
``exp``) to scalar calls into the C math library, one element at a time: a (cos, sin)
pair cost 34 ns (float32) and 49 ns (float64) per element on this project's benchmark
machine, against 5.1 and 6.6 ns with :func:`cos_sin`, which is plain ``jax.numpy``
arithmetic that XLA fuses and vectorises on every backend (rows of 224 elements mapped
over 512 rows, each reduced by a dot product, as in the receiver-function synthesis).
The receiver functions evaluate ~70,000 of them per model and the dispersion secular
function one per layer and trial velocity.

:func:`cos_sin` follows the textbook construction: the argument is reduced to
r = x − q·π/2 with |r| ≤ π/4 by a three-part (Cody–Waite) splitting of π/2, then the
Taylor series of cos r and sin r (coefficients 1/k!, as many terms as the type needs)
are combined by the quadrant q mod 4. Within 1-2 units of the type's epsilon of NumPy's
values for |x| up to 2e4 rad (float32) and 1e7 rad (float64) (tests/test_math.py);
beyond, the reduction error grows with |x|. Differentiable: the derivative is formed
from the same values.
"""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["cos_sin", "complex_exp", "log_positive", "arctan_unit"]

# π to 50 significant digits, for the splitting of π/2 below.
getcontext().prec = 60
_HALF_PI = Decimal("3.1415926535897932384626433832795028841971693993751") / 2


def _split_half_pi(dtype, head_bits):
    """π/2 = c1 + c2 + c3 with c1, c2 of ``head_bits`` significant bits (so q·c1 and
    q·c2 are exact for |q| < 2^(mantissa − head_bits)) and c3 the rounded rest."""
    parts, rest = [], _HALF_PI
    for _ in range(2):
        exponent = math.floor(math.log2(float(rest)))
        quantum = Decimal(2) ** (exponent - head_bits + 1)
        head = (rest / quantum).to_integral_value(rounding="ROUND_FLOOR") * quantum
        parts.append(np.asarray(float(head), dtype))
        rest -= head
    parts.append(np.asarray(float(rest), dtype))
    return tuple(parts)


# float64: 53-bit mantissa, heads of 30 bits: q·c exact for |q| < 2^23 (|x| < 1.3e7 rad
# exactly, with ~1e-9 relative error in r beyond). float32: 24-bit mantissa, heads of
# 10 bits: q exact to 2^14 (|x| < 2.6e4 rad).
_SPLITS = {np.dtype("float64"): _split_half_pi(np.float64, 30), np.dtype("float32"): _split_half_pi(np.float32, 10)}
# Taylor terms (powers r^0 … r^(2K-2) for cos, r^1 … r^(2K-1) for sin): the first
# neglected term at |r| = π/4 is below 1e-17 (float64) and 3e-9 (float32).
_TERMS = {np.dtype("float64"): 9, np.dtype("float32"): 6}


def cos_sin_polynomials(u, dtype):
    """``(Σ (−u)^k/(2k)!, Σ (−u)^k/(2k+1)!)``: ``(cos r, sin r / r)`` at ``u = r²``.

    The Taylor polynomials behind :func:`cos_sin`, as many terms as ``dtype`` needs for
    ``|u| ≤ (π/4)²``. At ``u = −z`` (``0 < z``) they are ``cosh √z`` and
    ``sinh √z / √z``, exact to the same order for ``|z| ≤ (π/4)²``.
    """
    terms = _TERMS[np.dtype(dtype)]
    cos_acc = jnp.full_like(u, (-1) ** (terms - 1) / math.factorial(2 * terms - 2))
    sin_acc = jnp.full_like(u, (-1) ** (terms - 1) / math.factorial(2 * terms - 1))
    for k in range(terms - 2, -1, -1):
        cos_acc = cos_acc * u + (-1) ** k / math.factorial(2 * k)
        sin_acc = sin_acc * u + (-1) ** k / math.factorial(2 * k + 1)
    return cos_acc, sin_acc


def reduce_half_pi(x):
    """``(r, q)`` with ``x = q·π/2 + r``, ``|r| ≤ π/4`` (three-part Cody–Waite reduction)
    and ``q`` the nearest integer (as an int32 array; ``q mod 4`` is the quadrant)."""
    dtype = np.dtype(x.dtype)
    if dtype not in _SPLITS:
        raise TypeError(f"cos_sin supports float32 and float64 arrays, got {dtype}")
    c1, c2, c3 = _SPLITS[dtype]
    q = jnp.round(x * np.asarray(2.0 / math.pi, dtype))
    r = ((x - q * c1) - q * c2) - q * c3
    return r, q.astype(jnp.int32)


def rotate_quadrant(cos_r, sin_r, q):
    """``(cos x, sin x)`` from ``cos r``, ``sin r`` and ``q`` of :func:`reduce_half_pi`."""
    quadrant = jnp.bitwise_and(q, 3)
    swap = (quadrant & 1) == 1
    cos_x = jnp.where(swap, -sin_r, cos_r)
    sin_x = jnp.where(swap, cos_r, sin_r)
    flip = quadrant >= 2
    return jnp.where(flip, -cos_x, cos_x), jnp.where(flip, -sin_x, sin_x)


@jax.custom_jvp
def cos_sin(x):
    """(cos x, sin x) of a real float32/float64 array."""
    x = jnp.asarray(x)
    r, q = reduce_half_pi(x)
    c, s_over_r = cos_sin_polynomials(r * r, x.dtype)
    return rotate_quadrant(c, r * s_over_r, q)


@cos_sin.defjvp
def _cos_sin_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    c, s = cos_sin(x)
    return (c, s), (-s * dx, c * dx)


def complex_exp(z):
    """exp(z) of a complex64/complex128 array, with :func:`cos_sin` for the phase."""
    c, s = cos_sin(jnp.imag(z))
    modulus = jnp.exp(jnp.real(z))
    return jax.lax.complex(modulus * c, modulus * s)


# --- log and arctan ------------------------------------------------------------------
#
# XLA:CPU lowers float64 log and arctan (and float32 arctan) to scalar calls into the C
# math library as well; a fused elementwise loop containing one is not vectorised at
# all, so every multiply and select around it runs one element at a time too. The two
# functions below are plain jax.numpy arithmetic (bit manipulation, one division,
# a short Horner polynomial) that XLA fuses and vectorises; the prism kernels use them.


def _split_ln2(dtype, head_bits):
    """ln 2 = hi + lo with hi of ``head_bits`` bits, so that e·hi is exact for the
    exponents e of the type."""
    getcontext().prec = 60
    ln2 = Decimal(2).ln()
    quantum = Decimal(2) ** (-head_bits)
    head = (ln2 / quantum).to_integral_value(rounding="ROUND_FLOOR") * quantum
    return np.asarray(float(head), dtype), np.asarray(float(ln2 - head), dtype)


_LOG = {
    # (integer type, mantissa bits, exponent bias, ln 2 split, Horner terms): the first
    # neglected term of 2·atanh(f)/(2f) at |f| = 3 − 2√2 is 2e-17 (float64), 2e-9 (float32).
    np.dtype("float64"): (jnp.int64, 52, 1023, _split_ln2(np.float64, 42), 10),
    np.dtype("float32"): (jnp.int32, 23, 127, _split_ln2(np.float32, 15), 5),
}


@jax.custom_jvp
def log_positive(x):
    """Natural logarithm of a positive, normal (not subnormal), finite float array.

    x = 2^e·m with m in [√½, √2), ln m = 2·atanh(f) with f = (m − 1)/(m + 1) (|f| ≤
    0.172) by its Taylor series, and e·ln 2 in two parts. Within 2 units of the type's
    epsilon of NumPy's log (tests/test_math.py). Zero, negative, subnormal, inf and NaN
    arguments give meaningless values: callers guarantee the domain.
    """
    x = jnp.asarray(x)
    dtype = np.dtype(x.dtype)
    if dtype not in _LOG:
        raise TypeError(f"log_positive supports float32 and float64 arrays, got {dtype}")
    int_type, mantissa_bits, bias, (ln2_hi, ln2_lo), terms = _LOG[dtype]
    bits = jax.lax.bitcast_convert_type(x, int_type)
    exponent = (bits >> mantissa_bits) - bias
    mantissa_mask = (1 << mantissa_bits) - 1
    m = jax.lax.bitcast_convert_type((bits & mantissa_mask) | (bias << mantissa_bits), dtype)
    large = m > np.asarray(math.sqrt(2.0), dtype)
    m = jnp.where(large, 0.5 * m, m)
    e = (exponent + large.astype(int_type)).astype(dtype)
    f = (m - 1.0) / (m + 1.0)
    w = f * f
    acc = jnp.full_like(w, 1.0 / (2 * terms - 1))
    for k in range(terms - 2, -1, -1):
        acc = acc * w + 1.0 / (2 * k + 1)
    return e * ln2_hi + (e * ln2_lo + 2.0 * f * acc)


@log_positive.defjvp
def _log_positive_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return log_positive(x), dx / x


# arctan on [−1, 1]: |t| is reduced to v = (|t| − c)/(1 + |t|·c) with c = tan(kπ/16),
# k = 0…4 the nearest, so that |v| ≤ tan(π/32); arctan v by its Taylor series (first
# neglected term 5e-18 in float64 with 8 terms, 1e-9 in float32 with 4).
_ATAN_CENTRES = [math.tan(k * math.pi / 16) for k in range(5)]
_ATAN_BOUNDS = [math.tan((2 * k - 1) * math.pi / 32) for k in range(1, 5)]
_ATAN_TERMS = {np.dtype("float64"): 8, np.dtype("float32"): 4}


@jax.custom_jvp
def arctan_unit(t):
    """arctan t for a float array with |t| ≤ 1 (NaN-free; beyond 1 it is wrong).

    Within 2 units of the type's epsilon of NumPy's arctan (tests/test_math.py).
    """
    t = jnp.asarray(t)
    dtype = np.dtype(t.dtype)
    if dtype not in _ATAN_TERMS:
        raise TypeError(f"arctan_unit supports float32 and float64 arrays, got {dtype}")
    a = jnp.abs(t)
    centre = jnp.zeros_like(a)
    offset = jnp.zeros_like(a)
    for k, bound in enumerate(_ATAN_BOUNDS, start=1):
        beyond = a > np.asarray(bound, dtype)
        centre = jnp.where(beyond, np.asarray(_ATAN_CENTRES[k], dtype), centre)
        offset = jnp.where(beyond, np.asarray(math.atan(_ATAN_CENTRES[k]), dtype), offset)
    v = (a - centre) / (1.0 + a * centre)
    w = v * v
    terms = _ATAN_TERMS[dtype]
    acc = jnp.full_like(w, (-1) ** (terms - 1) / (2 * terms - 1))
    for k in range(terms - 2, -1, -1):
        acc = acc * w + (-1) ** k / (2 * k + 1)
    value = offset + v * acc
    return jnp.where(t < 0, -value, value)


@arctan_unit.defjvp
def _arctan_unit_jvp(primals, tangents):
    (t,), (dt,) = primals, tangents
    return arctan_unit(t), dt / (1.0 + t * t)
