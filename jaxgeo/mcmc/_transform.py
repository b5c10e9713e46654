"""The logit transform of a box: bounded parameters ↔ unbounded sampler coordinates.

The samplers move in ℝ^d; the physical parameters live in the prior's box
``lower ≤ θ ≤ upper``. The map (element-wise)

    θ = lower + (upper − lower) · σ(x),     σ(x) = 1 / (1 + e^(−x)),

is a bijection ℝ → (lower, upper). A density p(θ) on the box becomes, in x,

    log p_x(x) = log p(θ(x)) + Σ_i log|dθ_i/dx_i|,
    log|dθ_i/dx_i| = log(upper_i − lower_i) + log σ(x_i) + log σ(−x_i)
                   = log(upper_i − lower_i) − softplus(−x_i) − softplus(x_i),

written with ``softplus`` (never ``log(σ)``) so that it stays finite and accurate for
|x| up to the float range. Under the uniform prior the log-volume terms cancel and the
prior in x is a product of standard logistic densities (variance π²/3 ≈ 3.3).

In float32, σ(x) rounds to exactly 0 or 1 for |x| ≳ 17 (θ then sits on a bound, which
:func:`jaxgeo.earth.log_prior` accepts: its bounds are inclusive); the Jacobian term
does not round, so such far-out x keep a finite, rapidly falling log-density.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["BoxTransform"]


@dataclasses.dataclass(frozen=True, eq=False)
class BoxTransform:
    """Logit transform of the box ``lower ≤ θ ≤ upper`` (NumPy bounds, shape (d,)).

    Methods map over leading axes: ``x`` and ``θ`` have shape (..., d).
    """

    lower: np.ndarray
    upper: np.ndarray

    def __post_init__(self):
        lower = np.asarray(self.lower, dtype=np.float64).reshape(-1)
        upper = np.asarray(self.upper, dtype=np.float64).reshape(-1)
        if lower.shape != upper.shape:
            raise ValueError(f"lower and upper must have equal shapes, got {lower.shape} and {upper.shape}")
        bad = ~(np.isfinite(lower) & np.isfinite(upper) & (upper > lower))
        if np.any(bad):
            i = int(np.argmax(bad))
            raise ValueError(f"bounds at index {i}: need finite lower < upper, got {lower[i]!r}, {upper[i]!r}")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)

    @property
    def dimension(self) -> int:
        return self.lower.size

    def _bounds(self, like):
        shape, dtype = jnp.shape(like), jnp.result_type(like)
        return (jnp.broadcast_to(jnp.asarray(self.lower, dtype), shape),
                jnp.broadcast_to(jnp.asarray(self.upper, dtype), shape))

    def to_bounded(self, x):
        """θ (..., d) of sampler coordinates x (..., d)."""
        x = jnp.asarray(x)
        lower, upper = self._bounds(x)
        return jnp.clip(lower + (upper - lower) * jax.nn.sigmoid(x), lower, upper)

    def to_unbounded(self, theta):
        """x (..., d) of parameters θ (..., d) strictly inside the box (±inf on a bound)."""
        theta = jnp.asarray(theta)
        lower, upper = self._bounds(theta)
        u = (theta - lower) / (upper - lower)
        return jnp.log(u) - jnp.log1p(-u)

    def log_det_jacobian(self, x):
        """Σ_i log|dθ_i/dx_i| (...) at x (..., d) (module docstring)."""
        x = jnp.asarray(x)
        lower, upper = self._bounds(x)
        terms = jnp.log(upper - lower) - jax.nn.softplus(x) - jax.nn.softplus(-x)
        return jnp.sum(terms, axis=-1)
