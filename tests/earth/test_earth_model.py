"""Prior, B-spline basis, layered model and targets of jaxgeo.earth (fast tests)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo.earth import (
    DEFAULT_LAYERING,
    Layering,
    LOWER,
    N_PARAMS,
    PARAM_NAMES,
    RECEIVER_LAYERING,
    UPPER,
    cubic_bspline_basis,
    layered_model,
    log_prior,
    param_index,
    receiver_model,
    sample_prior,
    target_depths,
    targets,
    vs_profile,
)
from jaxgeo.earth._relations import brocher_vp_from_vs, nafe_drake_density

# The functions are pure and meant to run inside the user's jit; eager calls would compile
# every primitive separately, so the tests jit them once.
layered_model = jax.jit(layered_model, static_argnums=1)
receiver_model = jax.jit(receiver_model, static_argnums=1)
vs_profile = jax.jit(vs_profile)
targets = jax.jit(targets)


def test_parameter_table():
    assert N_PARAMS == 23 == len(PARAM_NAMES) == LOWER.size == UPPER.size
    assert np.all(LOWER < UPPER)
    assert sum(n.startswith("sediment") for n in PARAM_NAMES) == 3
    assert sum(n.startswith("crust") for n in PARAM_NAMES) == 7
    assert sum(n.startswith("mantle") for n in PARAM_NAMES) == 13
    assert LOWER[param_index("sediment_thickness")] == 0.0
    assert LOWER[param_index("sediment_vs_top")] <= 0.5
    assert (
        LOWER[param_index("crust_thickness")],
        UPPER[param_index("crust_thickness")],
    ) == (15.0, 65.0)
    with pytest.raises(ValueError, match="moho"):
        param_index("moho")


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_prior_samples_in_bounds_and_log_prior_consistent(dtype):
    params = sample_prior(jax.random.key(0), 4000, dtype)
    assert params.shape == (4000, 23) and params.dtype == dtype
    p = np.asarray(params, dtype=np.float64)
    assert np.all(p >= LOWER) and np.all(p <= UPPER)
    # uniform: every parameter's mean and spread match the box (4σ of the sample mean)
    mean, half = (LOWER + UPPER) / 2, (UPPER - LOWER) / 2
    assert np.all(np.abs(p.mean(0) - mean) < 4 * half / np.sqrt(3 * 4000))
    lp = np.asarray(log_prior(params))
    assert lp.dtype == dtype
    np.testing.assert_allclose(lp, -np.sum(np.log(UPPER - LOWER)), rtol=1e-6)
    # one parameter outside its bounds -> -inf
    for k in range(N_PARAMS):
        for value in (LOWER[k] - 1e-3, UPPER[k] + 1e-3):
            outside = params[0].at[k].set(jnp.asarray(value, dtype=dtype))
            assert log_prior(outside) == -np.inf, PARAM_NAMES[k]
    assert log_prior(params[0].at[3].set(jnp.nan)) == -np.inf


def test_prior_is_deterministic():
    a = sample_prior(jax.random.key(3), 5)
    b = sample_prior(jax.random.key(3), 5)
    c = sample_prior(jax.random.key(4), 5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("k", [4, 5, 13])
def test_bspline_basis_matches_scipy(k):
    from scipy.interpolate import BSpline

    from jaxgeo.earth._bspline import cubic_bspline_knots

    x = np.linspace(0.0, 1.0, 301)
    ours = np.asarray(cubic_bspline_basis(jnp.asarray(x), k))
    knots = np.array(cubic_bspline_knots(k))
    ref = np.stack([BSpline(knots, np.eye(k)[j], 3)(x) for j in range(k)], axis=-1)
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    np.testing.assert_allclose(ours.sum(-1), 1.0, atol=1e-12)
    assert ours.min() >= 0.0


def test_layered_model_shapes_and_interfaces(rng):
    params = sample_prior(jax.random.key(1), 64, jnp.float64)
    thickness, vp, vs, rho = (np.asarray(a) for a in layered_model(params))
    L = DEFAULT_LAYERING
    assert thickness.shape == vp.shape == vs.shape == rho.shape == (64, L.n_layers)
    assert np.all(thickness[:, :-1] >= 0) and np.all(thickness[:, -1] == 0)
    depth = np.cumsum(thickness, axis=1)
    p = np.asarray(params)
    np.testing.assert_allclose(
        depth[:, L.n_sediment - 1], p[:, 0], rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        depth[:, L.n_sediment + L.n_crust - 1], p[:, 0] + p[:, 3], rtol=1e-12
    )
    np.testing.assert_allclose(
        depth[:, L.n_sediment + L.n_crust + L.n_mantle - 1], 410.0, rtol=1e-12
    )
    np.testing.assert_allclose(depth[:, -2], 660.0, rtol=1e-12)
    assert np.all(vp > np.sqrt(2.0) * vs) and np.all(rho > 1.0) and np.all(rho < 4.5)
    # crust, mantle and ak135 layers carry the continuous profile at their mid-depth
    top = np.concatenate([np.zeros((64, 1)), depth[:, :-1]], axis=1)
    mid = 0.5 * (top + depth)
    below_sediment = slice(L.n_sediment, L.n_layers - 1)
    for i in range(8):
        profile = np.asarray(vs_profile(params[i], jnp.asarray(mid[i])))
        np.testing.assert_allclose(
            vs[i, below_sediment], profile[below_sediment], rtol=1e-12
        )


def test_sediment_thickness_zero_gives_empty_sublayers():
    params = sample_prior(jax.random.key(2), 3, jnp.float64).at[:, 0].set(0.0)
    thickness, _vp, vs, _rho = layered_model(params)
    assert np.all(np.asarray(thickness[:, : DEFAULT_LAYERING.n_sediment]) == 0.0)
    assert np.all(np.isfinite(np.asarray(vs)))


def test_sediment_sublayers_have_equal_s_time_and_hold_the_depth_means():
    params = sample_prior(jax.random.key(5), 16, jnp.float64)
    params = params[params[:, 0] > 0.05]  # some sediment
    thickness, vp, vs, rho = (np.asarray(a) for a in layered_model(params))
    n = DEFAULT_LAYERING.n_sediment
    thickness, vp, vs, rho = (a[:, :n] for a in (thickness, vp, vs, rho))
    p = np.asarray(params)
    st, v0, v1 = p[:, 0, None], p[:, 1, None], p[:, 2, None]
    gradient = (v1 - v0) / st
    bottom = np.cumsum(thickness, axis=1)
    top = bottom - thickness
    # boundaries: equal S time of the continuous gradient, ∫dz/v = ln(v_bottom/v_top)/g
    times = np.log((v0 + gradient * bottom) / (v0 + gradient * top)) / gradient
    np.testing.assert_allclose(times, np.mean(times, axis=1, keepdims=True) + 0 * times, rtol=1e-9)
    # values: the depth means of ρ, ρVs² and ρVp² of the gradient (64-point quadrature)
    x, w = np.polynomial.legendre.leggauss(64)
    z = top[..., None] + thickness[..., None] * 0.5 * (x + 1.0)
    vs_z = v0[..., None] + gradient[..., None] * z
    vp_z = np.asarray(brocher_vp_from_vs(vs_z))
    rho_z = np.asarray(nafe_drake_density(vp_z))

    def mean(a):
        return np.sum(a * 0.5 * w, axis=-1)

    np.testing.assert_allclose(rho, mean(rho_z), rtol=1e-12)
    np.testing.assert_allclose(rho * vs**2, mean(rho_z * vs_z**2), rtol=1e-12)
    np.testing.assert_allclose(rho * vp**2, mean(rho_z * vp_z**2), rtol=1e-12)
    # the stack keeps the gradient's vertical S time to second order in the step (the
    # Voigt means are a little faster than the S-time-matched velocities: 1.0e-4, 0.2 ms)
    exact = p[:, 0] * np.log(p[:, 2] / p[:, 1]) / (p[:, 2] - p[:, 1])
    np.testing.assert_allclose(np.sum(thickness / vs, axis=1), exact, rtol=3e-4)


def test_density_relation_values():
    # Brocher (2005) Nafe-Drake fit at Vp = 6 km/s is 2.73 g/cm³ (his Fig. 1)
    assert abs(float(nafe_drake_density(6.0)) - 2.73) < 0.02


def test_receiver_model_shares_the_upper_layers_and_ends_at_receiver_depth():
    params = sample_prior(jax.random.key(6), 32, jnp.float64)
    full = [np.asarray(a) for a in layered_model(params, RECEIVER_LAYERING)]
    cut = [np.asarray(a) for a in receiver_model(params)]
    n = RECEIVER_LAYERING.n_receiver_layers
    upper = RECEIVER_LAYERING.n_sediment + RECEIVER_LAYERING.n_crust
    assert cut[0].shape == (32, n)
    for a, b in zip(cut, full):  # sediment and crust as in layered_model
        np.testing.assert_array_equal(a[:, :upper], b[:, :upper])
    assert np.all(cut[0][:, -1] == 0.0)
    np.testing.assert_allclose(np.sum(cut[0], axis=1), RECEIVER_LAYERING.receiver_depth, rtol=1e-13)
    # mantle layers thicken downwards; each has the continuous Vs at its mid-depth, the
    # half-space the continuous Vs at receiver_depth
    mantle = cut[0][:, upper:-1]
    assert np.all(np.diff(mantle, axis=1) > 0)
    top = np.cumsum(cut[0], axis=1) - cut[0]
    mid = top[:, upper:-1] + 0.5 * mantle
    expected = np.stack([np.asarray(vs_profile(params[i], mid[i])) for i in range(32)])
    np.testing.assert_allclose(cut[2][:, upper:-1], expected, rtol=1e-12)
    np.testing.assert_allclose(
        cut[2][:, -1], np.asarray(vs_profile(params, jnp.array([140.0])))[:, 0], rtol=1e-12
    )


def test_layering_rejects_bad_values():
    with pytest.raises(ValueError, match="n_crust"):
        Layering(n_crust=0)
    with pytest.raises(ValueError, match="mantle_grading"):
        Layering(mantle_grading=0.5)
    with pytest.raises(ValueError, match="receiver_depth"):
        Layering(receiver_depth=60.0)


def test_targets():
    params = sample_prior(jax.random.key(7), 10, jnp.float32)
    t = targets(params)
    depth = np.asarray(t["depth"])
    assert depth.shape == (161,) and depth[0] == 0.0 and abs(depth[-1] - 375.0) < 1e-4
    spacing = np.diff(depth)
    assert (
        np.all(spacing > 0)
        and spacing[0] < 0.2
        and spacing[-1] > 9.0
        and np.all(np.diff(spacing) > 0)
    )
    assert t["vs"].shape == (10, 161) and t["vs"].dtype == jnp.float32
    p = np.asarray(params)
    np.testing.assert_array_equal(t["crust_vp_vs"], p[:, 9])
    np.testing.assert_array_equal(t["sediment_thickness"], p[:, 0])
    np.testing.assert_array_equal(t["crust_thickness"], p[:, 3])
    vs = np.asarray(t["vs"])
    # surface value is sediment Vs at the top (when sediment is present), deep values in the mantle range
    np.testing.assert_allclose(
        vs[:, 0], np.where(p[:, 0] > 0, p[:, 1], vs[:, 0]), rtol=1e-6
    )
    assert np.all((vs[:, -1] >= 3.9 - 1e-5) & (vs[:, -1] <= 5.0 + 1e-5))
    np.testing.assert_allclose(target_depths(jnp.float64), depth, rtol=1e-6)
