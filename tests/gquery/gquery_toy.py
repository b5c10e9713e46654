"""The toy-source tiny config of the G-Query tests (compiles in seconds)."""

import dataclasses

from jaxgeo.earth import SimulatorConfig
from jaxgeo.gquery import CONFIGS


def toy_config(**train):
    """The tiny network on the toy data source, small validation set, checkpoints every 3 steps."""
    base = CONFIGS["tiny"]
    model = dataclasses.replace(base.model, width=16, heads=2, encoder_layers=1, decoder_layers=1, n_fourier=2)
    sim = SimulatorConfig(n_periods=6, rf_duration=2.0)
    settings = dict(
        batch_size=8, source="toy", simulator=sim, validation_size=16, eval_every=3, checkpoint_every=3,
        warmup_steps=2, repeats=1, keep_checkpoints=5,
    )
    settings.update(train)
    return dataclasses.replace(base, name="test", model=model, train=dataclasses.replace(base.train, **settings))
