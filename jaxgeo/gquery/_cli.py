"""``jaxgeo gquery train`` and ``jaxgeo gquery predict``."""

from __future__ import annotations

import json
from pathlib import Path


def register(commands) -> None:
    """Add the ``gquery`` command group to the ``jaxgeo`` sub-parsers."""
    from ._config import CONFIGS

    gquery = commands.add_parser("gquery", help="G-Query: learned joint dispersion + RF inversion").add_subparsers(
        dest="action", required=True
    )
    train = gquery.add_parser(
        "train", help="train on simulated samples (checkpoints, resume, metrics log)",
        description="Train G-Query on batches drawn on the fly by jaxgeo.earth.simulate. Re-running the same "
        "command in the same --workdir resumes from the last checkpoint.",
    )
    train.add_argument("--config", default="tiny", choices=sorted(CONFIGS), help="network + training config (default tiny)")
    train.add_argument("--workdir", required=True, help="folder for checkpoints, config.json, metrics.jsonl, training_curve.png")
    train.add_argument("--steps", type=int, help="total optimiser steps (default: the config's)")
    train.add_argument("--minutes", type=float, help="stop (evaluated and checkpointed) after this much training time")
    train.add_argument("--batch-size", type=int, help="override the config's batch size")
    train.add_argument("--seed", type=int, help="override the config's seed")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(handler=_train)

    predict = gquery.add_parser(
        "predict", help="predict Vs, Vp/Vs, ST and CT with σ from observed data",
        description="Observed data (text or npz, see jaxgeo.earth.read_observations) → profiles with σ (npz) and a "
        "PNG per station of Vs ± σ with the data fit of the predicted model.",
    )
    predict.add_argument("--workdir", required=True, help="a training workdir (its latest checkpoint is used)")
    predict.add_argument("--input", required=True, nargs="+", help="one observation file per station")
    predict.add_argument("--out", default="jaxgeo-output", help="output folder (default jaxgeo-output)")
    predict.add_argument("--step", type=int, help="checkpoint step (default: the latest)")
    predict.set_defaults(handler=_predict)


def _train(args) -> int:
    from ._config import get_config
    from ._train import train_and_evaluate

    config = get_config(args.config)
    changes = {k: v for k, v in (("batch_size", args.batch_size), ("seed", args.seed)) if v is not None}
    if changes:
        config = config.replace(**changes)
    if args.minutes is not None and args.minutes <= 0:
        raise ValueError(f"--minutes must be > 0, got {args.minutes}")
    result = train_and_evaluate(
        config, args.workdir, steps=args.steps, progress=not args.no_progress,
        time_limit=None if args.minutes is None else 60.0 * args.minutes,
    )
    base = result["prior_baseline"]
    if "vs_rmse_150" in result:
        print(
            f"step {result['step']}: validation Vs RMSE (0–150 km) {result['vs_rmse_150']:.3f} km/s "
            f"(prior mean {base['vs_rmse_150']:.3f}), std(z) {result['z_std']:.2f}, "
            f"68% coverage {result['coverage_68']:.2f}"
        )
    print(f"  wrote {Path(args.workdir) / 'metrics.jsonl'}, {Path(args.workdir) / 'training_curve.png'}, checkpoints")
    return 0


def _predict(args) -> int:
    import numpy as np

    from ..earth import read_observations
    from ._predict import Predictor, plot_prediction, predicted_data

    observations = [read_observations(path) for path in args.input]
    predictor = Predictor(args.workdir, step=args.step)
    result = predictor(observations)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fits = [predicted_data(result, i, obs) for i, obs in enumerate(observations)]
    arrays = dict(result)
    arrays["stations"] = np.array([str(p) for p in args.input])
    for kind in ("phase", "group", "rf"):
        for i, fit in enumerate(fits):
            if kind in fit:
                arrays[f"fit_{kind}_{i}"] = fit[kind]
    np.savez(out / "prediction.npz", **arrays)
    written = [out / "prediction.npz"]
    for i, (obs, fit) in enumerate(zip(observations, fits)):
        name = Path(args.input[i]).stem
        written.append(plot_prediction(result, i, obs, out / f"{name}.png", fitted=fit, title=name))
    summary = {
        str(args.input[i]): {
            "sediment_thickness_km": [float(result["sediment_thickness"][i]), float(result["sediment_thickness_sigma"][i])],
            "crust_thickness_km": [float(result["crust_thickness"][i]), float(result["crust_thickness_sigma"][i])],
            "crust_vp_vs": [float(result["crust_vp_vs"][i]), float(result["crust_vp_vs_sigma"][i])],
        }
        for i in range(len(observations))
    }
    (out / "prediction.json").write_text(json.dumps({"checkpoint_step": predictor.step, "stations": summary}, indent=2))
    for i, obs in enumerate(observations):
        print(
            f"{args.input[i]}: ST {result['sediment_thickness'][i]:.2f} ± {result['sediment_thickness_sigma'][i]:.2f} km, "
            f"CT {result['crust_thickness'][i]:.1f} ± {result['crust_thickness_sigma'][i]:.1f} km, "
            f"κ {result['crust_vp_vs'][i]:.3f} ± {result['crust_vp_vs_sigma'][i]:.3f}"
        )
    print("  wrote " + ", ".join(str(p) for p in written) + f", {out / 'prediction.json'}")
    return 0
