"""Training G-Query on simulated batches: loss, (init, step), driver with checkpoints.

Loss (Wang et al. 2025, eq. for the heteroscedastic Huber likelihood)::

    L = Σ_i w_i m_i [ ½ log σ_i² + ½ h_δ(y_i − ŷ_i) / σ_i² ] / Σ_i m_i

over the 164 targets of every sample (then averaged over the batch), with y, ŷ, σ in
standardised target units, m_i the target mask, h_δ the Huber function scaled so that
h_δ(r) = r² for |r| ≤ δ and 2δ|r| − δ² beyond (δ = 3), and w_i = 5 for the Vs nodes on
either side of the sediment–crust interface and of the Moho and for ST and CT, else 1.

Batches are drawn on the device by :func:`jaxgeo.earth.simulate` inside the compiled
training step (no dataset on disk): one simulated batch serves ``repeats`` optimiser
steps, each with its own masking and reference draw (:func:`training_batch`). The
batch key of simulated batch k is ``fold_in(key(seed), k)``, so the stream depends only
on the seed and the step: a run restarted from a checkpoint continues the same stream
and reaches the same parameters as an uninterrupted one.

Data parallelism: :func:`train_and_evaluate` puts the parameters and optimiser state
replicated and the batch axis sharded over a 1-D mesh of all visible devices
(``jax.sharding``); XLA partitions simulation, forward and backward along the batch and
all-reduces the gradients. Multi-host: call ``jax.distributed.initialize()`` on every
host before anything else (coordinator address, process count and id from the
launcher, e.g. SLURM sets them), then run the same script on every host:
``jax.devices()`` lists all hosts' devices and the same code shards over them; the
global batch must be a multiple of the total device count, and only process 0 should
write logs (checkpoints are written collectively by Orbax).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .. import earth
from ._config import GQueryConfig
from ._model import GQuery, count_parameters
from ._tokens import (
    N_DEPTHS,
    N_TARGETS,
    UNKNOWN,
    data_tokens,
    interface_weights,
    query_tokens,
    target_statistics,
    target_vector,
)

__all__ = [
    "TrainState",
    "calibration_metrics",
    "gquery_loss",
    "init_state",
    "make_optimizer",
    "sample_tokens",
    "train_and_evaluate",
    "train_round",
    "training_batch",
]

HUBER_DELTA = 3.0
INTERFACE_WEIGHT = 5.0
VS_RMSE_MAX_DEPTH = 150.0  # km


# --------------------------------------------------------------------------- tokens of samples
def sample_tokens(sample: dict, data_mask, reference, reference_sigma, query_mask, n_fourier: int) -> dict:
    """Token arrays (batched) of simulator samples, masks and physical references (B, 164)."""
    types, values, params = jax.vmap(lambda *a: data_tokens(*a, n_fourier=n_fourier))(
        sample["phase_periods"], sample["phase"], sample["phase_sigma"],
        sample["group_periods"], sample["group"], sample["group_sigma"],
        jnp.broadcast_to(sample["rf_times"], sample["rf"].shape), sample["rf"], sample["rf_sigma"],
        sample["slowness"], sample["gauss"],
    )
    dtype = values.dtype
    q_types, q_values, q_params = jax.vmap(lambda r, s: query_tokens(r, s, n_fourier=n_fourier, dtype=dtype))(
        reference, reference_sigma
    )
    return {
        "data_type": types, "data_values": values, "data_params": params, "data_mask": data_mask,
        "query_type": q_types, "query_values": q_values, "query_params": q_params, "query_mask": query_mask,
    }


def _data_layout(config: GQueryConfig):
    sim = config.train.simulator
    return sim.n_periods, sim.n_periods, sim.n_times


def training_batch(key, sample: dict, config: GQueryConfig):
    """One training batch from simulator samples: random masks and references.

    Returns ``(tokens, y, target_mask, weights)``; y (B, 164) standardised targets.
    Per sample: a fraction f ~ U(0, max_data_mask) of the data tokens is masked, each
    whole data type is removed with probability ``drop_type`` (never all three), a
    fraction g ~ U(0, max_target_mask) of the targets is masked; with probability
    ``known_reference`` the queries carry references ``y + r·s·ε`` (s the prior standard
    deviation of the target, r ~ U(reference_noise), ε ~ N(0, 1), ST clipped at 0) with
    uncertainty ``r·s``, else −1.
    """
    t = config.train
    n_phase, n_group, n_rf = _data_layout(config)
    b = sample["phase"].shape[0]
    dtype = sample["phase"].dtype
    keys = jax.random.split(key, 8)
    # data masks
    n_data = n_phase + n_group + n_rf
    frac = t.max_data_mask * jax.random.uniform(keys[0], (b, 1), dtype)
    keep = jax.random.uniform(keys[1], (b, n_data), dtype) >= frac
    drop = jax.random.uniform(keys[2], (b, 3), dtype) < t.drop_type
    drop = drop & ~jnp.all(drop, axis=-1, keepdims=True)
    kind = np.concatenate([np.zeros(n_phase, int), np.ones(n_group, int), np.full(n_rf, 2)])
    data_mask = keep & ~drop[:, kind]
    # targets, standardised
    mean, std = (jnp.asarray(a, dtype)[None, :] for a in target_statistics())
    y_phys = target_vector(sample["targets"])
    y = (y_phys - mean) / std
    gfrac = t.max_target_mask * jax.random.uniform(keys[3], (b, 1), dtype)
    target_mask = (jax.random.uniform(keys[4], (b, N_TARGETS), dtype) >= gfrac) & sample["valid"][:, None]
    # references
    known = jax.random.uniform(keys[5], (b, 1), dtype) < t.known_reference
    lo, hi = t.reference_noise
    r = lo + (hi - lo) * jax.random.uniform(keys[6], (b, 1), dtype)
    ref_sigma = r * std
    ref = y_phys + ref_sigma * jax.random.normal(keys[7], (b, N_TARGETS), dtype)
    ref = ref.at[:, N_DEPTHS + 1].set(jnp.maximum(ref[:, N_DEPTHS + 1], 0.0))
    ref = jnp.where(known, ref, UNKNOWN)
    ref_sigma = jnp.where(known, ref_sigma, UNKNOWN)
    tokens = sample_tokens(sample, data_mask, ref, ref_sigma, jnp.ones((b, N_TARGETS), bool), config.model.n_fourier)
    weights = interface_weights(sample["targets"]["sediment_thickness"], sample["targets"]["crust_thickness"],
                                INTERFACE_WEIGHT).astype(dtype)
    return tokens, y, target_mask, weights


def huber(r, delta: float = HUBER_DELTA):
    """h_δ(r) = r² for |r| ≤ δ, 2δ|r| − δ² beyond (continuous, C¹)."""
    a = jnp.abs(r)
    return jnp.where(a <= delta, r * r, 2.0 * delta * a - delta * delta)


def gquery_loss(mean, sigma, y, mask, weights):
    """The heteroscedastic Huber loss (module docstring), averaged over the batch."""
    term = jnp.log(sigma) + 0.5 * huber(y - mean) / sigma**2
    mask = mask.astype(mean.dtype)
    per_sample = jnp.sum(weights * mask * term, axis=-1) / jnp.maximum(jnp.sum(mask, axis=-1), 1.0)
    return jnp.mean(per_sample)


# --------------------------------------------------------------------------- state
@jax.tree_util.register_dataclass
@dataclasses.dataclass
class TrainState:
    """Parameters, optimiser state and the step count (a pytree; checkpointed whole)."""

    params: dict
    opt_state: optax.OptState
    step: jax.Array


def learning_rate_schedule(config: GQueryConfig):
    """Linear warm-up to the peak, then ×decay_rate every decay_every steps (staircase)."""
    t = config.train
    decay = optax.exponential_decay(t.learning_rate, t.decay_every, t.decay_rate, staircase=True)
    if t.warmup_steps == 0:
        return decay
    warm = optax.linear_schedule(0.0, t.learning_rate, t.warmup_steps)
    return optax.join_schedules([warm, decay], [t.warmup_steps])


def make_optimizer(config: GQueryConfig):
    """AdamW with the schedule and global-norm clipping."""
    t = config.train
    return optax.chain(
        optax.clip_by_global_norm(t.grad_clip),
        optax.adamw(learning_rate_schedule(config), weight_decay=t.weight_decay),
    )


def example_tokens(config: GQueryConfig, batch: int = 1) -> dict:
    """Zero tokens of the simulator's layout (shapes for initialisation)."""
    n_phase, n_group, n_rf = _data_layout(config)
    from ._tokens import N_VALUES, n_params

    p = n_params(config.model.n_fourier)
    n = n_phase + n_group + n_rf
    return {
        "data_type": jnp.zeros((batch, n), jnp.int32), "data_values": jnp.zeros((batch, n, N_VALUES), jnp.float32),
        "data_params": jnp.zeros((batch, n, p), jnp.float32), "data_mask": jnp.ones((batch, n), bool),
        "query_type": jnp.zeros((batch, N_TARGETS), jnp.int32),
        "query_values": jnp.zeros((batch, N_TARGETS, N_VALUES), jnp.float32),
        "query_params": jnp.zeros((batch, N_TARGETS, p), jnp.float32),
        "query_mask": jnp.ones((batch, N_TARGETS), bool),
    }


def init_state(key, config: GQueryConfig) -> TrainState:
    """Initial :class:`TrainState` (parameters from ``key``).

    Compiled as one program: run op by op, Flax's initialisation dispatches (and
    compiles) each of its hundreds of small operations separately, which took ~18 s
    for the tiny network on a 2-core CPU.
    """
    return _init_state(key, config)


@functools.partial(jax.jit, static_argnums=1)
def _init_state(key, config: GQueryConfig) -> TrainState:
    params = GQuery(config.model).init(key, example_tokens(config))["params"]
    return TrainState(params=params, opt_state=make_optimizer(config).init(params), step=jnp.zeros((), jnp.int32))


def _loss_of(params, model, tokens, y, mask, weights, dropout_key=None):
    rngs = None if dropout_key is None else {"dropout": dropout_key}
    mean, sigma = model.apply({"params": params}, tokens, deterministic=dropout_key is None, rngs=rngs)
    return gquery_loss(mean, sigma, y, mask, weights)


def train_round(state: TrainState, config: GQueryConfig, batch_sharding=None):
    """One simulated batch and ``repeats`` optimiser steps (pure; jit it).

    Returns the new state and the loss of each step (repeats,).
    """
    t = config.train
    model = GQuery(config.model)
    optimizer = make_optimizer(config)
    base = jax.random.key(t.seed)
    round_index = state.step // t.repeats
    key = jax.random.fold_in(jax.random.fold_in(base, 1), round_index)
    sim_key, mask_key = jax.random.split(key)
    sample = dict(draw_samples(sim_key, t.batch_size, config))
    if batch_sharding is not None:
        for name, value in sample.items():
            if isinstance(value, jax.Array) and value.ndim and value.shape[0] == t.batch_size:
                sample[name] = jax.lax.with_sharding_constraint(value, batch_sharding)
    use_dropout = config.model.dropout > 0

    def one(state, r):
        k = jax.random.fold_in(mask_key, r)
        tokens, y, mask, weights = training_batch(k, sample, config)
        dk = jax.random.fold_in(k, 7) if use_dropout else None
        loss, grads = jax.value_and_grad(_loss_of)(state.params, model, tokens, y, mask, weights, dk)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        return TrainState(params=params, opt_state=opt_state, step=state.step + 1), loss

    return jax.lax.scan(one, state, jnp.arange(t.repeats))


def toy_samples(key, n: int, config):
    """A cheap analytic stand-in for :func:`jaxgeo.earth.simulate` (same keys and shapes).

    Models and targets come from the real prior; the "data" are smooth functions of
    the Vs profile (phase: Vs averaged over the top 1.1·T km; group 0.92 × phase; RF: a
    direct pulse and a Moho Ps pulse), with the simulator's noise levels. Not physics:
    for tests and smoke runs of the training machinery only.
    """
    dtype = jnp.dtype(config.dtype)
    keys = jax.random.split(key, 8)
    params = earth.sample_prior(keys[0], n, dtype)
    targets = earth.targets(params)
    depth = earth.target_depths(dtype)
    k = config.n_periods
    log_lo, log_hi = (float(np.log(p)) for p in config.period_range)
    periods = jnp.sort(jnp.exp(log_lo + (log_hi - log_lo) * jax.random.uniform(keys[1], (n, k), dtype)), axis=-1)
    weight = jnp.exp(-depth[None, None, :] / (1.1 * periods[..., None]))
    phase = jnp.sum(weight * targets["vs"][:, None, :], -1) / jnp.sum(weight, -1)
    group = 0.92 * phase
    times = earth.rf_times(config)
    slowness = 0.04 + 0.04 * jax.random.uniform(keys[2], (n,), dtype)
    gauss = 1.5 + 1.5 * jax.random.uniform(keys[3], (n,), dtype)
    vs_crust = jnp.mean(targets["vs"][:, 60:100], axis=-1)
    t_ps = targets["moho_depth"] * (1.0 / vs_crust - 1.0 / (targets["crust_vp_vs"] * vs_crust))
    a = gauss[:, None]
    pulse = a / jnp.sqrt(jnp.pi) * jnp.exp(-(a * times[None, :]) ** 2)
    rf = 0.4 * pulse + 0.15 * a / jnp.sqrt(jnp.pi) * jnp.exp(-(a * (times[None, :] - t_ps[:, None])) ** 2)
    phase_sigma, group_sigma = config.phase_noise * phase, config.group_noise * group
    rf_sigma = jnp.full(rf.shape, config.rf_noise, dtype)
    noise = [jax.random.normal(kk, x.shape, dtype) for kk, x in zip(keys[4:7], (phase, group, rf))]
    return {
        "params": params, "targets": targets, "phase_periods": periods, "group_periods": periods,
        "phase": phase + phase_sigma * noise[0], "phase_clean": phase, "phase_sigma": phase_sigma,
        "group": group + group_sigma * noise[1], "group_clean": group, "group_sigma": group_sigma,
        "rf_times": times, "rf": rf + rf_sigma * noise[2], "rf_clean": rf, "rf_sigma": rf_sigma,
        "slowness": slowness, "gauss": gauss, "valid": jnp.ones((n,), bool), "n_failed": jnp.zeros((), jnp.int32),
    }


def draw_samples(key, n: int, config: GQueryConfig) -> dict:
    """``n`` training samples from the configured source (simulator or toy)."""
    t = config.train
    if t.source == "toy":
        return toy_samples(key, n, t.simulator)
    return earth.simulate(key, n, t.simulator)


# --------------------------------------------------------------------------- evaluation
def validation_set(config: GQueryConfig) -> dict:
    """The fixed validation samples (drawn once with ``validation_seed``)."""
    t = config.train
    draw = jax.jit(draw_samples, static_argnums=(1, 2))
    return jax.device_get(draw(jax.random.key(t.validation_seed), t.validation_size, config))


def full_tokens(sample: dict, n_fourier: int) -> dict:
    """Tokens with every datum present and every reference unknown."""
    b = sample["phase"].shape[0]
    n_data = sample["phase"].shape[1] + sample["group"].shape[1] + sample["rf"].shape[1]
    unknown = jnp.full((b, N_TARGETS), UNKNOWN, sample["phase"].dtype)
    return sample_tokens(sample, jnp.ones((b, n_data), bool), unknown, unknown, jnp.ones((b, N_TARGETS), bool),
                         n_fourier)


#: :func:`full_tokens` as one compiled program (op by op it dispatches, and compiles, its
#: many small token operations separately: ~7 s per new shape on a 2-core CPU).
_full_tokens_jit = jax.jit(full_tokens, static_argnums=1)


def predict_standardised(params, model_config, tokens, chunk: int = 64):
    """Network output (mean, σ), standardised units, in chunks of ``chunk`` samples."""
    model = GQuery(model_config)

    def apply(tok):
        return model.apply({"params": params}, tok)

    if tokens["data_type"].shape[0] <= chunk:
        return apply(tokens)
    return _chunked(apply, tokens, chunk)


#: :func:`predict_standardised` compiled once per (model config, token shapes, chunk):
#: a module-level wrapper, so periodic evaluation does not re-trace it at every call.
predict_jit = jax.jit(predict_standardised, static_argnums=(1, 3))


def _chunked(apply, tokens, chunk):
    b = tokens["data_type"].shape[0]
    n = -(-b // chunk)
    pad = n * chunk - b
    padded = jax.tree_util.tree_map(lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], pad, 0)]) if pad else x, tokens)
    stacked = jax.tree_util.tree_map(lambda x: x.reshape((n, chunk) + x.shape[1:]), padded)
    mean, sigma = jax.lax.map(apply, stacked)
    return mean.reshape(-1, mean.shape[-1])[:b], sigma.reshape(-1, sigma.shape[-1])[:b]


def to_physical(mean, sigma):
    """Standardised (mean, σ) → physical units (NumPy)."""
    mu, std = target_statistics()
    return np.asarray(mean) * std + mu, np.asarray(sigma) * std


def calibration_metrics(y_true, y_pred, sigma, depth=None) -> dict:
    """Accuracy and calibration of predictions of the 164 targets (physical units).

    Returns Vs RMSE over 0–150 km (km/s), mean absolute errors of Vp/Vs, ST, CT (km), and
    of z = (y − ŷ)/σ over all targets: mean, std, and the fractions with |z| ≤ 1 and
    ≤ 1.96 (68% and 95% coverage).
    """
    y_true, y_pred, sigma = (np.asarray(a, dtype=np.float64) for a in (y_true, y_pred, sigma))
    depth = np.asarray(earth.target_depths(jnp.float32), dtype=np.float64) if depth is None else np.asarray(depth)
    shallow = depth <= VS_RMSE_MAX_DEPTH
    err = y_pred - y_true
    z = err / sigma
    return {
        "vs_rmse_150": float(np.sqrt(np.mean(err[:, :N_DEPTHS][:, shallow] ** 2))),
        "vp_vs_mae": float(np.mean(np.abs(err[:, N_DEPTHS]))),
        "st_mae": float(np.mean(np.abs(err[:, N_DEPTHS + 1]))),
        "ct_mae": float(np.mean(np.abs(err[:, N_DEPTHS + 2]))),
        "z_mean": float(np.mean(z)),
        "z_std": float(np.std(z)),
        "coverage_68": float(np.mean(np.abs(z) <= 1.0)),
        "coverage_95": float(np.mean(np.abs(z) <= 1.959964)),
    }


def prior_baseline(y_true) -> dict:
    """:func:`calibration_metrics` of the prior mean with the prior standard deviation as σ."""
    mu, std = target_statistics()
    y_true = np.asarray(y_true)
    return calibration_metrics(y_true, np.broadcast_to(mu, y_true.shape), np.broadcast_to(std, y_true.shape))


def evaluate(params, config: GQueryConfig, sample: dict) -> dict:
    """Validation metrics of ``params`` on simulator samples (all data, unknown references)."""
    valid = np.asarray(sample["valid"])
    tokens = _full_tokens_jit(jax.tree_util.tree_map(jnp.asarray, sample), config.model.n_fourier)
    mean, sigma = predict_jit(params, config.model, tokens, 64)
    y_pred, s = to_physical(mean, sigma)
    y_true = np.asarray(target_vector(sample["targets"]))
    return calibration_metrics(y_true[valid], y_pred[valid], s[valid])


# --------------------------------------------------------------------------- driver
def _checkpoint_manager(directory: Path, keep: int):
    import orbax.checkpoint as ocp

    return ocp.CheckpointManager(
        directory.absolute(),
        options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True),
    )


def _save(manager, step: int, state: TrainState, config: GQueryConfig, force: bool = False):
    import orbax.checkpoint as ocp

    manager.save(
        step,
        args=ocp.args.Composite(state=ocp.args.StandardSave(state), config=ocp.args.JsonSave(config.to_dict())),
        force=force,
    )


def restore_state(workdir, config: GQueryConfig | None = None, step: int | None = None):
    """Restore ``(config, state)`` from the latest (or the given) checkpoint of ``workdir``."""
    import orbax.checkpoint as ocp

    directory = Path(workdir) / "checkpoints"
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no checkpoints (train first: jaxgeo gquery train --workdir {workdir})")
    manager = _checkpoint_manager(directory, 1000)
    step = manager.latest_step() if step is None else step
    if step is None:
        raise FileNotFoundError(f"{directory}: no complete checkpoint")
    if config is None:
        saved = manager.restore(step, args=ocp.args.Composite(config=ocp.args.JsonRestore()))
        config = GQueryConfig.from_dict(saved["config"])
    abstract = jax.eval_shape(lambda: init_state(jax.random.key(0), config))
    restored = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract)))
    return config, restored["state"]


def data_mesh() -> Mesh:
    """A 1-D device mesh ``("batch",)`` over all visible devices."""
    return Mesh(np.array(jax.devices()), ("batch",))


def train_and_evaluate(
    config: GQueryConfig,
    workdir,
    *,
    steps: int | None = None,
    progress: bool = True,
    resume: bool = True,
    time_limit: float | None = None,
    log=print,
    callback=None,
) -> dict:
    """Train ``config`` in ``workdir`` (checkpoints, metrics log, training curve).

    Writes ``workdir/config.json``, ``workdir/checkpoints/`` (Orbax, the config saved
    with every checkpoint), ``workdir/metrics.jsonl`` (one JSON line per evaluation: step,
    elapsed seconds, learning rate, mean training loss since the last evaluation,
    validation metrics of :func:`calibration_metrics`) and ``workdir/training_curve.png``.
    A run finds the checkpoints of an earlier run of the same config and continues from
    the latest (``resume=False`` refuses instead). ``time_limit`` (s) stops the run
    (evaluated and checkpointed) after the first round past that much training time.
    ``callback(step)`` is called after every round. Returns the last metrics record
    plus ``"prior_baseline"``, ``"n_parameters"``,
    ``"compile_s"`` and ``"resumed_from"``.
    """
    config.validate()
    steps = config.train.steps if steps is None else int(steps)
    if steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps}")
    t = config.train
    n_dev = jax.device_count()
    if t.batch_size % n_dev:
        raise ValueError(f"train.batch_size ({t.batch_size}) must be a multiple of the device count ({n_dev})")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.json"
    text = json.dumps(config.to_dict(), indent=2)
    ckpt_dir = workdir / "checkpoints"
    has_ckpt = ckpt_dir.is_dir() and any(ckpt_dir.iterdir())
    if has_ckpt:
        if not resume:
            raise FileExistsError(f"{ckpt_dir} holds checkpoints of an earlier run; resume or use a new --workdir")
        if config_path.exists() and json.loads(config_path.read_text()) != json.loads(text):
            raise ValueError(f"{workdir} holds a run with another configuration ({config_path}); use a new --workdir")
    config_path.write_text(text)

    mesh = data_mesh()
    replicated = NamedSharding(mesh, PartitionSpec())
    batch_sharding = NamedSharding(mesh, PartitionSpec("batch"))
    state = init_state(jax.random.fold_in(jax.random.key(t.seed), 0), config)
    manager = _checkpoint_manager(ckpt_dir, t.keep_checkpoints)
    resumed_from = None
    if manager.latest_step() is not None:
        _, state = restore_state(workdir, config)
        resumed_from = int(state.step)
        log(f"resuming from step {resumed_from} ({ckpt_dir})")
    state = jax.device_put(state, replicated)

    t0 = time.perf_counter()
    round_fn = jax.jit(lambda s: train_round(s, config, batch_sharding if n_dev > 1 else None),
                       donate_argnums=0, out_shardings=(replicated, replicated))
    compiled = round_fn.lower(state).compile()
    compile_seconds = time.perf_counter() - t0
    validation = validation_set(config)
    y_val = np.asarray(target_vector(validation["targets"]))[np.asarray(validation["valid"])]
    baseline = prior_baseline(y_val)
    log_path = workdir / "metrics.jsonl"
    records = _read_log(log_path, upto=int(state.step))
    n_parameters = count_parameters(state.params)
    if resumed_from is None:
        log(f"G-Query '{config.name}': {n_parameters:,} parameters on {n_dev} device(s); "
            f"compiled a training round in {compile_seconds:.1f} s")
    schedule = learning_rate_schedule(config)
    bar = _Progress(steps, enabled=progress, start=min(int(state.step), steps))
    losses = []
    elapsed0 = records[-1]["elapsed_s"] if records else 0.0
    t_run = time.perf_counter()
    try:
        while int(state.step) < steps:
            state, loss = compiled(state)
            step = int(state.step)
            losses.extend(np.asarray(loss).tolist())
            bar.update(step, float(np.mean(loss)))
            out_of_time = time_limit is not None and time.perf_counter() - t_run >= time_limit
            if out_of_time:
                steps = step
            if step % t.eval_every == 0 or step >= steps:
                metrics = evaluate(state.params, config, validation)
                record = {
                    "step": step,
                    "elapsed_s": elapsed0 + time.perf_counter() - t_run,
                    "learning_rate": float(schedule(step)),
                    "train_loss": float(np.mean(losses)) if losses else float("nan"),
                    **metrics,
                }
                losses = []
                records.append(record)
                with log_path.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
                bar.note(record)
                plot_training_curve(records, baseline, workdir / "training_curve.png")
            if step % t.checkpoint_every == 0 or step >= steps:
                _save(manager, step, state, config)
            if callback is not None:
                callback(step)
    finally:
        bar.close()
        manager.wait_until_finished()
    if manager.latest_step() != int(state.step):
        _save(manager, int(state.step), state, config, force=True)
        manager.wait_until_finished()
    last = records[-1] if records else {}
    return {**last, "prior_baseline": baseline, "n_parameters": n_parameters, "compile_s": compile_seconds,
            "resumed_from": resumed_from}


def _read_log(path: Path, upto: int) -> list[dict]:
    """Records of an earlier run up to step ``upto`` (later ones are dropped: they are redone)."""
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    kept = [r for r in records if r["step"] <= upto]
    if len(kept) != len(records):
        path.write_text("".join(json.dumps(r) + "\n" for r in kept))
    return kept


def plot_training_curve(records: list[dict], baseline: dict, path: Path) -> None:
    """Training loss, validation Vs RMSE and calibration against step (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in records]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), constrained_layout=True)
    axes[0].plot(steps, [r["train_loss"] for r in records], "o-", ms=3)
    axes[0].set(xlabel="step", ylabel="training loss", title="loss")
    axes[1].plot(steps, [r["vs_rmse_150"] for r in records], "o-", ms=3, label="G-Query")
    axes[1].axhline(baseline["vs_rmse_150"], color="0.5", ls="--", label="prior mean")
    axes[1].set(xlabel="step", ylabel="km/s", title="validation Vs RMSE, 0–150 km")
    axes[1].legend()
    axes[2].plot(steps, [r["z_std"] for r in records], "o-", ms=3, label="std(z)")
    axes[2].plot(steps, [r["coverage_68"] for r in records], "s-", ms=3, label="68% coverage")
    axes[2].axhline(1.0, color="0.5", ls="--")
    axes[2].axhline(0.68, color="0.5", ls=":")
    axes[2].set(xlabel="step", title="calibration", ylim=(0, 2.5))
    axes[2].legend()
    fig.savefig(path, dpi=110)
    plt.close(fig)


class _Progress:
    """A rich progress bar: step rate, ETA, loss, last validation figures."""

    def __init__(self, total: int, *, enabled: bool, start: int = 0):
        self.enabled = enabled
        self.extra = ""
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("G-Query"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        )
        self.progress.start()
        self.task = self.progress.add_task("train", total=total, completed=start, status="")
        self.start, self.t0 = start, time.perf_counter()

    def update(self, step: int, loss: float):
        if self.enabled:
            rate = (step - self.start) / max(time.perf_counter() - self.t0, 1e-9)
            self.progress.update(self.task, completed=step, status=f"{rate:.2f} steps/s  loss {loss:.3f}{self.extra}")

    def note(self, record: dict):
        self.extra = f"  val Vs RMSE {record['vs_rmse_150']:.3f} km/s  std(z) {record['z_std']:.2f}"

    def close(self):
        if self.enabled:
            self.progress.stop()
