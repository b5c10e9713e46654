"""``jaxgeo mcmc run``: sample one station's posterior and write results and a figure.

    jaxgeo mcmc run --input STATION.txt|.npz --out DIR [--sampler nuts|rwm] [--chains 4]
                    [--steps N] [--warmup N] [--thin K] [--kinds phase,group,rf]
                    [--seed 0] [--max-tree-depth 6] [--float64] [--no-progress]

Input: one station in the format of :func:`jaxgeo.earth.read_observations` (text or
npz; errors name the file and line). Writes, in DIR:

* ``posterior.npz``: summaries in the target representation (``summary_vs_mean`` …),
  diagnostics (``diagnostics_rhat`` …), the thinned draws ``samples`` (chains, draws,
  23) and the settings (:meth:`PosteriorResult.save`);
* ``diagnostics.json``: R̂, bulk ESS, acceptance, divergences, timings, warnings;
* ``posterior.png``: the Vs posterior (median, 5–95 % band, prior range) to 150 km,
  and the data fits (observed ± σ, the posterior median's prediction and those of a
  few draws) of every data type present.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

__all__ = ["register"]


def register(commands) -> None:
    """Add ``mcmc run`` to the ``jaxgeo`` command's sub-parsers ``commands``."""
    from ._driver import DEFAULTS

    group = commands.add_parser("mcmc", help="MCMC posterior of the Earth model given joint data")
    actions = group.add_subparsers(dest="action", required=True)
    run = actions.add_parser(
        "run", help="sample one station's posterior (blackjax NUTS or random-walk Metropolis)",
        description="Sample the posterior of the 23-parameter continental model given one station's Rayleigh "
        "phase/group velocities and P receiver function, and write posterior.npz, diagnostics.json and posterior.png.",
    )
    run.add_argument("--input", required=True, help="observations file (text or .npz; see jaxgeo.earth.read_observations)")
    run.add_argument("--out", default="jaxgeo-output", help="output folder (default jaxgeo-output)")
    run.add_argument("--sampler", default="nuts", choices=("nuts", "rwm"), help="sampler (default nuts)")
    run.add_argument("--chains", type=int, default=4, help="number of chains (default 4)")
    run.add_argument("--steps", type=int, help=f"sampling steps after warmup (default nuts {DEFAULTS['nuts']['n_samples']}, "
                     f"rwm {DEFAULTS['rwm']['n_samples']})")
    run.add_argument("--warmup", type=int, help=f"adaptation steps (default nuts {DEFAULTS['nuts']['n_warmup']}, "
                     f"rwm {DEFAULTS['rwm']['n_warmup']})")
    run.add_argument("--thin", type=int, default=1, help="keep every K-th draw in posterior.npz (default 1)")
    run.add_argument("--kinds", help="comma-separated data types to use, from phase,group,rf (default: all present)")
    run.add_argument("--max-tree-depth", type=int, default=6, help="NUTS: at most 2^D − 1 gradient evaluations per step")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--float64", action="store_true", help="compute in float64 (default float32)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(handler=_run)


def _run(args) -> int:
    import dataclasses
    import warnings

    import jax

    if args.float64:
        jax.config.update("jax_enable_x64", True)
    from .. import earth
    from ._driver import sample

    observations = earth.read_observations(args.input)  # ObservationFileError (a ValueError) names file and line
    kinds = None
    if args.kinds:
        kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
        unknown = sorted(set(kinds) - {"phase", "group", "rf"})
        if unknown or not kinds:
            raise ValueError(f"--kinds: unknown data type(s) {unknown or kinds}; choose from phase, group, rf")
        missing = [k for k in kinds if k not in observations.kinds]
        if missing:
            raise ValueError(f"--kinds: {args.input} has no {', '.join(missing)} data (it has {', '.join(observations.kinds)})")
    config = dataclasses.replace(earth.SimulatorConfig(), dtype="float64" if args.float64 else "float32")
    used = kinds or observations.kinds
    print(f"jaxgeo mcmc run: {args.sampler}, {args.chains} chains, data {', '.join(used)} from {args.input} "
          f"({config.dtype})", flush=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        result = sample(jax.random.key(args.seed), observations, sampler=args.sampler, n_chains=args.chains,
                        n_warmup=args.warmup, n_samples=args.steps, thin=args.thin, kinds=kinds, config=config,
                        max_tree_depth=args.max_tree_depth, progress=not args.no_progress)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result.save(out / "posterior.npz")
    (out / "diagnostics.json").write_text(json.dumps(result.diagnostics_json(), indent=2))
    plot_posterior(result, out / "posterior.png", title=f"{args.sampler.upper()} posterior — {Path(args.input).name}")
    d = result.diagnostics
    print(f"  compiled in {d['compile_seconds']:.1f} s, sampled in {d['seconds']:.1f} s "
          f"({d['seconds_per_step'] * 1e3:.1f} ms/step); max R-hat {np.nanmax(d['rhat']):.3f}, "
          f"min bulk ESS {np.nanmin(d['ess_bulk']):.0f}, acceptance {np.mean(d['acceptance_rate']):.2f}"
          + (f", divergences {int(np.sum(d['divergences']))}" if args.sampler == "nuts" else ""))
    for w in caught:
        print(f"  warning: {w.message}", file=sys.stderr)
    for name in ("posterior.npz", "diagnostics.json", "posterior.png"):
        print(f"  wrote {out / name}")
    return 0


def plot_posterior(result, path, *, title: str = "", max_depth: float = 150.0, n_draws: int = 20, seed: int = 0):
    """Vs posterior (median, 5–95 %, prior range) and data fits of a one-station result."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt


    if not result.single:
        raise ValueError("plot_posterior: expected a one-station result")
    observations = result.batch.observations[0]
    summary = result.summary()
    depth = summary["depth"]
    shallow = depth <= max_depth
    kinds = observations.kinds
    fig, axes = plt.subplots(1, 1 + len(kinds), figsize=(4.2 * (1 + len(kinds)), 5.2), squeeze=False)
    axes = axes[0]
    ax = axes[0]
    prior_lo, prior_hi = _prior_vs_range(depth)
    ax.fill_betweenx(depth[shallow], prior_lo[shallow], prior_hi[shallow], color="0.9", label="prior range")
    ax.fill_betweenx(depth[shallow], summary["vs_p05"][shallow], summary["vs_p95"][shallow], color="tab:blue",
                     alpha=0.35, label="5–95 %")
    ax.plot(summary["vs_p50"][shallow], depth[shallow], color="tab:blue", label="median")
    if observations.ref_vs.size:
        ax.errorbar(observations.ref_vs, observations.ref_vs_depth, xerr=observations.ref_vs_sigma, fmt=".",
                    color="k", ms=3, label="reference")
    ax.set_ylim(max_depth, 0)
    ax.set_xlabel("Vs (km/s)")
    ax.set_ylabel("depth (km)")
    ax.legend(loc="lower left", fontsize=8)
    samples = result.samples.reshape(-1, result.samples.shape[-1])
    rng = np.random.default_rng(seed)
    draws = samples[rng.choice(samples.shape[0], size=min(n_draws, samples.shape[0]), replace=False)]
    median = np.median(samples, axis=0)
    predicted = result.predicted(np.concatenate([median[None], draws]))
    labels = {"phase": ("period (s)", "phase velocity (km/s)"), "group": ("period (s)", "group velocity (km/s)"),
              "rf": ("time (s)", "RF (1/s)")}
    for ax, kind in zip(axes[1:], kinds):
        x = observations.rf_times if kind == "rf" else getattr(observations, f"{kind}_periods")
        y, s = getattr(observations, kind), getattr(observations, f"{kind}_sigma")
        values = predicted[kind]
        for v in values[1:]:
            ax.plot(x, v, color="tab:orange", alpha=0.15, lw=0.8)
        ax.errorbar(x, y, yerr=s, fmt=".", color="k", ms=3, elinewidth=0.6, label="observed ± σ")
        ax.plot(x, values[0], color="tab:red", lw=1.4, label="posterior median model")
        ax.plot([], [], color="tab:orange", alpha=0.5, label=f"{len(values) - 1} posterior draws")
        if kind != "rf":
            ax.set_xscale("log")
        ax.set_xlabel(labels[kind][0])
        ax.set_ylabel(labels[kind][1])
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _prior_vs_range(depth):
    """Envelope of Vs at ``depth`` over the prior's bounds (envelope of 4,096 prior draws)."""
    import jax

    from .. import earth

    draws = earth.sample_prior(jax.random.key(0), 4096)
    vs = np.asarray(earth.vs_profile(draws, np.asarray(depth, dtype=np.float32)))
    return vs.min(axis=0), vs.max(axis=0)
