"""Classical baseline: depth-weighted Tikhonov inversion (Li & Oldenburg 1998).

Minimises φ(m) = ‖(G m − d)/σ‖² + β ‖W_m (m − m_ref)‖² with the model-objective
operator W_m = [√α_s Z; √α_e D_e Z; √α_n D_n Z; √α_u D_u Z], Z = diag(w(z)) the
depth weighting w = (depth + z0)^(−β_w/2) (β_w = 2 for gravity) and D the first
differences between neighbouring cells. For a given β the minimiser solves the normal
equations (GᵀΣ⁻²G + β W_mᵀW_m) m = GᵀΣ⁻²d + β W_mᵀW_m m_ref by conjugate gradients
(``jax.scipy.sparse.linalg.cg``); β is then found by bisection on log β so that the
χ² per datum equals the target (the discrepancy principle).

Li, Y. & Oldenburg, D. W. (1998), 3-D inversion of gravity data, Geophysics 63(1),
109–119, doi:10.1190/1.1444302.
"""

from __future__ import annotations

import dataclasses
import math
import time

import jax
import jax.numpy as jnp
import numpy as np

from ._problem import GravityProblem, depth_weights


@dataclasses.dataclass(frozen=True)
class TikhonovConfig:
    """Settings of the Tikhonov baseline.

    Attributes
    ----------
    alpha_s : float
        Weight of the (depth-weighted) smallness term, relative to the smoothness terms.
    alpha_e, alpha_n, alpha_u : float
        Weights of the first-difference terms along easting, northing and upward.
    depth_exponent : float
        β_w of the depth weighting (2 for gravity; 0 switches it off).
    chi2_target : float
        χ² per datum that β is tuned to reach.
    cg_iterations : int
        Conjugate-gradient iterations per solve (at most).
    cg_tolerance : float
        Relative residual at which CG stops.
    search_steps : int
        Bisection steps on log10 β.
    bounds : (float, float) or None
        Lower and upper density bounds (kg/m³). With bounds, each solve is a
        bound-constrained minimisation of φ by SciPy's L-BFGS-B (at most
        ``cg_iterations`` iterations) instead of CG.
    dtype : str
        ``"float32"`` or ``"float64"``.
    """

    alpha_s: float = 1e-3
    alpha_e: float = 1.0
    alpha_n: float = 1.0
    alpha_u: float = 1.0
    depth_exponent: float = 2.0
    chi2_target: float = 1.0
    cg_iterations: int = 300
    cg_tolerance: float = 1e-6
    search_steps: int = 18
    bounds: tuple[float, float] | None = None
    dtype: str = "float32"

    def __post_init__(self):
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {self.dtype!r}")
        for name in ("alpha_s", "alpha_e", "alpha_n", "alpha_u", "depth_exponent"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be ≥ 0; got {getattr(self, name)}")
        for name in ("cg_iterations", "search_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be ≥ 1; got {getattr(self, name)}")
        if not self.chi2_target > 0:
            raise ValueError(f"chi2_target must be > 0; got {self.chi2_target}")
        if self.bounds is not None and not self.bounds[1] > self.bounds[0]:
            raise ValueError(f"bounds must be (low, high) with high > low; got {self.bounds}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class TikhonovResult:
    density: np.ndarray
    predicted: np.ndarray
    chi2: float
    beta: float
    iterations: int  # number of β solves in the search (each ≤ cg_iterations CG or L-BFGS-B steps)
    seconds: float
    operator: str


def tikhonov_inversion(problem: GravityProblem, config: TikhonovConfig = TikhonovConfig(), *, reference=None,
                       operator=None) -> TikhonovResult:
    """Depth-weighted Tikhonov inversion reaching ``config.chi2_target``.

    Parameters
    ----------
    problem : GravityProblem
    config : TikhonovConfig
    reference : array of the mesh's shape, optional
        Reference model m_ref (kg/m³); zero by default.
    operator : DenseOperator or MeshOperator, optional
        A forward operator already built for the problem.

    Returns
    -------
    TikhonovResult with the density grid (kg/m³), predicted data (mGal), χ², β, the
    number of β solves and the wall time.
    """
    dtype = jnp.dtype(config.dtype)
    op = operator if operator is not None else problem.operator(dtype=dtype)
    shape = problem.mesh.shape
    w = jnp.asarray(depth_weights(problem.mesh, exponent=config.depth_exponent), dtype) if config.depth_exponent else jnp.ones(shape, dtype)
    inv_sigma = jnp.asarray(1.0 / problem.sigma, dtype)
    data = jnp.asarray(problem.data, dtype)
    ref = jnp.zeros(shape, dtype) if reference is None else jnp.asarray(reference, dtype).reshape(shape)
    alphas = (config.alpha_s, config.alpha_e, config.alpha_n, config.alpha_u)

    def model_residuals(m):
        zm = w * m.reshape(shape)
        return [math.sqrt(alphas[0]) * zm] + [math.sqrt(a) * jnp.diff(zm, axis=i) for i, a in enumerate(alphas[1:])]

    def model_normal(m):
        _, vjp = jax.vjp(model_residuals, m)
        return vjp(model_residuals(m))[0]

    def data_normal(op, m):
        return op.transpose(op(m) * inv_sigma**2)

    @jax.jit
    def solve(log_beta, x0, op, data):
        # The operator and data are arguments, not constants baked into the program.
        beta = 10.0**log_beta
        rhs = op.transpose(data * inv_sigma**2) + beta * model_normal(ref.reshape(-1))
        matvec = lambda m: data_normal(op, m) + beta * model_normal(m)  # noqa: E731
        x, _ = jax.scipy.sparse.linalg.cg(matvec, rhs, x0=x0, tol=config.cg_tolerance, maxiter=config.cg_iterations)
        chi2 = jnp.mean(((op(x) - data) * inv_sigma) ** 2)
        return x, chi2

    # Scale of β: ratio of the mean diagonals of the two normal operators (probed on
    # random vectors), so that the search interval is problem-independent.
    probe = jax.random.normal(jax.random.key(0), (4, problem.mesh.size), dtype)
    d_scale = float(jnp.mean(jax.vmap(lambda v: v @ data_normal(op, v))(probe)))
    m_scale = float(jnp.mean(jax.vmap(lambda v: v @ model_normal(v))(probe)))
    centre = math.log10(d_scale / m_scale)
    low, high = centre - 8.0, centre + 4.0
    @jax.jit
    def objective(log_beta, m, op, data):
        beta = 10.0**log_beta
        residual = (op(m) - data) * inv_sigma
        reg = sum(jnp.sum(r**2) for r in model_residuals(m - ref.reshape(-1)))
        return jnp.sum(residual**2) + beta * reg

    value_and_grad = jax.jit(jax.value_and_grad(objective, argnums=1))

    def bounded_solve(log_beta, x0):
        from scipy.optimize import minimize

        lb = jnp.asarray(log_beta, dtype)

        def fun(x):
            value, grad = value_and_grad(lb, jnp.asarray(x, dtype), op, data)
            return float(value), np.asarray(grad, np.float64)

        low_b, high_b = config.bounds
        x0 = np.clip(np.asarray(x0, np.float64), low_b, high_b)
        res = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=[(low_b, high_b)] * x0.size,
                       options={"maxiter": config.cg_iterations, "ftol": 1e-12, "gtol": 1e-10})
        x = jnp.asarray(res.x, dtype)
        return x, jnp.mean(((op(x) - data) * inv_sigma) ** 2)

    t0 = time.perf_counter()
    x = jnp.zeros(problem.mesh.size, dtype)
    best = None
    for _ in range(config.search_steps):
        mid = 0.5 * (low + high)
        if config.bounds is None:
            x, chi2 = solve(jnp.asarray(mid, dtype), x, op, data)
        else:
            x, chi2 = bounded_solve(mid, x)
        chi2 = float(chi2)
        if chi2 > config.chi2_target:
            high = mid
        else:
            low = mid
            best = (mid, x, chi2)
    if best is None:  # even the smallest β misfits: return the least-regularised solve
        best = (mid, x, chi2)
    log_beta, x, chi2 = best
    seconds = time.perf_counter() - t0
    predicted = op(x)
    return TikhonovResult(
        density=np.asarray(x).reshape(shape),
        predicted=np.asarray(predicted),
        chi2=float(jnp.mean(((predicted - data) * inv_sigma) ** 2)),
        beta=10.0**log_beta,
        iterations=config.search_steps,
        seconds=seconds,
        operator=op.kind,
    )
