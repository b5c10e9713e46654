"""Typed configurations of G-Query: the network and its training.

Two named configurations, :data:`CONFIGS`:

``paper``
    The network of Wang et al. (2025): embedding width 160, 10 heads, 8 encoder and
    8 decoder layers, full-dimensional attention heads, batch 64, AdamW with a
    3,200-step warm-up and ×0.95 every 3,200 steps.
``tiny``
    For a 2-core CPU (≈ 0.4 s per optimiser step at batch 32): width 48, 2 heads,
    2 + 2 layers, batch 32, a 100-step warm-up and ×0.95 every 300 steps (the paper's
    schedule spans ~10⁵ steps; a tiny run ~10³), and 3 optimiser steps per simulated
    batch (``repeats``; each with its own masking and reference draw) because simulating
    32 samples costs about as much as two optimiser steps on a CPU.
"""

from __future__ import annotations

import dataclasses
import json

from ..earth import SimulatorConfig

__all__ = ["CONFIGS", "GQueryConfig", "ModelConfig", "TrainConfig", "get_config"]


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The network.

    Attributes
    ----------
    width : int
        Embedding width D of every token.
    heads : int
        Attention heads; each projects queries, keys and values to the full width D
        (full-dimensional multi-head attention: the attention block has 4·heads·D²
        weights, not 4·D²).
    encoder_layers, decoder_layers : int
        N self-attention layers over the data tokens; M decoder layers (self-attention
        over the queries, cross-attention to the encoded data).
    mlp_ratio : int
        Hidden width of each feed-forward block, in units of D.
    n_fourier : int
        Sinusoidal features of each token's position parameter (log period, RF time,
        target depth) added as extra numeric parameters (0 = the paper's linear
        parameter embedding only).
    dropout : float
        Dropout rate in the attention and feed-forward blocks (0 = none).
    """

    width: int = 48
    heads: int = 2
    encoder_layers: int = 2
    decoder_layers: int = 2
    mlp_ratio: int = 4
    n_fourier: int = 4
    dropout: float = 0.0


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training: optimiser, batches from the simulator, masking, checkpoints.

    Attributes
    ----------
    batch_size : int
        Samples per optimiser step (split over the devices; a multiple of their count).
    steps : int
        Optimiser steps of a run (``jaxgeo gquery train --steps`` overrides it).
    learning_rate, weight_decay : float
        AdamW peak learning rate and decoupled weight decay.
    warmup_steps : int
        Linear warm-up from 0 to the peak learning rate.
    decay_every, decay_rate : int, float
        After the warm-up, the rate is multiplied by ``decay_rate`` every
        ``decay_every`` steps (staircase).
    grad_clip : float
        Global gradient-norm clipping.
    repeats : int
        Optimiser steps per simulated batch, each with fresh masks and references.
    max_data_mask, max_target_mask : float
        Per sample, a fraction f ~ U(0, max) of the data tokens (and, independently, of
        the targets) is masked out.
    drop_type : float
        Probability of removing each whole data type (phase, group, RF) from a sample
        (at least one type is kept), so that any subset of data can be inverted.
    known_reference : float
        Probability that a sample's queries carry reference values (the truth
        perturbed by Gaussian noise whose σ, drawn per sample, is given as the
        reference's uncertainty); otherwise they are unknown (−1).
    reference_noise : (float, float)
        Range of that σ in units of each target's prior standard deviation.
    validation_size, validation_seed : int
        The fixed validation set, drawn once.
    eval_every, checkpoint_every, keep_checkpoints : int
        Validation metrics and checkpoints every so many steps (multiples of
        ``repeats``); the last ``keep_checkpoints`` are kept.
    seed : int
        Seed of the initialisation and of the batch stream.
    simulator : SimulatorConfig
        The simulator drawing the training and validation samples.
    source : str
        ``"simulator"`` (:func:`jaxgeo.earth.simulate`: the physics) or ``"toy"``: a
        cheap analytic stand-in with the same prior, targets and array layout (data are
        smooth functions of the model, not physics; compiles in seconds) for tests and
        smoke runs of the training machinery.
    """

    batch_size: int = 32
    steps: int = 6000
    learning_rate: float = 1.5e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    decay_every: int = 300
    decay_rate: float = 0.95
    grad_clip: float = 1.0
    repeats: int = 3
    max_data_mask: float = 0.4
    max_target_mask: float = 0.4
    drop_type: float = 0.1
    known_reference: float = 0.5
    reference_noise: tuple = (0.05, 0.5)
    validation_size: int = 256
    validation_seed: int = 20251
    eval_every: int = 150
    checkpoint_every: int = 150
    keep_checkpoints: int = 3
    seed: int = 0
    simulator: SimulatorConfig = SimulatorConfig()
    source: str = "simulator"


@dataclasses.dataclass(frozen=True)
class GQueryConfig:
    """A named network + training configuration (saved with every checkpoint)."""

    name: str = "tiny"
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()

    def replace(self, **train_changes) -> GQueryConfig:
        """A copy with some :class:`TrainConfig` fields changed."""
        return dataclasses.replace(self, train=dataclasses.replace(self.train, **train_changes))

    def validate(self) -> None:
        """Raise ``ValueError`` naming the setting at fault."""
        m, t = self.model, self.train
        for name in ("width", "heads", "encoder_layers", "decoder_layers", "mlp_ratio"):
            if int(getattr(m, name)) < 1:
                raise ValueError(f"model.{name} must be ≥ 1, got {getattr(m, name)}")
        if m.n_fourier < 0:
            raise ValueError(f"model.n_fourier must be ≥ 0, got {m.n_fourier}")
        if not 0 <= m.dropout < 1:
            raise ValueError(f"model.dropout must be in [0, 1), got {m.dropout}")
        for name in ("batch_size", "steps", "repeats", "eval_every", "checkpoint_every", "keep_checkpoints",
                     "validation_size", "decay_every"):
            if int(getattr(t, name)) < 1:
                raise ValueError(f"train.{name} must be ≥ 1, got {getattr(t, name)}")
        for name in ("eval_every", "checkpoint_every"):
            if getattr(t, name) % t.repeats:
                raise ValueError(f"train.{name} ({getattr(t, name)}) must be a multiple of train.repeats ({t.repeats})")
        if t.warmup_steps < 0:
            raise ValueError(f"train.warmup_steps must be ≥ 0, got {t.warmup_steps}")
        if not t.learning_rate > 0:
            raise ValueError(f"train.learning_rate must be > 0, got {t.learning_rate}")
        for name in ("max_data_mask", "max_target_mask", "drop_type", "known_reference"):
            if not 0 <= getattr(t, name) <= 1:
                raise ValueError(f"train.{name} must be in [0, 1], got {getattr(t, name)}")
        if t.source not in ("simulator", "toy"):
            raise ValueError(f"train.source must be 'simulator' or 'toy', got {t.source!r}")
        lo, hi = t.reference_noise
        if not 0 < lo <= hi:
            raise ValueError(f"train.reference_noise must satisfy 0 < low ≤ high, got {t.reference_noise}")

    def to_dict(self) -> dict:
        return json.loads(json.dumps(dataclasses.asdict(self), default=str))

    @classmethod
    def from_dict(cls, data: dict) -> GQueryConfig:
        from ..earth import Layering

        train = dict(data["train"])
        sim = dict(train.pop("simulator"))
        for key in ("layering", "rf_layering"):
            sim[key] = Layering(**sim[key])
        for key, value in sim.items():
            if isinstance(value, list):
                sim[key] = tuple(value)
        train = {k: tuple(v) if isinstance(v, list) else v for k, v in train.items()}
        return cls(
            name=data["name"],
            model=ModelConfig(**data["model"]),
            train=TrainConfig(**train, simulator=SimulatorConfig(**sim)),
        )


CONFIGS = {
    "paper": GQueryConfig(
        name="paper",
        model=ModelConfig(width=160, heads=10, encoder_layers=8, decoder_layers=8, mlp_ratio=6, n_fourier=4),
        train=TrainConfig(
            batch_size=64, steps=200_000, learning_rate=1e-4, warmup_steps=3200, decay_every=3200, repeats=1,
            validation_size=1024, eval_every=1000, checkpoint_every=1000,
        ),
    ),
    "tiny": GQueryConfig(name="tiny"),
}


def get_config(name: str) -> GQueryConfig:
    """The named configuration (``"paper"`` or ``"tiny"``)."""
    if name not in CONFIGS:
        raise ValueError(f"config: unknown name {name!r}; choose from {', '.join(sorted(CONFIGS))}")
    return CONFIGS[name]
