"""G-Query: a query-based transformer for joint dispersion + receiver-function inversion.

The first open implementation of Wang et al., "One-Fit-All Transformer for Multimodal
Geophysical Inversion: Method and Application", JGR: Machine Learning and Computation
(2025), https://doi.org/10.1029/2024JH000432. Every observation (a phase- or
group-velocity point, an RF sample) and every inversion target (Vs at a depth node,
crustal Vp/Vs, sediment thickness ST, crystalline-crust thickness CT) is one token
(:mod:`._tokens`); an encoder attends over the data tokens, a decoder lets the query
tokens attend to each other and to the encoded data, and each query returns a
prediction and its σ (:mod:`._model`). Trained with a heteroscedastic Huber loss on
batches simulated on the device by :func:`jaxgeo.earth.simulate` (:mod:`._train`).

Public API
----------
GQueryConfig, ModelConfig, TrainConfig, CONFIGS, get_config
    Typed configurations: ``paper`` (29.65 M parameters) and ``tiny`` (CPU).
GQuery
    The Flax module.
train_and_evaluate(config, workdir, ...)
    Training with a progress bar, metrics log, training-curve PNG, Orbax checkpoints
    and exact resume; data-parallel over all visible devices.
init_state, train_round, training_batch, gquery_loss
    The (init, step) pieces of training.
Predictor, predict(workdir, observations)
    Profiles with σ from :class:`jaxgeo.earth.Observations`.
calibration_metrics, prior_baseline, evaluate
    Accuracy and calibration figures.
"""

from ._config import CONFIGS, GQueryConfig, ModelConfig, TrainConfig, get_config
from ._model import GQuery, abstract_parameter_count, count_parameters
from ._predict import Predictor, observation_tokens, plot_prediction, predict, predicted_data, profile_model
from ._tokens import TARGET_NAMES, data_tokens, query_tokens, target_statistics, target_vector
from ._train import (
    TrainState,
    calibration_metrics,
    evaluate,
    full_tokens,
    gquery_loss,
    init_state,
    make_optimizer,
    prior_baseline,
    restore_state,
    train_and_evaluate,
    train_round,
    training_batch,
)

__all__ = [
    "CONFIGS",
    "GQuery",
    "GQueryConfig",
    "ModelConfig",
    "Predictor",
    "TARGET_NAMES",
    "TrainConfig",
    "TrainState",
    "abstract_parameter_count",
    "calibration_metrics",
    "count_parameters",
    "data_tokens",
    "evaluate",
    "full_tokens",
    "get_config",
    "gquery_loss",
    "init_state",
    "make_optimizer",
    "observation_tokens",
    "plot_prediction",
    "predict",
    "predicted_data",
    "prior_baseline",
    "profile_model",
    "query_tokens",
    "restore_state",
    "target_statistics",
    "target_vector",
    "train_and_evaluate",
    "train_round",
    "training_batch",
]
