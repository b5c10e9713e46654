"""G-Query training: one step lowers the loss, checkpoints, exact resume (incl. SIGKILL),
sharded = unsharded, predict end to end and its errors."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgeo import cli, earth
from jaxgeo.gquery import GQueryConfig, init_state, make_optimizer, restore_state, train_and_evaluate
from jaxgeo.gquery._train import _loss_of, toy_samples, training_batch
from jaxgeo.gquery import GQuery

from gquery_toy import toy_config

ROOT = Path(__file__).resolve().parents[2]


def _fixed_batch(cfg, n=16):
    sample = jax.jit(toy_samples, static_argnums=(1, 2))(jax.random.key(5), n, cfg.train.simulator)
    return jax.jit(training_batch, static_argnums=2)(jax.random.key(6), sample, cfg)


def test_one_training_step_lowers_the_loss_on_a_fixed_batch():
    cfg = toy_config(warmup_steps=0, learning_rate=1e-3)
    tokens, y, mask, weights = _fixed_batch(cfg)
    state = init_state(jax.random.key(0), cfg)
    model = GQuery(cfg.model)
    optimizer = make_optimizer(cfg)
    loss_and_grad = jax.jit(jax.value_and_grad(_loss_of), static_argnums=1)
    loss0, grads = loss_and_grad(state.params, model, tokens, y, mask, weights)
    updates, _ = jax.jit(optimizer.update)(grads, state.opt_state, state.params)
    params = jax.tree_util.tree_map(lambda p, u: p + u, state.params, updates)
    loss1, _ = loss_and_grad(params, model, tokens, y, mask, weights)
    assert np.isfinite(float(loss0)) and float(loss1) < float(loss0)


def _params_close(a, b, atol=0.0):
    leaves_a, leaves_b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for x, y in zip(leaves_a, leaves_b):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=0, atol=atol)


def test_checkpoint_round_trip_and_resume(toy_workdir, tmp_path):
    cfg = toy_config()
    train_and_evaluate(cfg, tmp_path / "b", steps=3, progress=False, log=lambda *_: None)
    resumed = train_and_evaluate(cfg, tmp_path / "b", steps=6, progress=False, log=lambda *_: None)
    assert resumed["resumed_from"] == 3
    config_a, state_a = restore_state(toy_workdir)  # uninterrupted run to step 6
    config_b, state_b = restore_state(tmp_path / "b")
    assert config_a == cfg and config_b == cfg  # the config travels with the checkpoint
    assert int(state_a.step) == int(state_b.step) == 6
    _params_close(state_a.params, state_b.params, atol=1e-6)
    # the metrics log holds one record per evaluation, resumed runs included
    steps = [json.loads(line)["step"] for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [3, 6]
    assert (tmp_path / "b" / "training_curve.png").stat().st_size > 0
    with pytest.raises(FileExistsError):
        train_and_evaluate(cfg, tmp_path / "b", steps=6, progress=False, resume=False, log=lambda *_: None)
    other = toy_config(learning_rate=3e-3)
    with pytest.raises(ValueError, match="another configuration"):
        train_and_evaluate(other, tmp_path / "b", steps=9, progress=False, log=lambda *_: None)


_SCRIPT = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from gquery_toy import toy_config
    from jaxgeo.gquery import train_and_evaluate

    def slow(step):
        if {slow} and step >= 6:
            time.sleep(2.0)

    train_and_evaluate(toy_config(), sys.argv[1], steps=12, progress=False, callback=slow)
    """
)


def _run(script, workdir, **kwargs):
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen([sys.executable, "-c", script, str(workdir)], env=env, cwd=ROOT, **kwargs)


@pytest.mark.slow
def test_sigkill_and_restart_reaches_the_same_parameters(tmp_path):
    tests = str(ROOT / "tests" / "gquery")
    quick = _SCRIPT.format(tests=tests, slow=False)
    slow = _SCRIPT.format(tests=tests, slow=True)
    assert _run(quick, tmp_path / "ref").wait(timeout=600) == 0
    victim = _run(slow, tmp_path / "run")
    deadline = time.time() + 600
    ckpt = tmp_path / "run" / "checkpoints" / "6"
    while not ckpt.is_dir() and time.time() < deadline and victim.poll() is None:
        time.sleep(0.2)
    time.sleep(0.5)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    _, killed = restore_state(tmp_path / "run")
    assert 6 <= int(killed.step) < 12
    assert _run(quick, tmp_path / "run").wait(timeout=600) == 0
    _, a = restore_state(tmp_path / "ref")
    _, b = restore_state(tmp_path / "run")
    assert int(a.step) == int(b.step) == 12
    _params_close(a.params, b.params)  # bit-identical on the same machine


_SHARDED = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    import jax, numpy as np
    from jax.sharding import NamedSharding, PartitionSpec
    from gquery_toy import toy_config
    from jaxgeo.gquery import GQuery, init_state
    from jaxgeo.gquery._train import _loss_of, data_mesh, toy_samples, train_round, training_batch
    assert jax.device_count() == 4, jax.devices()
    cfg = toy_config(warmup_steps=0)
    state = init_state(jax.random.key(0), cfg)
    tokens, y, mask, w = training_batch(jax.random.key(1), toy_samples(jax.random.key(2), 16, cfg.train.simulator), cfg)
    model = GQuery(cfg.model)
    loss = jax.jit(_loss_of, static_argnums=1)
    one = float(loss(state.params, model, tokens, y, mask, w))
    mesh = data_mesh()
    shard = NamedSharding(mesh, PartitionSpec("batch"))
    put = lambda x: jax.device_put(x, shard)
    sharded_inputs = jax.tree_util.tree_map(put, (tokens, y, mask, w))
    assert len(sharded_inputs[1].sharding.device_set) == 4
    four = float(loss(jax.device_put(state.params, NamedSharding(mesh, PartitionSpec())), model, *sharded_inputs))
    if "--round" in sys.argv:
        # a whole training round (simulation + step) with the batch axis sharded
        rep = NamedSharding(mesh, PartitionSpec())
        r1 = jax.jit(lambda s: train_round(s, cfg))(state)[1]
        r4 = jax.jit(lambda s: train_round(s, cfg, shard), out_shardings=(rep, rep))(jax.device_put(state, rep))[1]
        one, four = float(r1[0]), float(r4[0])
    print(one, four)
    """
)


def _sharded(*flags):
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    out = subprocess.run(
        [sys.executable, "-c", _SHARDED.format(tests=str(ROOT / "tests" / "gquery")), *flags], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return map(float, out.stdout.split())


@pytest.mark.slow  # ~65 s (a subprocess with 2 forced host devices)
def test_sharded_loss_equals_single_device_loss():
    one, four = _sharded()
    assert four == pytest.approx(one, rel=1e-5)


@pytest.mark.slow
def test_sharded_training_round_equals_single_device_round():
    one, four = _sharded("--round")
    assert four == pytest.approx(one, rel=1e-5)


@pytest.fixture(scope="module")
def toy_workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gquery") / "run"
    train_and_evaluate(toy_config(), workdir, steps=6, progress=False, log=lambda *_: None)
    return workdir


def test_predict_end_to_end(toy_workdir, tmp_path, capsys):
    cfg = toy_config()
    sample = jax.jit(toy_samples, static_argnums=(1, 2))(jax.random.key(11), 2, cfg.train.simulator)
    paths = []
    for i, kinds in enumerate([("phase", "group", "rf"), ("phase",)]):
        obs = earth.observations_from_simulation(sample, i).subset(kinds)
        paths.append(earth.write_observations(obs, tmp_path / f"station{i}.{'txt' if i else 'npz'}"))
    (tmp_path / "station1.txt").write_text((tmp_path / "station1.txt").read_text() + "ref_ct - 35 4\n")
    out = tmp_path / "out"
    rc = cli.main(["gquery", "predict", "--workdir", str(toy_workdir), "--input", *map(str, paths), "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    result = np.load(out / "prediction.npz")
    assert result["vs"].shape == (2, 161) and np.all(result["vs_sigma"] > 0)
    assert result["crust_thickness"].shape == (2,)
    assert result["fit_phase_0"].shape == (6,) and result["fit_rf_0"].shape == (21,)
    assert "fit_group_1" not in result
    assert (out / "station0.png").stat().st_size > 0 and (out / "station1.png").stat().st_size > 0
    summary = json.loads((out / "prediction.json").read_text())
    assert summary["checkpoint_step"] == 6


def test_predict_bad_input_names_file_and_line(toy_workdir, tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("phase 10 3.5 0.1\nphase 20 x 0.1\n")
    rc = cli.main(["gquery", "predict", "--workdir", str(toy_workdir), "--input", str(bad), "--out", str(tmp_path)])
    assert rc == 2
    assert "bad.txt, line 2, column 3 (value): cannot read 'x'" in capsys.readouterr().err
    rc = cli.main(["gquery", "predict", "--workdir", str(tmp_path / "none"), "--input", str(bad)])
    assert rc == 2


def test_config_validation_names_the_setting():
    with pytest.raises(ValueError, match="train.eval_every"):
        toy_config(repeats=2, eval_every=3).validate()
    with pytest.raises(ValueError, match="train.source"):
        toy_config(source="disk").validate()
    with pytest.raises(ValueError, match="unknown name"):
        from jaxgeo.gquery import get_config

        get_config("huge")
    cfg = toy_config()
    assert GQueryConfig.from_dict(cfg.to_dict()) == cfg


def test_train_cli_rejects_bad_options(tmp_path, capsys):
    assert cli.main(["gquery", "train", "--workdir", str(tmp_path), "--minutes", "0"]) == 2
    assert "--minutes must be > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["gquery", "train", "--config", "huge", "--workdir", str(tmp_path)])


_TINY_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from jaxgeo.gquery import CONFIGS, train_and_evaluate

    cfg = CONFIGS["tiny"].replace(checkpoint_every=3, eval_every=3, validation_size=32)

    def slow(step):
        if {slow} and step >= 3:
            time.sleep(3.0)

    train_and_evaluate(cfg, sys.argv[1], steps=9, progress=False, callback=slow)
    """
)


@pytest.mark.slow
def test_sigkill_and_restart_on_the_tiny_config_with_the_simulator(tmp_path):
    """The real tiny config and simulator: killed after its first checkpoint, restarted, identical."""
    assert _run(_TINY_SCRIPT.format(slow=False), tmp_path / "ref").wait(timeout=1800) == 0
    victim = _run(_TINY_SCRIPT.format(slow=True), tmp_path / "run")
    deadline = time.time() + 1800
    while not (tmp_path / "run" / "checkpoints" / "3").is_dir() and time.time() < deadline and victim.poll() is None:
        time.sleep(0.2)
    time.sleep(0.5)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    assert _run(_TINY_SCRIPT.format(slow=False), tmp_path / "run").wait(timeout=1800) == 0
    _, a = restore_state(tmp_path / "ref")
    _, b = restore_state(tmp_path / "run")
    assert int(a.step) == int(b.step) == 9
    _params_close(a.params, b.params)
