"""The classical baseline reaches its χ² target and finds the block."""

import jax.numpy as jnp
import numpy as np

from jaxgeo.inversion import TikhonovConfig, depth_weights, tikhonov_inversion
from problems import block_problem, centre_of_mass


def test_reaches_target_and_centre():
    problem, truth = block_problem()
    result = tikhonov_inversion(problem, TikhonovConfig(dtype="float64"))
    assert abs(result.chi2 - 1.0) < 0.05
    com = centre_of_mass(problem.mesh, result.density)
    assert np.all(np.abs(com[:2] - centre_of_mass(problem.mesh, truth)[:2]) <= 100.0)
    assert result.beta > 0


def test_solution_satisfies_the_normal_equations():
    problem, _ = block_problem()
    config = TikhonovConfig(dtype="float64", cg_iterations=2000, cg_tolerance=1e-12, search_steps=1, depth_exponent=0.0,
                            alpha_s=1.0, alpha_e=0.0, alpha_n=0.0, alpha_u=0.0)
    result = tikhonov_inversion(problem, config)
    # one bisection step: β at the centre of the initial interval; check the minimiser
    op = problem.operator(dtype=jnp.float64)
    G = np.asarray(op.matrix)
    W = 1.0 / problem.sigma
    A = G.T @ (W[:, None] ** 2 * G) + result.beta * np.eye(G.shape[1])
    expected = np.linalg.solve(A, G.T @ (W**2 * problem.data))
    np.testing.assert_allclose(result.density.ravel(), expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())


def test_depth_weights():
    problem, _ = block_problem()
    w = depth_weights(problem.mesh, exponent=2.0)
    assert w.shape == problem.mesh.shape
    assert w[0, 0, -1] == 1.0  # top layer
    assert np.all(np.diff(w[0, 0, :]) > 0)  # smaller at depth (upward index increases upwards)
    # (depth + z0)^-1 with z0 = 50 m (half a 100 m cell): top 50+50, bottom 550+50
    np.testing.assert_allclose(w[0, 0, 0], 100.0 / 600.0)


def test_bounded_solution_respects_bounds_and_target():
    problem, truth = block_problem()
    result = tikhonov_inversion(problem, TikhonovConfig(dtype="float64", bounds=(0.0, 600.0), search_steps=10))
    assert result.density.min() >= 0.0 and result.density.max() <= 600.0
    assert result.chi2 <= 1.05
    com = centre_of_mass(problem.mesh, result.density)
    assert np.all(np.abs(com[:2] - centre_of_mass(problem.mesh, truth)[:2]) <= 100.0)


def test_config_validation():
    import pytest

    with pytest.raises(ValueError, match="bounds"):
        TikhonovConfig(bounds=(1.0, -1.0))
    with pytest.raises(ValueError, match="alpha_s"):
        TikhonovConfig(alpha_s=-1.0)
