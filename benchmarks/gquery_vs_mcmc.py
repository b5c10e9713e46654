"""G-Query against the MCMC baseline on held-out synthetic stations (the paper's Fig. 5 set-up).

    python benchmarks/gquery_vs_mcmc.py --out OUT [--gquery-workdir DIR] [--stations 16] ...
    python benchmarks/gquery_vs_mcmc.py --probe      # a few steps, per-step costs only

Stations: ``jaxgeo.earth.simulate(jax.random.key(SEED), K, SimulatorConfig())`` (seed 20260 by
default, not a training seed), truth ``sample["targets"]``, noisy data
``observations_from_simulation(sample, i)`` (60 phase + 60 group velocities, 121 RF samples).

For each MCMC sampler (``jaxgeo.mcmc.sample``, all stations and chains vmapped in one
compiled call per chunk) and for G-Query (``jaxgeo.gquery.predict(workdir, observations)``,
only with ``--gquery-workdir`` and when ``jaxgeo.gquery`` imports), it reports:

* Vs RMSE over 0–150 km (target depths ≤ 150 km; posterior mean vs truth, pooled over
  stations and depths), and the errors (RMSE, mean |error|) of crustal Vp/Vs, sediment
  thickness ST and crystalline-crust thickness CT;
* calibration: z = (truth − mean)/σ over all targets (Vs ≤ 150 km, κ, ST, CT) and
  stations: std(z) (1 when calibrated) and the coverage of the Gaussian 68 % and 95 %
  intervals (|z| ≤ 1, ≤ 1.96), the same rule for every method;
* wall time, compilation apart from run (MCMC: ``compile_seconds`` of the sampling chunk;
  G-Query: a first call on one station, reported as compile_seconds, then the timed call on all);
* MCMC convergence: max R̂, min bulk ESS, acceptance, divergences.

Writes ``OUT/gquery_vs_mcmc.json`` (all figures and settings), ``OUT/gquery_vs_mcmc.png``
(3–4 stations: Vs profiles with 5–95 % / ±1.645σ bands of every method against the
truth, and the data, observed ± σ, with the fits of each sampler's posterior-median
model; G-Query predicts targets, not the 23 parameters, so it has no data fit) and
prints a table.

How the defaults were chosen
----------------------------
Measured with ``--probe`` on the project's 2-core CPU (float32, shared with another job,
so upper bounds): a forward evaluation (60 phase + 60 group periods from one root search
+ one RF) costs ~40 ms per model; a forward + gradient ~45 ms per model and leapfrog
step; compiling the RWM chunk took ~60 s and the NUTS init and chunk ~3.5 and ~2.5 min.
With K = 16 stations the defaults keep the whole run under about an hour there:
RWM 4 chains × (250 warmup + 250 sampling) steps (64 models × 40 ms ≈ 2.6 s a step,
≈ 22 min) and NUTS 2 chains × (30 + 30) steps with ``max_tree_depth`` 4 (≤ 15 gradient
evaluations a step, vmapped chains run in lockstep: 32 × 15 × 45 ms ≈ 22 s a step,
≈ 22 min). These runs are far too short to converge in 23 dimensions: the script
reports R̂/ESS and the sampler warns. For a converged reference use a GPU and e.g.
``--rwm-warmup 2000 --rwm-steps 4000 --nuts-chains 4 --nuts-warmup 300 --nuts-steps 300
--max-tree-depth 6``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import numpy as np

from jaxgeo import earth, mcmc

SCALARS = ("crust_vp_vs", "sediment_thickness", "crust_thickness")
MAX_DEPTH = 150.0
Z95 = 1.959964


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="benchmark-output/gquery_vs_mcmc", help="output folder")
    p.add_argument("--stations", type=int, default=16, help="held-out stations K (default 16)")
    p.add_argument("--seed", type=int, default=20260, help="simulation seed of the held-out stations")
    p.add_argument("--samplers", default="rwm,nuts", help="comma-separated MCMC samplers (rwm, nuts; '' for none)")
    p.add_argument("--rwm-chains", type=int, default=4)
    p.add_argument("--rwm-warmup", type=int, default=250)
    p.add_argument("--rwm-steps", type=int, default=250)
    p.add_argument("--nuts-chains", type=int, default=2)
    p.add_argument("--nuts-warmup", type=int, default=30)
    p.add_argument("--nuts-steps", type=int, default=30)
    p.add_argument("--max-tree-depth", type=int, default=4)
    p.add_argument("--gquery-workdir", help="trained G-Query work directory (the G-Query half is skipped without it)")
    p.add_argument("--show", type=int, default=4, help="stations in the figure (3–4)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--probe", action="store_true", help="time a few steps of each sampler on 2 stations and stop")
    return p.parse_args(argv)


def probe(args):
    """Per-step costs: 2 stations × 4 chains, RWM 40 + 40 steps, NUTS 10 + 10 (depth 4)."""
    sample = earth.simulate(jax.random.key(args.seed), 2, earth.SimulatorConfig())
    observations = [earth.observations_from_simulation(sample, i) for i in range(2)]
    rows = {}
    for sampler, warm, steps in (("rwm", 40, 40), ("nuts", 10, 10)):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = mcmc.sample(jax.random.key(0), observations, sampler=sampler, n_chains=4, n_warmup=warm,
                            n_samples=steps, max_tree_depth=args.max_tree_depth, chunk=10 if sampler == "rwm" else 5,
                            progress=not args.no_progress)
        d = r.diagnostics
        models = 2 * 4
        evals = float(np.mean(d["evaluations_per_step"]))
        rows[sampler] = {
            "total_seconds": time.perf_counter() - t0,
            "compile_seconds": d["compile_seconds"],
            "seconds_per_step": d["seconds_per_step"],
            "seconds_per_station_chain_step": d["seconds_per_step"] / models,
            "evaluations_per_step": evals,
            "seconds_per_evaluation_per_model": d["seconds_per_step"] / models / max(evals, 1.0),
        }
        print(sampler, json.dumps(rows[sampler], indent=1), flush=True)
    return rows


def errors_and_calibration(truth, mean, sigma, shallow):
    """Errors of posterior means and z-score calibration over stations (leading axis)."""
    out = {}
    dv = mean["vs"][:, shallow] - truth["vs"][:, shallow]
    out["vs_rmse_0_150km"] = float(np.sqrt(np.mean(dv**2)))
    z = [((truth["vs"] - mean["vs"]) / sigma["vs"])[:, shallow].ravel()]
    for name in SCALARS:
        e = mean[name] - truth[name]
        out[f"{name}_rmse"] = float(np.sqrt(np.mean(e**2)))
        out[f"{name}_mae"] = float(np.mean(np.abs(e)))
        z.append(((truth[name] - mean[name]) / sigma[name]).ravel())
    z = np.concatenate(z)
    z = z[np.isfinite(z)]
    out["z_std"] = float(np.std(z))
    out["coverage_68"] = float(np.mean(np.abs(z) <= 1.0))
    out["coverage_95"] = float(np.mean(np.abs(z) <= Z95))
    return out


def run_mcmc(name, observations, args):
    chains, warm, steps = {"rwm": (args.rwm_chains, args.rwm_warmup, args.rwm_steps),
                           "nuts": (args.nuts_chains, args.nuts_warmup, args.nuts_steps)}[name]
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        result = mcmc.sample(jax.random.key(args.seed + 1), observations, sampler=name, n_chains=chains,
                             n_warmup=warm, n_samples=steps, max_tree_depth=args.max_tree_depth,
                             progress=not args.no_progress)
    wall = time.perf_counter() - t0
    s = result.summary()
    mean = {"vs": s["vs_mean"], **{k: s[f"{k}_mean"] for k in SCALARS}}
    sigma = {"vs": s["vs_std"], **{k: s[f"{k}_std"] for k in SCALARS}}
    bands = {"lo": s["vs_p05"], "hi": s["vs_p95"], "mid": s["vs_p50"]}
    d = result.diagnostics
    info = {
        "settings": result.settings,
        "wall_seconds": wall,
        "compile_seconds": d["compile_seconds"],
        "run_seconds": d["seconds"],
        "seconds_per_step": d["seconds_per_step"],
        "evaluations_per_step": float(np.mean(d["evaluations_per_step"])),
        "max_rhat": float(np.nanmax(d["rhat"])),
        "min_ess_bulk": float(np.nanmin(d["ess_bulk"])),
        "stations_converged": int(np.sum((np.nanmax(d["rhat"], axis=1) <= 1.05) & (np.nanmin(d["ess_bulk"], axis=1) >= 100))),
        "acceptance_rate": float(np.mean(d["acceptance_rate"])),
        "divergences": int(np.sum(d["divergences"])),
        "n_warnings": len(caught),
    }
    return result, mean, sigma, bands, info


def run_gquery(workdir, observations):
    try:
        from jaxgeo import gquery
    except Exception as error:  # noqa: BLE001 - any import failure skips that half
        print(f"G-Query skipped: jaxgeo.gquery is not importable ({error})")
        return None
    t0 = time.perf_counter()
    gquery.predict(workdir, observations[:1])
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    p = gquery.predict(workdir, observations)
    seconds = time.perf_counter() - t0
    mean = {"vs": np.asarray(p["vs"]), **{k: np.asarray(p[k]) for k in SCALARS}}
    sigma = {"vs": np.asarray(p["vs_sigma"]), **{k: np.asarray(p[f"{k}_sigma"]) for k in SCALARS}}
    bands = {"lo": mean["vs"] - 1.645 * sigma["vs"], "hi": mean["vs"] + 1.645 * sigma["vs"], "mid": mean["vs"]}
    return mean, sigma, bands, {"compile_seconds": first, "run_seconds": seconds}


def figure(path, depth, truth, observations, methods, fits, show):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"rwm": "tab:blue", "nuts": "tab:green", "gquery": "tab:red"}
    kinds = ("phase", "group", "rf")
    fig, axes = plt.subplots(show, 1 + len(kinds), figsize=(15, 3.6 * show), squeeze=False)
    shallow = depth <= MAX_DEPTH
    for row, i in enumerate(range(show)):
        ax = axes[row, 0]
        ax.plot(truth["vs"][i, shallow], depth[shallow], color="k", lw=1.5, label="truth")
        for name, (_, _, bands) in methods.items():
            c = colours.get(name, "tab:purple")
            ax.fill_betweenx(depth[shallow], bands["lo"][i, shallow], bands["hi"][i, shallow], color=c, alpha=0.25)
            ax.plot(bands["mid"][i, shallow], depth[shallow], color=c, lw=1.0, label=name)
        ax.set_ylim(MAX_DEPTH, 0)
        ax.set_xlabel("Vs (km/s)")
        ax.set_ylabel(f"station {i}: depth (km)")
        ax.legend(fontsize=7)
        o = observations[i]
        for ax, kind in zip(axes[row, 1:], kinds):
            x = o.rf_times if kind == "rf" else getattr(o, f"{kind}_periods")
            ax.errorbar(x, getattr(o, kind), yerr=getattr(o, f"{kind}_sigma"), fmt=".", color="k", ms=2,
                        elinewidth=0.5, label="observed ± σ")
            for name, predicted in fits.items():
                ax.plot(x, predicted[kind][i][: x.size], color=colours[name], lw=1.2, label=f"{name} median model")
            if kind != "rf":
                ax.set_xscale("log")
            ax.set_xlabel("time (s)" if kind == "rf" else "period (s)")
            ax.set_ylabel({"phase": "c (km/s)", "group": "U (km/s)", "rf": "RF (1/s)"}[kind])
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    if args.probe:
        probe(args)
        return 0
    if args.stations < 1:
        raise ValueError(f"--stations: expected ≥ 1, got {args.stations}")
    samplers = [s.strip() for s in args.samplers.split(",") if s.strip()]
    for s in samplers:
        if s not in ("rwm", "nuts"):
            raise ValueError(f"--samplers: unknown sampler {s!r}; choose from rwm, nuts")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    sample = earth.simulate(jax.random.key(args.seed), args.stations, earth.SimulatorConfig())
    observations = [earth.observations_from_simulation(sample, i, source=f"station {i}") for i in range(args.stations)]
    truth = {"vs": np.asarray(sample["targets"]["vs"], np.float64),
             **{k: np.asarray(sample["targets"][k], np.float64) for k in SCALARS}}
    depth = np.asarray(sample["targets"]["depth"], np.float64)
    shallow = depth <= MAX_DEPTH
    print(f"{args.stations} held-out stations simulated in {time.perf_counter() - t0:.1f} s "
          f"(valid: {int(np.sum(sample['valid']))})", flush=True)
    report = {"settings": vars(args), "jax": jax.__version__, "device": str(jax.devices()[0]), "methods": {}}
    methods, fits = {}, {}
    for name in samplers:
        result, mean, sigma, bands, info = run_mcmc(name, observations, args)
        info.update(errors_and_calibration(truth, mean, sigma, shallow))
        report["methods"][name] = info
        methods[name] = (mean, sigma, bands)
        show = min(args.show, args.stations)
        medians = np.median(result.samples[:show].reshape(show, -1, earth.N_PARAMS), axis=1)
        full = np.repeat(medians[:1], args.stations, axis=0)
        full[:show] = medians
        predicted = result.predicted(full[:, None])
        fits[name] = {k: v[:, 0] for k, v in predicted.items()}
        print(f"{name}: {json.dumps(info, default=str)}", flush=True)
    if args.gquery_workdir:
        g = run_gquery(args.gquery_workdir, observations)
        if g is not None:
            mean, sigma, bands, info = g
            info.update(errors_and_calibration(truth, mean, sigma, shallow))
            report["methods"]["gquery"] = info
            methods["gquery"] = (mean, sigma, bands)
    else:
        print("G-Query skipped (no --gquery-workdir)")
    (out / "gquery_vs_mcmc.json").write_text(json.dumps(report, indent=2, default=str))
    if methods:
        figure(out / "gquery_vs_mcmc.png", depth, truth, observations, methods, fits, min(args.show, args.stations))
    columns = ("vs_rmse_0_150km", "crust_vp_vs_rmse", "sediment_thickness_rmse", "crust_thickness_rmse", "z_std",
               "coverage_68", "coverage_95", "compile_seconds", "run_seconds")
    print(f"\n{'method':8s} " + " ".join(f"{c:>14s}" for c in columns))
    for name, info in report["methods"].items():
        print(f"{name:8s} " + " ".join(f"{info.get(c, float('nan')):14.4g}" for c in columns))
    print(f"\nwrote {out / 'gquery_vs_mcmc.json'} and {out / 'gquery_vs_mcmc.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
