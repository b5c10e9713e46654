"""Phase-velocity root with an implicit (custom JVP) derivative.

At a simple root ``F(c*, θ) = 0`` of the secular function the implicit function theorem
gives ``dc*/dθ = -(∂F/∂θ) / (∂F/∂c)``. The search itself (scans and regula falsi) is
never differentiated: its result enters the derivative only as the point where the
partial derivatives of ``F`` are taken. Where the mode does not exist (NaN) or the
root is not simple (``∂F/∂c = 0``) the tangent is set to zero, so masked NaN entries
never poison a gradient.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ._search import continuation_search
from ._secular import secular_function

__all__ = ["make_phase_root"]


@functools.lru_cache(maxsize=None)
def make_phase_root(wave, mode, n_grid, n_side, n_first, n_local, n_rescue, n_extra, n_repair=0, n_second=0):
    """Build ``root(omega, thickness, vp, vs, rho) -> c`` for static options.

    ``omega`` has shape (P,) (rad/s), the model arrays shape (L,); ``c`` has shape (P,)
    in km/s, NaN where mode ``mode`` does not exist. The search options are those of
    :func:`jaxgeo.dispersion._search.continuation_search`.
    """

    @jax.custom_jvp
    def root(omega, thickness, vp, vs, rho):
        args = jax.lax.stop_gradient((omega, thickness, vp, vs, rho))
        return continuation_search(
            *args, wave, mode, n_grid, n_side, n_first, n_local, n_rescue, n_extra, n_repair, n_second
        )

    @root.defjvp
    def root_jvp(primals, tangents):
        omega, thickness, vp, vs, rho = primals
        c = root(*primals)
        valid = jnp.isfinite(c)
        c_safe = jnp.where(valid, c, vs[-1])

        def secular(c_, *theta):
            return secular_function(c_, *theta, wave=wave)

        _, dF_dc = jax.jvp(lambda c_: secular(c_, *primals), (c_safe,), (jnp.ones_like(c_safe),))
        _, dF_dtheta = jax.jvp(lambda *theta: secular(c_safe, *theta), primals, tangents)
        simple = valid & (dF_dc != 0)
        c_dot = -dF_dtheta / jnp.where(simple, dF_dc, 1.0)
        return c, jnp.where(simple, c_dot, 0.0)

    return root
