"""Implicit-neural-representation (INR) gravity inversion.

The density contrast is a neural field ρ(x) (``_fields.DensityField``) sampled on the
cells of a prism mesh (cell centres, or the mean of n_sub³ sub-cell samples); the
prism operator maps it to g_z, and the loss is the χ² per datum,
mean(((G ρ − d)/σ)²), plus optional regularisers (``_regularizers``). Training is
Adam (Optax) with an exponentially decaying learning rate, stopped at the first step
whose χ² reaches the target: the parameters are frozen there, inside the jitted loop,
so the returned model is the one that first fitted the data to the noise level.

Method: Mishra, Laaksonen, Kamm & Singh (2026), arXiv:2510.17876.

The pieces follow the (init, step) pattern: :meth:`INRInversion.init` (key first)
returns an :class:`INRState` pytree, :meth:`INRInversion.step` advances it by
up to ``config.chunk`` optimiser steps in one compiled call, and :meth:`INRInversion.fit`
is the driver with a progress bar, Orbax checkpoints and exact resume.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._fields import DensityField, FieldConfig, count_parameters
from ._problem import DEFAULT_MAX_DENSE_BYTES, GravityProblem, depth_weights, standardized_centers


@dataclasses.dataclass(frozen=True)
class INRConfig:
    """Settings of an INR inversion (hashable; written with every run's results).

    Attributes
    ----------
    field : FieldConfig
        Encoding, MLP and density bounds.
    optimizer : str
        ``"adam"`` (with the decaying learning rate below) or ``"lbfgs"`` (Optax's
        L-BFGS with a zoom line search; the learning-rate settings are then unused).
    learning_rate : float
        Initial Adam learning rate.
    decay_steps, decay_rate : int, float
        The learning rate is multiplied by ``decay_rate`` every ``decay_steps`` steps
        (smoothly).
    beta1, beta2 : float
        Adam's decay rates of the first and second gradient moments. β₂ is below the
        usual 0.999: the gradients shrink by orders of magnitude on the way to χ² = 1,
        and a second moment that remembers ~1,000 steps of large early gradients
        makes the late steps far shorter than the learning rate, so the last stretch
        to the target is slow. On the paper's set-up (seeds 0–2), β₂ = 0.95 reaches
        χ² = 1 in 0.6 times the steps of 0.999 on the dipping block (RMS error 0–3
        kg/m³ higher) and 0.75–0.9 times on the random field (RMS unchanged); 0.9,
        0.97 and 0.99 took more steps.
    max_steps : int
        Hard limit on optimiser steps.
    chi2_target : float
        Stop when the χ² per datum reaches this value (1 = fitted to the noise).
    ensemble : int
        Number of independently initialised networks (weights and Fourier matrices)
        trained together, vmapped; the model is their mean density, and training
        stops when the mean model reaches the χ² target. Averaging removes each
        member's own artefacts (g_z is linear in ρ, so the mean fits at least as well
        as the members do on average).
    depth_gain : float
        Depth weighting by reparametrisation: the network output is multiplied by
        w(z)^(−depth_gain) before the bounding tanh, with w the Li & Oldenburg depth
        weights (normalised to 1 at the top, see ``depth_weights``); 0 switches it off.
        This counters the decay of the sensitivities with depth, as the depth
        weighting of classical inversions does, without a penalty term.
    n_sub : int
        Samples per cell and axis (the cell value is the mean of n_sub³ samples).
    chunk : int
        Optimiser steps per compiled call (progress and checkpoints between calls).
    checkpoint_every : int
        Chunks between Orbax checkpoints (when a work directory is given).
    dtype : str
        ``"float32"`` (default) or ``"float64"`` (needs ``jax_enable_x64``).
    operator : str
        ``"auto"``, ``"dense"`` or ``"matrix-free"`` (see GravityProblem.operator).
    max_dense_bytes : int
        Memory allowed for a dense sensitivity matrix under ``"auto"``.
    """

    field: FieldConfig = FieldConfig()
    optimizer: str = "adam"
    learning_rate: float = 1e-2
    decay_steps: int = 1000
    decay_rate: float = 0.5
    beta1: float = 0.9
    beta2: float = 0.95
    max_steps: int = 2000
    chi2_target: float = 1.0
    ensemble: int = 4
    depth_gain: float = 0.0
    n_sub: int = 1
    chunk: int = 20
    checkpoint_every: int = 5
    dtype: str = "float32"
    operator: str = "auto"
    max_dense_bytes: int = DEFAULT_MAX_DENSE_BYTES

    def __post_init__(self):
        if self.optimizer not in ("adam", "lbfgs"):
            raise ValueError(f"optimizer must be 'adam' or 'lbfgs'; got {self.optimizer!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {self.dtype!r}")
        for name in ("max_steps", "n_sub", "chunk", "checkpoint_every", "decay_steps", "ensemble"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be ≥ 1; got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0; got {self.learning_rate}")
        for name in ("beta1", "beta2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1); got {getattr(self, name)}")
        if not self.chi2_target > 0:
            raise ValueError(f"chi2_target must be > 0; got {self.chi2_target}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class INRState:
    """Training state: everything needed to continue a run exactly."""

    step: jax.Array  # int32 scalar: optimiser steps taken
    params: Any  # trainable MLP parameters, leading axis = ensemble member
    constants: Any  # non-trained variables (the Fourier matrices), same axis
    opt_state: Any
    chi2: jax.Array  # χ² per datum of the (mean) model when last evaluated
    member_chi2: jax.Array  # (ensemble,) χ² of each member when last evaluated
    done: jax.Array  # bool: the model reached the χ² target and the parameters are frozen


@dataclasses.dataclass
class INRResult:
    """What :meth:`INRInversion.fit` returns (NumPy arrays, kg/m³ and mGal)."""

    density: np.ndarray
    predicted: np.ndarray
    chi2: float
    iterations: int
    seconds: float
    compile_seconds: float
    history: dict
    state: INRState
    operator: str
    n_parameters: int
    resumed_from: int | None


class INRInversion:
    """An INR gravity inversion of ``problem`` with ``config`` and extra loss ``terms``.

    Parameters
    ----------
    problem : GravityProblem
    config : INRConfig
    terms : sequence of callables density_grid → scalar
        Added to the χ² (see ``jaxgeo.inversion.smoothness`` and friends).
    operator : DenseOperator or MeshOperator, optional
        Reuse an operator already built for the problem (e.g. across encodings).
    """

    def __init__(self, problem: GravityProblem, config: INRConfig = INRConfig(), terms: Sequence[Callable] = (), operator=None):
        self.problem = problem
        self.config = config
        self.terms = tuple(terms)
        self.dtype = jnp.dtype(config.dtype)
        if self.dtype == jnp.float64 and not jax.config.jax_enable_x64:
            raise ValueError("dtype='float64' needs jax.config.update('jax_enable_x64', True)")
        self.operator = operator if operator is not None else problem.operator(
            dtype=self.dtype, max_dense_bytes=config.max_dense_bytes, kind=config.operator
        )
        self.model = DensityField(config.field, self.dtype)
        self.samples = standardized_centers(problem.mesh, config.n_sub, self.dtype)
        weights = depth_weights(problem.mesh)
        self.gain = jnp.asarray(weights[..., None] ** (-config.depth_gain), self.dtype)
        self.data = jnp.asarray(problem.data, self.dtype)
        self.inv_sigma = jnp.asarray(1.0 / problem.sigma, self.dtype)
        if config.optimizer == "adam":
            schedule = optax.exponential_decay(config.learning_rate, config.decay_steps, config.decay_rate)
            self.optimizer = optax.adam(schedule, b1=config.beta1, b2=config.beta2)
        else:
            self.optimizer = optax.lbfgs()
        self._chunk = jax.jit(self._run_chunk)
        self._features = jax.jit(self._training_features)
        self._members = jax.jit(jax.vmap(self._member_density, in_axes=(0, 0, None, None)))

    # --- pure pieces (one ensemble member) --------------------------------------------------

    def _encode(self, constants, points):
        return self.model.apply(constants, points, method="encode")

    def _decode_grid(self, params, constants, features, gain):
        values = self.model.apply({"params": params, **constants}, features, jnp.broadcast_to(gain, features.shape[:-1]), method="decode")
        return jnp.mean(values, axis=-1)  # mean of the n_sub³ samples of each cell

    def _member_density(self, params, constants, points, gain):
        return self._decode_grid(params, constants, self._encode(constants, points), gain)

    def _loss(self, params, constants, features, gain, operator, data, inv_sigma):
        density = self._decode_grid(params, constants, features, gain)
        residual = (operator(density) - data) * inv_sigma
        chi2 = jnp.mean(residual**2)
        loss = chi2
        for term in self.terms:
            loss = loss + term(density)
        return loss, (chi2, density)

    def _decode_flat(self, params, constants, features, features_t, gain):
        """Field values of one member (n,) from its encoding flattened to (n, n_encoded)
        and transposed (n_encoded, n), n = cells × n_sub³ (the faster training path)."""
        return self.model.apply({"params": params, **constants}, features, gain, features_t, method="decode")

    def _training_features(self, constants, points):
        """Every member's encoding of the fixed sample points, computed once per run:
        (ensemble, ..., n_encoded) for L-BFGS; for Adam, flattened to (ensemble, n,
        n_encoded) with its transpose (ensemble, n_encoded, n), n = cells × n_sub³."""
        features = jax.vmap(self._encode, in_axes=(0, None), axis_size=self.config.ensemble)(constants, points)
        if self.config.optimizer == "lbfgs":
            return features
        flat = features.reshape(features.shape[0], -1, features.shape[-1])
        return flat, jnp.swapaxes(flat, 1, 2)

    def _run_chunk(self, state: INRState, features, samples, operator, data, inv_sigma):
        points, gain = samples
        target = self.config.chi2_target
        lbfgs = self.config.optimizer == "lbfgs"
        if not lbfgs:
            flat, flat_t = features
            flat_gain = jnp.broadcast_to(gain, points.shape[:-1]).reshape(-1)

        def ensemble_objective(params):
            """Sum of the members' losses (each depends on its own parameters only, so its
            gradient is every member's own), with all members' g_z as one product."""
            values = jax.vmap(self._decode_flat, in_axes=(0, 0, 0, 0, None))(params, state.constants, flat, flat_t, flat_gain)
            density = jnp.mean(values.reshape(values.shape[0], *points.shape[:-1]), axis=-1)  # mean of the n_sub³ samples
            predicted = operator.columns(density)  # (n_data, ensemble)
            chi2 = jnp.mean(((predicted - data[:, None]) * inv_sigma[:, None]) ** 2, axis=0)
            loss = chi2
            for term in self.terms:
                loss = loss + jax.vmap(term)(density)
            return jnp.sum(loss), (loss, chi2, predicted)

        def ensemble_update(params, opt_state):
            (_, (loss, member_chi2, predicted)), grads = jax.value_and_grad(ensemble_objective, has_aux=True)(params)
            updates, opt_state = jax.vmap(self.optimizer.update)(grads, opt_state, params)
            # the model is the members' mean; g_z is linear in ρ, so its prediction is the
            # mean of theirs
            chi2 = jnp.mean(((jnp.mean(predicted, axis=1) - data) * inv_sigma) ** 2)
            return optax.apply_updates(params, updates), opt_state, loss, member_chi2, chi2

        def member_update(params, opt_state, constants, features):
            def objective(p):
                return self._loss(p, constants, features, gain, operator, data, inv_sigma)

            (loss, (chi2, density)), grads = jax.value_and_grad(objective, has_aux=True)(params)
            updates, opt_state = self.optimizer.update(
                grads, opt_state, params, value=loss, grad=grads, value_fn=lambda p: objective(p)[0]
            )
            return optax.apply_updates(params, updates), opt_state, loss, chi2, density

        def one_step(state):
            if lbfgs:
                params, opt_state, loss, member_chi2, density = jax.vmap(member_update)(
                    state.params, state.opt_state, state.constants, features
                )
                chi2 = jnp.mean(((operator(jnp.mean(density, axis=0)) - data) * inv_sigma) ** 2)
            else:
                params, opt_state, loss, member_chi2, chi2 = ensemble_update(state.params, state.opt_state)
            done = state.done | (chi2 <= target)
            keep = lambda old, new: jax.tree_util.tree_map(lambda a, b: jnp.where(done, a, b), old, new)  # noqa: E731
            new = INRState(
                step=jnp.where(done, state.step, state.step + 1),
                params=keep(state.params, params),
                constants=state.constants,
                opt_state=keep(state.opt_state, opt_state),
                chi2=chi2,
                member_chi2=member_chi2,
                done=done,
            )
            return new, (jnp.mean(loss), chi2)

        # up to ``chunk`` steps, leaving the loop at the step that reaches the target (the
        # history of steps not taken is NaN)
        def body(carry):
            i, state, losses, chi2s = carry
            state, (loss, chi2) = one_step(state)
            return i + 1, state, losses.at[i].set(loss), chi2s.at[i].set(chi2)

        def cond(carry):
            i, state, _, _ = carry
            return (i < self.config.chunk) & ~state.done

        empty = jnp.full(self.config.chunk, jnp.nan, self.dtype)
        _, state, losses, chi2s = jax.lax.while_loop(cond, body, (0, state, empty, empty))
        return state, (losses, chi2s)

    # --- (init, step) -----------------------------------------------------------------------

    def init(self, key) -> INRState:
        """Initial state from a PRNG key: ``config.ensemble`` members, each with its own
        network weights and Fourier matrix (every leaf has a leading member axis)."""
        keys = jax.random.split(key, self.config.ensemble)
        variables = jax.vmap(self.model.init, in_axes=(0, None))(keys, self.samples[0, 0, 0, :1])
        params = variables["params"]
        constants = {k: v for k, v in variables.items() if k != "params"}
        k = self.config.ensemble
        return INRState(
            step=jnp.asarray(0, jnp.int32),
            params=params,
            constants=constants,
            opt_state=jax.vmap(self.optimizer.init)(params),
            chi2=jnp.asarray(jnp.inf, self.dtype),
            member_chi2=jnp.full(k, jnp.inf, self.dtype),
            done=jnp.asarray(False),
        )

    def step(self, state: INRState, features=None):
        """``config.chunk`` optimiser steps of every member, fewer if the χ² target is
        reached; returns (state, (loss, chi2)) per step: the members' mean loss and the
        mean model's χ² (NaN for steps not taken). ``features``: the encoding of the
        sample points, ``training_features(state)``, computed here if not given (pass it
        to save that work at every call)."""
        if features is None:
            features = self.training_features(state)
        return self._chunk(state, features, (self.samples, self.gain), self.operator, self.data, self.inv_sigma)

    def training_features(self, state: INRState):
        """The members' encodings of the sample points (constant during training)."""
        return self._features(state.constants, self.samples)

    def member_densities(self, state: INRState) -> jax.Array:
        """Density of each member, (ensemble, n_east, n_north, n_up), kg/m³."""
        return self._members(state.params, state.constants, self.samples, self.gain)

    def density(self, state: INRState) -> jax.Array:
        """The model: the members' mean density grid (n_east, n_north, n_up), kg/m³."""
        return jnp.mean(self.member_densities(state), axis=0)

    def predicted(self, state: INRState) -> jax.Array:
        """Predicted g_z at the stations (mGal)."""
        return self.operator(self.density(state))

    # --- driver -----------------------------------------------------------------------------

    def fit(self, key, *, workdir: str | Path | None = None, progress: bool = True, resume: bool = True,
            callback: Callable | None = None) -> INRResult:
        """Train until the χ² target or ``max_steps``; checkpoint to ``workdir``.

        With a ``workdir``, the configuration is written to ``workdir/inr_config.json``
        and the state to ``workdir/checkpoints`` every ``checkpoint_every`` chunks; a
        later call with the same workdir and configuration resumes from the latest
        checkpoint and ends with the same parameters as an uninterrupted run.
        ``callback(state, metrics)`` is called after every chunk.
        """
        cfg = self.config
        state = self.init(key)
        t0 = time.perf_counter()
        encode = self._features.lower(state.constants, self.samples).compile()
        features_shape = jax.eval_shape(self._features, state.constants, self.samples)
        compiled = self._chunk.lower(state, features_shape, (self.samples, self.gain), self.operator, self.data, self.inv_sigma).compile()
        chunk_index = 0
        compile_seconds = time.perf_counter() - t0
        manager = None
        resumed_from = None
        if workdir is not None:
            manager, state, resumed_from = _open_checkpoints(Path(workdir), self._settings(), state, resume)
        history = {"step": [], "loss": [], "chi2": []}
        n_chunks = -(-cfg.max_steps // cfg.chunk)
        bar = _Progress(n_chunks * cfg.chunk, enabled=progress, start=int(state.step))
        t0 = time.perf_counter()
        try:
            features = encode(state.constants, self.samples)  # timed with the training: once per run
            chunk_index = int(state.step) // cfg.chunk
            ran = False
            while not bool(state.done) and int(state.step) < cfg.max_steps:
                first = int(state.step)
                state, (loss, chi2) = compiled(state, features, (self.samples, self.gain), self.operator, self.data, self.inv_sigma)
                loss, chi2 = np.asarray(loss), np.asarray(chi2)
                taken = min(int(state.step) - first + int(bool(state.done)), cfg.chunk)
                history["step"].extend(range(first, first + taken))
                history["loss"].extend(loss[:taken].tolist())
                history["chi2"].extend(chi2[:taken].tolist())
                chunk_index += 1
                ran = True
                bar.update(int(state.step), float(loss[taken - 1]), float(chi2[taken - 1]))
                if manager is not None and (chunk_index % cfg.checkpoint_every == 0 or bool(state.done)):
                    manager.save(chunk_index, args=_save_args(state))
                if callback is not None:
                    callback(state, (loss, chi2))
            seconds = time.perf_counter() - t0
        finally:
            bar.close()
            if manager is not None:
                manager.wait_until_finished()
        if manager is not None and ran and manager.latest_step() != chunk_index:
            manager.save(chunk_index, args=_save_args(state), force=True)
            manager.wait_until_finished()
        density = self.density(state)
        predicted = self.operator(density)
        chi2 = float(jnp.mean(((predicted - self.data) * self.inv_sigma) ** 2))
        return INRResult(
            density=np.asarray(density),
            predicted=np.asarray(predicted),
            chi2=chi2,
            iterations=int(state.step),
            seconds=seconds,
            compile_seconds=compile_seconds,
            history=history,
            state=state,
            operator=self.operator.kind,
            n_parameters=count_parameters({"params": state.params}) // cfg.ensemble,
            resumed_from=resumed_from,
        )

    def _settings(self) -> dict:
        return {"method": "inr", "config": self.config.to_dict(), "terms": [_describe(t) for t in self.terms]}


def _describe(term) -> str:
    return getattr(term, "__qualname__", repr(term))


def _save_args(state):
    import orbax.checkpoint as ocp

    return ocp.args.StandardSave(state)


def _open_checkpoints(workdir: Path, settings: dict, state, resume: bool):
    import orbax.checkpoint as ocp

    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "inr_config.json"
    text = json.dumps(settings, indent=2, default=str)
    directory = (workdir / "checkpoints").absolute()
    if directory.exists() and any(directory.iterdir()):
        if not resume:
            raise FileExistsError(f"{directory} holds checkpoints of an earlier run; pass resume=True or use a new directory")
        if config_path.exists() and json.loads(config_path.read_text()) != json.loads(text):
            raise ValueError(f"{directory} holds checkpoints of a run with other settings ({config_path}); use a new directory")
    config_path.write_text(text)
    manager = ocp.CheckpointManager(directory, options=ocp.CheckpointManagerOptions(max_to_keep=2))
    latest = manager.latest_step()
    if latest is None:
        return manager, state, None
    restored = manager.restore(latest, args=ocp.args.StandardRestore(state))
    return manager, restored, int(restored.step)


class _Progress:
    """A rich progress bar with step rate, ETA, loss and χ² (silent when disabled)."""

    def __init__(self, total: int, *, enabled: bool, start: int = 0):
        self.enabled = enabled
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("INR"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"), TimeRemainingColumn(),
        )
        self.progress.start()
        self.task = self.progress.add_task("train", total=total, completed=start, status="")
        self.start, self.t0 = start, time.perf_counter()

    def update(self, step: int, loss: float, chi2: float):
        if self.enabled:
            rate = (step - self.start) / max(time.perf_counter() - self.t0, 1e-9)
            self.progress.update(self.task, completed=step, status=f"{rate:.0f} steps/s  loss {loss:.3g}  χ² {chi2:.3f}")

    def close(self):
        if self.enabled:
            self.progress.stop()
