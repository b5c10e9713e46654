"""INR gravity inversion: recovery, gradients, operators, checkpoint/resume."""

import dataclasses

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgeo.gravity import PrismMesh
from jaxgeo.inversion import (
    FieldConfig,
    GravityProblem,
    INRConfig,
    INRInversion,
    smoothness,
    standardized_centers,
)
from problems import block_problem, centre_of_mass


# A small, quickly converging configuration: L-BFGS on one network, positivity bound.
FAST = INRConfig(field=FieldConfig(hidden=64, bounds=(0.0, 600.0)), optimizer="lbfgs", ensemble=1,
                 depth_gain=0.75, max_steps=600, chunk=25)
# A tiny Adam configuration with an ensemble of two, for the mechanics.
TINY = INRConfig(field=FieldConfig(hidden=16, depth=2, n_features=16), ensemble=2, max_steps=40, chunk=10)


def test_recovers_a_buried_block():
    problem, truth = block_problem()
    result = INRInversion(problem, FAST).fit(jax.random.key(0), progress=False)
    assert result.chi2 <= 1.5
    com_true = centre_of_mass(problem.mesh, truth)
    com_rec = centre_of_mass(problem.mesh, result.density)
    assert np.all(np.abs(com_rec - com_true) <= 100.0), (com_rec, com_true)  # within one cell
    assert result.operator == "dense"
    assert result.density.shape == problem.mesh.shape


def test_stops_at_the_chi2_target():
    problem, _ = block_problem()
    result = INRInversion(problem, FAST).fit(jax.random.key(0), progress=False)
    assert result.iterations < FAST.max_steps
    assert result.chi2 <= FAST.chi2_target  # parameters frozen at the first step that reached it
    assert result.history["chi2"][-1] <= FAST.chi2_target < result.history["chi2"][-2]


def test_loss_gradient_matches_finite_differences():
    problem, _ = block_problem()
    config = dataclasses.replace(FAST, dtype="float64", field=dataclasses.replace(FAST.field, activation="tanh"))
    inv = INRInversion(problem, config, terms=(smoothness(1e-6),))
    state = inv.init(jax.random.key(1))
    params = jax.tree_util.tree_map(lambda a: a[0], state.params)  # the one ensemble member
    constants = jax.tree_util.tree_map(lambda a: a[0], state.constants)
    features = inv._encode(constants, inv.samples)

    def loss(params):
        return inv._loss(params, constants, features, inv.gain, inv.operator, inv.data, inv.inv_sigma)[0]

    grads = jax.grad(loss)(params)
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    g = jax.flatten_util.ravel_pytree(grads)[0]
    rng = np.random.default_rng(0)
    for index in rng.choice(flat.size, 6, replace=False):
        h = 1e-6 * max(1.0, abs(float(flat[index])))
        e = jnp.zeros_like(flat).at[index].set(h)
        fd = (loss(unravel(flat + e)) - loss(unravel(flat - e))) / (2 * h)
        np.testing.assert_allclose(float(g[index]), float(fd), rtol=1e-5, atol=1e-8 * abs(float(loss(params))))


def test_matrix_free_operator_agrees_with_dense(rng):
    problem, truth = block_problem()
    dense = problem.operator(dtype=jnp.float64, kind="dense")
    free = problem.operator(dtype=jnp.float64, kind="matrix-free")
    auto = problem.operator(dtype=jnp.float64, max_dense_bytes=10)
    assert (dense.kind, free.kind, auto.kind) == ("dense", "matrix-free", "matrix-free")
    rho = jnp.asarray(rng.normal(size=problem.mesh.shape))
    np.testing.assert_allclose(free(rho), dense(rho), rtol=1e-10, atol=1e-12)
    r = jnp.asarray(rng.normal(size=problem.n_data))
    np.testing.assert_allclose(free.transpose(r), dense.transpose(r), rtol=1e-9, atol=1e-12)


def test_operator_columns_are_the_operator_on_each_grid(rng):
    problem, _ = block_problem()
    grids = jnp.asarray(rng.normal(size=(3, *problem.mesh.shape)))
    for kind in ("dense", "matrix-free"):
        operator = problem.operator(dtype=jnp.float64, kind=kind)
        expected = np.stack([operator(g) for g in grids], axis=1)
        np.testing.assert_allclose(operator.columns(grids), expected, rtol=1e-10, atol=1e-12)


def test_ensemble_step_is_each_members_own_adam_step():
    """The batched training step (all members' g_z as one product, the first layer's
    gradient from the transposed encoding) equals per-member gradients and Adam."""
    problem, _ = block_problem()
    config = dataclasses.replace(TINY, dtype="float64", chunk=1, n_sub=2, depth_gain=0.5)
    inv = INRInversion(problem, config, terms=(smoothness(1e-6),))
    state = inv.init(jax.random.key(3))
    new, (_, chi2) = inv.step(state)
    schedule = optax.exponential_decay(config.learning_rate, config.decay_steps, config.decay_rate)
    optimizer = optax.adam(schedule, b1=config.beta1, b2=config.beta2)
    densities = []

    def loss(p, constants):
        features = inv._encode(constants, inv.samples)
        return inv._loss(p, constants, features, inv.gain, inv.operator, inv.data, inv.inv_sigma)

    # one compiled reference step for all members (op by op it took ~25 s here)
    value_and_grad = jax.jit(jax.value_and_grad(loss, has_aux=True))
    update = jax.jit(lambda grads, params: optimizer.update(grads, optimizer.init(params), params)[0])
    for m in range(config.ensemble):
        params, constants = (jax.tree_util.tree_map(lambda a: a[m], tree) for tree in (state.params, state.constants))
        (_, (member_chi2, density)), grads = value_and_grad(params, constants)
        updates = update(grads, params)
        expected = optax.apply_updates(params, updates)
        jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a[m], b, rtol=1e-9, atol=1e-12), new.params, expected)
        np.testing.assert_allclose(new.member_chi2[m], member_chi2, rtol=1e-12)
        densities.append(density)
    mean_chi2 = jnp.mean(((inv.operator(jnp.mean(jnp.stack(densities), axis=0)) - inv.data) * inv.inv_sigma) ** 2)
    np.testing.assert_allclose(chi2[0], mean_chi2, rtol=1e-12)


@pytest.mark.slow
def test_matrix_free_training_matches_dense():
    problem, _ = block_problem()
    config = dataclasses.replace(TINY, max_steps=4, chunk=2)
    a = INRInversion(problem, dataclasses.replace(config, operator="dense")).fit(jax.random.key(0), progress=False)
    b = INRInversion(problem, dataclasses.replace(config, operator="matrix-free")).fit(jax.random.key(0), progress=False)
    assert b.operator == "matrix-free"
    assert a.iterations == b.iterations == 4
    np.testing.assert_allclose(b.density, a.density, atol=1e-3 * np.abs(a.density).max())


def test_sub_cell_samples(rng):
    mesh = PrismMesh(np.array([0.0, 2.0, 3.0]), np.array([0.0, 1.0]), np.array([-1.0, 0.0]))
    one = np.asarray(standardized_centers(mesh, 1, jnp.float64))
    two = np.asarray(standardized_centers(mesh, 2, jnp.float64))
    assert one.shape == (2, 1, 1, 1, 3) and two.shape == (2, 1, 1, 8, 3)
    # sub-cell samples average to the cell centre
    np.testing.assert_allclose(two.mean(axis=3), one[:, :, :, 0], atol=1e-12)


def test_custom_term_changes_the_result():
    problem, _ = block_problem()
    config = dataclasses.replace(TINY, max_steps=60)

    def no_deep_mass(density):
        return 1e-2 * jnp.mean(density[:, :, :3] ** 2)

    plain = INRInversion(problem, config).fit(jax.random.key(0), progress=False)
    custom = INRInversion(problem, config, terms=(no_deep_mass,)).fit(jax.random.key(0), progress=False)
    assert np.abs(custom.density[:, :, :3]).mean() < np.abs(plain.density[:, :, :3]).mean()


def test_checkpoint_resume_gives_the_same_parameters(tmp_path):
    problem, _ = block_problem()
    config = dataclasses.replace(TINY, max_steps=100, chunk=20, checkpoint_every=1, chi2_target=1e-6)
    reference = INRInversion(problem, config).fit(jax.random.key(5), progress=False)

    class Killed(Exception):
        pass

    def kill_after_three(state, metrics):
        if int(state.step) >= 60:
            raise Killed

    with pytest.raises(Killed):
        INRInversion(problem, config).fit(jax.random.key(5), workdir=tmp_path, progress=False, callback=kill_after_three)
    resumed = INRInversion(problem, config).fit(jax.random.key(5), workdir=tmp_path, progress=False)
    assert resumed.resumed_from == 60
    assert resumed.iterations == reference.iterations == 100
    jax.tree_util.tree_map(np.testing.assert_array_equal, resumed.state.params, reference.state.params)
    np.testing.assert_array_equal(resumed.density, reference.density)
    assert (tmp_path / "inr_config.json").exists()
    # a different configuration cannot resume from these checkpoints
    other = dataclasses.replace(config, learning_rate=1e-3)
    with pytest.raises(ValueError, match="other settings"):
        INRInversion(problem, other).fit(jax.random.key(5), workdir=tmp_path, progress=False)


def test_step_compiles_once():
    problem, _ = block_problem()
    inv = INRInversion(problem, dataclasses.replace(TINY, chunk=5))
    state = inv.init(jax.random.key(0))
    state, _ = inv.step(state)
    state, _ = inv.step(state)
    assert inv._chunk._cache_size() == 1


def test_float32_is_the_default_and_float64_needs_x64():
    problem, _ = block_problem()
    inv = INRInversion(problem, TINY)
    assert inv.data.dtype == jnp.float32 and inv.operator.matrix.dtype == jnp.float32
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(ValueError, match="jax_enable_x64"):
            INRInversion(problem, dataclasses.replace(TINY, dtype="float64"))
    finally:
        jax.config.update("jax_enable_x64", True)


def test_problem_validation():
    mesh = PrismMesh(np.linspace(0, 1, 3), np.linspace(0, 1, 3), np.linspace(-1, 0, 3))
    coords = (np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="sigma"):
        GravityProblem(mesh, coords, np.zeros(3), np.array([1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="data"):
        GravityProblem(mesh, coords, np.array([0.0, np.nan, 0.0]), 1.0)
    with pytest.raises(ValueError, match="northing has 2"):
        GravityProblem(mesh, (np.zeros(3), np.zeros(2), np.ones(3)), np.zeros(3), 1.0)
