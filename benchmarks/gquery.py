"""G-Query evaluation on a held-out synthetic set, next to the prior-mean baseline.

Usage (from the repository root)::

    python benchmarks/gquery.py --workdir runs/gquery-tiny [--train-minutes 28] [--n 1024] [--out benchmarks/figures]

``--train-minutes M`` first trains (or resumes) the ``tiny`` config in ``--workdir`` for
at most M minutes of training time (``jaxgeo gquery train --config tiny --minutes M``).
Then, on ``--n`` held-out samples drawn by :func:`jaxgeo.earth.simulate` with a fixed key
(different from the training stream and the validation set; all data present,
references unknown):

* Vs RMSE over 0–150 km, ST, CT and Vp/Vs mean absolute errors;
* calibration of σ through z = (y − ŷ)/σ: mean, std, 68% and 95% coverage, and the
  plot of |error| against σ (binned), for G-Query and for the prior mean (whose σ is
  the prior standard deviation);
* inference throughput (samples/s, batch 64, after compilation; compile time apart) of
  ``tiny`` (trained) and ``paper`` (randomly initialised: the cost does not depend on
  the weights);
* the acceptance test of the issue (Vs RMSE ≥ 40% below the prior mean, std(z) in
  [0.8, 1.25], 68% coverage in [0.60, 0.76]).

Writes ``gquery_eval.json``, ``gquery_calibration.png``, ``gquery_profiles.png`` and
copies the training curve to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxgeo import earth
from jaxgeo.gquery import CONFIGS, GQuery, calibration_metrics, full_tokens, prior_baseline, restore_state, target_statistics
from jaxgeo.gquery._tokens import N_DEPTHS
from jaxgeo.gquery._train import example_tokens, predict_jit, to_physical, train_and_evaluate

HELD_OUT_SEED = 777_000


def held_out(config, n: int):
    t0 = time.perf_counter()
    sample = jax.device_get(earth.simulate(jax.random.key(HELD_OUT_SEED), n, config.train.simulator))
    return sample, time.perf_counter() - t0


def throughput(model_config, params, tokens, repeats=3):
    apply = jax.jit(lambda p, t: GQuery(model_config).apply({"params": p}, t))
    t0 = time.perf_counter()
    jax.block_until_ready(apply(params, tokens))
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(repeats):
        jax.block_until_ready(apply(params, tokens))
    seconds = (time.perf_counter() - t0) / repeats
    return tokens["data_type"].shape[0] / seconds, compile_s


def binned_error(y, yhat, sigma, bins=12):
    err = np.abs(yhat - y).ravel()
    s = sigma.ravel()
    edges = np.quantile(s, np.linspace(0, 1, bins + 1))
    idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, bins - 1)
    centre = np.array([np.median(s[idx == b]) for b in range(bins)])
    rms = np.array([np.sqrt(np.mean(err[idx == b] ** 2)) for b in range(bins)])
    return centre, rms


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", default="runs/gquery-tiny")
    parser.add_argument("--train-minutes", type=float, help="train/resume tiny for at most this many minutes first")
    parser.add_argument("--n", type=int, default=1024, help="held-out samples (default 1024)")
    parser.add_argument("--out", default="benchmarks/figures")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.train_minutes:
        train_and_evaluate(CONFIGS["tiny"], args.workdir, steps=10**9, time_limit=60 * args.train_minutes)
    config, state = restore_state(args.workdir)
    records = [json.loads(line) for line in (Path(args.workdir) / "metrics.jsonl").read_text().splitlines()]
    print(f"checkpoint: {args.workdir} step {int(state.step)} ({config.name}); training time "
          f"{records[-1]['elapsed_s'] / 60:.1f} min")

    sample, sim_s = held_out(config, args.n)
    valid = np.asarray(sample["valid"])
    print(f"held-out set: {args.n} samples simulated in {sim_s:.1f} s (incl. compile), "
          f"{int(sample['n_failed'])} failed forwards replaced, {int((~valid).sum())} invalid rows dropped")
    tokens = full_tokens(jax.tree_util.tree_map(jnp.asarray, sample), config.model.n_fourier)
    t0 = time.perf_counter()
    mean, sigma = predict_jit(state.params, config.model, tokens, 64)
    jax.block_until_ready(mean)
    predict_s = time.perf_counter() - t0
    y_pred, s_pred = to_physical(mean, sigma)
    from jaxgeo.gquery import target_vector

    y_true = np.asarray(target_vector(sample["targets"]))
    y_true, y_pred, s_pred = y_true[valid], y_pred[valid], s_pred[valid]
    gq = calibration_metrics(y_true, y_pred, s_pred)
    base = prior_baseline(y_true)

    # throughput
    batch = 64
    tiny_tokens = jax.tree_util.tree_map(lambda x: x[:batch], tokens)
    tiny_rate, tiny_compile = throughput(config.model, state.params, tiny_tokens)
    paper = CONFIGS["paper"]
    paper_params = GQuery(paper.model).init(jax.random.key(0), example_tokens(paper, 1))["params"]
    n = args.n
    head = jax.tree_util.tree_map(lambda x: jnp.asarray(x)[:batch] if np.ndim(x) and len(x) == n else jnp.asarray(x),
                                  sample)
    paper_tokens = full_tokens(head, paper.model.n_fourier)
    paper_rate, paper_compile = throughput(paper.model, paper_params, paper_tokens, repeats=2)

    improvement = 1 - gq["vs_rmse_150"] / base["vs_rmse_150"]
    acceptance = {
        "vs_rmse_40pct_below_prior": improvement >= 0.40,
        "z_std_in_0.8_1.25": 0.8 <= gq["z_std"] <= 1.25,
        "coverage68_in_0.60_0.76": 0.60 <= gq["coverage_68"] <= 0.76,
    }
    rows = [
        ("Vs RMSE 0–150 km (km/s)", "vs_rmse_150", "{:.3f}"),
        ("Vp/Vs MAE", "vp_vs_mae", "{:.4f}"),
        ("ST MAE (km)", "st_mae", "{:.2f}"),
        ("CT MAE (km)", "ct_mae", "{:.2f}"),
        ("z mean", "z_mean", "{:.3f}"),
        ("z std", "z_std", "{:.3f}"),
        ("68% coverage", "coverage_68", "{:.3f}"),
        ("95% coverage", "coverage_95", "{:.3f}"),
    ]
    print(f"\n| metric ({int(valid.sum())} held-out samples) | G-Query tiny | prior mean |\n|---|---|---|")
    for label, key, fmt in rows:
        print(f"| {label} | {fmt.format(gq[key])} | {fmt.format(base[key])} |")
    print(f"\nVs RMSE {100 * improvement:.1f}% below the prior mean; acceptance: {acceptance}")
    print(f"inference (batch {batch}, CPU): tiny {tiny_rate:.0f} samples/s (compile {tiny_compile:.1f} s), "
          f"paper {paper_rate:.1f} samples/s (compile {paper_compile:.1f} s); {args.n} held-out predictions "
          f"in {predict_s:.1f} s incl. compile")

    result = {
        "checkpoint_step": int(state.step), "training_minutes": records[-1]["elapsed_s"] / 60,
        "n_samples": int(valid.sum()), "gquery": gq, "prior_mean": base, "vs_rmse_improvement": improvement,
        "acceptance": acceptance, "throughput_samples_per_s": {"tiny": tiny_rate, "paper": paper_rate},
        "compile_s": {"tiny": tiny_compile, "paper": paper_compile},
        "versions": {"jax": jax.__version__}, "date": time.strftime("%Y-%m-%d"),
    }
    (out / "gquery_eval.json").write_text(json.dumps(result, indent=2))
    shutil.copy(Path(args.workdir) / "training_curve.png", out / "gquery_training_curve.png")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mu, std = target_statistics()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    names = {"Vs": slice(0, N_DEPTHS), "ST": N_DEPTHS + 1, "CT": N_DEPTHS + 2}
    for name, sl in names.items():
        c, r = binned_error(y_true[:, sl] / std[sl], y_pred[:, sl] / std[sl], s_pred[:, sl] / std[sl])
        axes[0].loglog(c, r, "o-", label=name)
    lim = axes[0].get_xlim()
    axes[0].plot(lim, lim, "k--", lw=0.8, label="RMS error = σ")
    axes[0].set(xlabel="predicted σ (prior-std units)", ylabel="RMS |error| in bin", title="error against σ")
    axes[0].legend()
    z = ((y_pred - y_true) / s_pred).ravel()
    axes[1].hist(np.clip(z, -5, 5), bins=80, density=True, alpha=0.6, label="G-Query z")
    zz = np.linspace(-5, 5, 200)
    axes[1].plot(zz, np.exp(-zz**2 / 2) / np.sqrt(2 * np.pi), "k", label="N(0, 1)")
    axes[1].set(xlabel="z = (ŷ − y)/σ", title=f"std(z) = {gq['z_std']:.2f}, 68% cov. = {gq['coverage_68']:.2f}")
    axes[1].legend()
    fig.savefig(out / "gquery_calibration.png", dpi=110)
    plt.close(fig)

    depth = np.asarray(earth.target_depths(jnp.float32))
    keep = depth <= 150
    fig, axes = plt.subplots(1, 4, figsize=(13, 5), sharey=True, layout="constrained")
    for ax, i in zip(axes, range(4)):
        v, s = y_pred[i, :N_DEPTHS], s_pred[i, :N_DEPTHS]
        ax.fill_betweenx(depth[keep], (v - 2 * s)[keep], (v + 2 * s)[keep], alpha=0.15, color="C0")
        ax.fill_betweenx(depth[keep], (v - s)[keep], (v + s)[keep], alpha=0.3, color="C0")
        ax.plot(v[keep], depth[keep], "C0", label="G-Query ±σ, ±2σ")
        ax.plot(y_true[i, :N_DEPTHS][keep], depth[keep], "k--", lw=1, label="truth")
        ax.plot(mu[:N_DEPTHS][keep], depth[keep], color="0.6", lw=1, label="prior mean")
        ax.set(xlabel="Vs (km/s)", title=f"held-out sample {i}")
    axes[0].set(ylabel="depth (km)", ylim=(150, 0))
    axes[0].legend(fontsize=8, loc="lower left")
    fig.savefig(out / "gquery_profiles.png", dpi=110)
    plt.close(fig)
    print(f"wrote {out / 'gquery_eval.json'}, gquery_calibration.png, gquery_profiles.png, gquery_training_curve.png")


if __name__ == "__main__":
    main()
