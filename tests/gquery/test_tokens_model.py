"""Tokens, masks, loss, network shape and parameter count of G-Query."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo import earth
from jaxgeo.gquery import CONFIGS, GQuery, abstract_parameter_count, data_tokens, gquery_loss, query_tokens
from jaxgeo.gquery._tokens import N_DEPTHS, N_PARAM_BASE, N_TARGETS, interface_weights, target_statistics
from jaxgeo.gquery._train import huber, toy_samples, training_batch
from jaxgeo.gquery._predict import observation_tokens


def test_query_tokens_unknown_is_minus_one():
    ref = np.full(N_TARGETS, -1.0)
    ref[10] = 3.1
    sig = np.full(N_TARGETS, -1.0)
    sig[10] = 0.2
    ref[N_DEPTHS + 2], sig[N_DEPTHS + 2] = 40.0, 5.0  # CT in km → units of 100 km
    ref[N_DEPTHS + 1] = np.nan  # NaN is unknown too
    types, values, params = query_tokens(jnp.asarray(ref), jnp.asarray(sig), n_fourier=2, dtype=jnp.float64)
    values = np.asarray(values)
    assert types.shape == (N_TARGETS,) and np.all(np.asarray(types[:N_DEPTHS]) == 3)
    assert list(np.asarray(types[N_DEPTHS:])) == [4, 5, 6]
    # reference slots 2, 3: known values, −1 elsewhere; observation slots 0, 1 are 0
    assert values[10, 2] == pytest.approx(3.1) and values[10, 3] == pytest.approx(0.2)
    assert values[N_DEPTHS + 2, 2] == pytest.approx(0.4) and values[N_DEPTHS + 2, 3] == pytest.approx(0.05)
    unknown = np.ones(N_TARGETS, bool)
    unknown[[10, N_DEPTHS + 2]] = False
    assert np.all(values[unknown, 2:] == -1.0)
    assert np.all(values[:, :2] == 0.0)
    # depth parameter z / 100 km; scalar queries have no position
    depth = np.asarray(earth.target_depths(jnp.float64))
    np.testing.assert_allclose(np.asarray(params[:N_DEPTHS, 2]), depth / 100.0, rtol=1e-6)
    assert np.all(np.asarray(params[N_DEPTHS:]) == 0.0)


def test_data_tokens_layout():
    periods = jnp.array([5.0, 40.0])
    times = jnp.array([0.0, 0.1, 0.2])
    types, values, params = data_tokens(
        periods, jnp.array([3.0, 3.8]), jnp.array([0.06, 0.08]), periods, jnp.array([2.8, 3.5]),
        jnp.array([0.1, 0.1]), times, jnp.array([0.5, 0.1, -0.1]), jnp.full(3, 0.02), 0.06, 2.5, n_fourier=3,
    )
    assert list(np.asarray(types)) == [0, 0, 1, 1, 2, 2, 2]
    assert params.shape == (7, N_PARAM_BASE + 18)
    np.testing.assert_allclose(np.asarray(params[:4, 0]), [5 / 40, 1.0, 5 / 40, 1.0])
    np.testing.assert_allclose(np.asarray(params[4:, 1]), np.asarray(times) / 40)
    np.testing.assert_allclose(np.asarray(params[4:, 3]), 0.6)
    np.testing.assert_allclose(np.asarray(params[4:, 4]), 1.0)
    np.testing.assert_allclose(np.asarray(values[:, 0]), [3.0, 3.8, 2.8, 3.5, 0.5, 0.1, -0.1])
    assert np.all(np.asarray(values[:, 2:]) == 0.0)
    # each data kind has its own Fourier slots
    fourier = np.asarray(params[:, N_PARAM_BASE:])
    assert np.all(fourier[:4, 6:] == 0) and np.all(fourier[4:, :6] == 0) and np.all(fourier[4:, 12:] == 0)


def test_training_batch_masks_and_references(toy):
    cfg = toy.replace(max_data_mask=0.4, max_target_mask=0.4, known_reference=0.5, drop_type=0.3)
    sample = jax.jit(toy_samples, static_argnums=(1, 2))(jax.random.key(0), 256, cfg.train.simulator)
    tokens, y, target_mask, weights = jax.jit(training_batch, static_argnums=2)(jax.random.key(1), sample, cfg)
    data_mask = np.asarray(tokens["data_mask"])
    masked = 1 - data_mask.mean()
    assert 0.15 < masked < 0.45  # E[f] = 0.2 plus whole-type drops
    assert np.all(data_mask.reshape(256, -1).any(axis=1))  # never all three types dropped
    tm = 1 - np.asarray(target_mask).mean()
    assert 0.1 < tm < 0.3
    ref = np.asarray(tokens["query_values"][..., 2])
    known = np.all(ref != -1.0, axis=1)
    assert np.all(known | np.all(ref == -1.0, axis=1))  # per sample: all known or all unknown
    assert 0.35 < known.mean() < 0.65
    # known references are near the truth within a few of their σ (standardised)
    mu, std = target_statistics()
    vs_ref = ref[known, :N_DEPTHS]
    vs_true = np.asarray(sample["targets"]["vs"])[known]
    sig = np.asarray(tokens["query_values"][..., 3])[known, :N_DEPTHS]
    assert np.mean(np.abs(vs_ref - vs_true) / sig) == pytest.approx(np.sqrt(2 / np.pi), rel=0.1)
    assert weights.shape == (256, N_TARGETS) and np.all(np.asarray(weights[:, -2:]) == 5.0)
    assert np.all(np.isfinite(np.asarray(y)))


def test_interface_weights_mark_nodes_around_interfaces():
    depth = np.asarray(earth.target_depths(jnp.float64))
    w = np.asarray(interface_weights(jnp.array(2.0), jnp.array(30.0)))
    heavy = np.flatnonzero(w[:N_DEPTHS] == 5.0)
    assert len(heavy) == 4
    for z in (2.0, 32.0):
        j = np.searchsorted(depth, z, side="right") - 1
        assert j in heavy and j + 1 in heavy
    assert w[N_DEPTHS] == 1.0 and w[N_DEPTHS + 1] == 5.0 and w[N_DEPTHS + 2] == 5.0


def test_huber_and_loss():
    r = jnp.array([0.5, 3.0, 5.0, -5.0])
    np.testing.assert_allclose(np.asarray(huber(r)), [0.25, 9.0, 21.0, 21.0])
    y = jnp.zeros((1, 3))
    mean = jnp.array([[1.0, 0.0, 10.0]])
    sigma = jnp.array([[2.0, 1.0, 1.0]])
    mask = jnp.array([[True, True, False]])  # the masked target is excluded
    w = jnp.array([[1.0, 5.0, 1.0]])
    expected = (np.log(2.0) + 0.5 * 1 / 4 + 5 * 0.0) / 2
    assert float(gquery_loss(mean, sigma, y, mask, w)) == pytest.approx(expected)


def test_paper_parameter_count_and_full_dimensional_heads():
    paper = CONFIGS["paper"].model
    # the paper reports ≈ 29.66 M; this count is exact for width 160, 10 full-width heads,
    # 8 + 8 layers and a 6·D feed-forward (see jaxgeo/gquery/_config.py)
    assert abstract_parameter_count(paper) == 29_648_322
    cfg = CONFIGS["tiny"].model
    tokens = {
        "data_type": jnp.zeros((1, 5), jnp.int32), "data_values": jnp.zeros((1, 5, 4)),
        "data_params": jnp.zeros((1, 5, N_PARAM_BASE + 6 * cfg.n_fourier)), "data_mask": jnp.ones((1, 5), bool),
        "query_type": jnp.zeros((1, 3), jnp.int32), "query_values": jnp.zeros((1, 3, 4)),
        "query_params": jnp.zeros((1, 3, N_PARAM_BASE + 6 * cfg.n_fourier)), "query_mask": jnp.ones((1, 3), bool),
    }
    params = jax.eval_shape(lambda k: GQuery(cfg).init(k, tokens), jax.random.key(0))["params"]
    attention = params["encoder_0"]["EncoderLayer_0" if "EncoderLayer_0" in params["encoder_0"] else "self_attention"]
    assert attention["query"]["kernel"].shape == (cfg.width, cfg.heads, cfg.width)
    assert attention["out"]["kernel"].shape == (cfg.heads, cfg.width, cfg.width)


@pytest.mark.slow  # ~45 s on 2 cores
def test_masked_data_tokens_do_not_change_predictions(toy):
    sample = toy_samples(jax.random.key(3), 2, toy.train.simulator)
    obs = earth.observations_from_simulation(sample, 0)
    full = observation_tokens([obs], toy.model.n_fourier)
    params = GQuery(toy.model).init(jax.random.key(0), full)["params"]
    # padding by a longer second station must not change the first station's prediction
    longer = earth.Observations(**{**obs.as_arrays(), "phase_periods": np.r_[obs.phase_periods, 150.0],
                                   "phase": np.r_[obs.phase, 4.0], "phase_sigma": np.r_[obs.phase_sigma, 0.1]})
    both = observation_tokens([obs, longer], toy.model.n_fourier)
    assert both["data_mask"].shape[1] == full["data_mask"].shape[1] + 1
    assert not bool(both["data_mask"][0, -1])
    apply = jax.jit(GQuery(toy.model).apply)
    m1, s1 = apply({"params": params}, full)
    m2, s2 = apply({"params": params}, both)
    np.testing.assert_allclose(np.asarray(m2[0]), np.asarray(m1[0]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(s2[0]), np.asarray(s1[0]), rtol=1e-5, atol=1e-6)
    assert np.all(np.asarray(s1) > 0)


def test_predicted_models_and_periods_are_padded_to_fixed_sizes():
    """One compiled forward model serves every station: the predicted layered model is
    padded with zero-thickness layers (above the reference earth) to 161 + 3 upper layers
    whatever ST and the Moho are, and periods to a power of two >= 16."""
    from jaxgeo.gquery._predict import _padded_model, _padded_periods, profile_model

    depth = np.asarray(earth.target_depths(jnp.float64))
    vs = np.linspace(1.0, 4.6, depth.size)
    edges = 0.5 * (depth[1:] + depth[:-1])
    sizes, raw = set(), set()
    # no sediment; both interfaces new; both on existing layer edges (166-168 layers raw)
    for st, ct in ((0.0, 35.0), (2.3, 31.1), (float(edges[4]), float(edges[59] - edges[4]))):
        model = profile_model(depth, vs, 1.75, st, ct)
        padded = _padded_model(model, depth.size)
        raw.add(len(model[0]))
        sizes.add(len(padded[0]))
        assert np.sum(padded[0]) == pytest.approx(np.sum(model[0]))  # same layers, zero thickness added
        kept = padded[0] > 0
        for a, b in zip(model, padded):
            np.testing.assert_array_equal(b[kept], a[model[0] > 0])
            np.testing.assert_array_equal(b[-4:], a[-4:])  # reference earth and half-space untouched
    assert len(raw) == 3 and sizes == {depth.size + 3 + 4}
    periods = np.array([3.0, 40.0, 7.0])
    padded = _padded_periods(periods)
    assert padded.shape == (16,) and np.all(padded[:3] == periods) and np.all(padded[3:] == 7.0)
    assert _padded_periods(np.ones(17)).shape == (32,)
