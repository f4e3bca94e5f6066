"""Training F_P on rank records: it learns a candidate-dependent teacher, checkpoints round-trip, bad records are
named, and `raytool decider fp` runs end to end on `distill rank` output."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch

from raytool.cli import main
from raytool.decider.fp_checkpoint import load_policy_reconstruction, save_policy_reconstruction
from raytool.decider.fp_model import PolicyReconstruction
from raytool.decider.fp_train import (
    PolicyTrainConfig,
    evaluate_policy_reconstruction,
    policy_data,
    split_by_task,
    train_policy_reconstruction,
)
from raytool.distill.rank import RankConfig, rank_states, sample_states
from raytool.envs.build import BuildConfig, build_tasks
from tests.distill.fake_teacher import FakeTeacher

P = 4


@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    """(dir, dataset, rank config, 240 decider states with the env's observations) on 20 cpn tasks."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("fp")
    data = build_tasks(BuildConfig(("cpn",), level=2, num_tasks=20, seed=3, integration_walks=0), log=lambda _: None)
    data.save(root / "tasks")
    config = RankConfig(num_states=240, top_p=P, oracle_rate=0.5, seed=1, shard_size=40)
    return root, data, config, sample_states(root / "tasks", config, root / "features")


def _rule_records(states) -> list[dict]:
    """A teacher that prefers the candidate whose tool vector lies furthest along a fixed direction (STOP: 0)."""
    dim = (len(states[0].observation) - 4 - 5 * P) // (2 + P)
    direction = np.random.default_rng(7).normal(size=dim)
    records = []
    for state in states:
        obs = np.asarray(state.observation)
        k = len(state.candidates)
        starts = [2 * dim + 4 + slot * (dim + 5) for slot in range(k)]
        vecs = np.stack([obs[s : s + dim] for s in starts])
        logits = np.append(4.0 * vecs @ direction / np.linalg.norm(vecs, axis=1).clip(1e-6), 0.0)
        pi = np.exp(logits - logits.max())
        records.append(asdict(state) | {"pi_llm": (pi / pi.sum()).tolist()})
    return records


def test_fp_learns_a_candidate_dependent_teacher_and_its_checkpoint_reproduces_it(sampled, tmp_path: Path) -> None:
    _, _, _, states = sampled
    records = _rule_records(states)
    config = PolicyTrainConfig(width=32, heads=2, layers=1, epochs=12, lr=3e-3, batch_size=32, seed=0)
    lines: list[str] = []
    metrics = train_policy_reconstruction(records, config, tmp_path / "fp", log=lines.append, env={"top_p": P})
    assert sum("epoch" in line and "held-out KL" in line for line in lines) == 12
    assert metrics["heldout_tasks"] == 4 and metrics["train_tasks"] == 16
    assert metrics["train_states"] + metrics["heldout_states"] == len(records)
    assert metrics["top1_agreement"] > metrics["majority_top1"] + 0.2
    assert metrics["kl"] < 0.6 * metrics["uniform_kl"]
    assert all(math.isfinite(v) for v in metrics.values())

    model, meta = load_policy_reconstruction(tmp_path / "fp")
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert (meta["dim"], meta["top_p"], meta["width"], meta["heads"], meta["layers"]) == (model.dim, P, 32, 2, 1)
    assert meta["metrics"] == pytest.approx(metrics) and meta["env"] == {"top_p": P}
    _, held = split_by_task([r["task_id"] for r in records], config.holdout, config.seed)
    again = evaluate_policy_reconstruction(model, [records[i] for i in held])  # the best epoch was saved
    assert again["states"] == metrics["heldout_states"]
    assert again["top1_agreement"] == pytest.approx(metrics["top1_agreement"])
    assert again["kl"] == pytest.approx(metrics["kl"], rel=1e-4)


def test_checkpoint_round_trip_gives_identical_logits(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = PolicyReconstruction(8, 3, width=16, heads=2, layers=1).eval()
    obs = torch.rand(5, model.obs_dim) * 2 - 1
    mask = torch.tensor([[1.0, 1.0, 0.0, 1.0]] * 5)
    save_policy_reconstruction(model, {"metrics": {"kl": 0.1}}, tmp_path / "ckpt")
    loaded, meta = load_policy_reconstruction(tmp_path / "ckpt")
    model.requires_grad_(False)  # frozen weights take PyTorch's fused attention path: compare like with like
    assert torch.equal(loaded(obs, mask)[0], model(obs, mask)[0])
    assert meta["metrics"] == {"kl": 0.1} and meta["dim"] == 8
    with pytest.raises(ValueError, match="contradicts"):
        save_policy_reconstruction(model, {"top_p": 5}, tmp_path / "other")
    (tmp_path / "ckpt" / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="missing model.safetensors"):
        load_policy_reconstruction(tmp_path / "ckpt")


def test_bad_records_are_named_by_index_and_field(sampled) -> None:
    records = _rule_records(sampled[3][:6])
    data = policy_data(records)
    assert (data.dim, data.top_p) == (256, P) and data.pi.shape == (6, P + 1)
    assert torch.allclose(data.pi.sum(-1), torch.ones(6)) and not data.pi.masked_fill(data.mask, 0).any()

    short = [dict(r) for r in records]
    short[3]["observation"] = short[3]["observation"][:-1]
    with pytest.raises(ValueError, match=r"record 3: field 'observation' has 1559 values, expected 1560"):
        policy_data(short)
    with pytest.raises(ValueError, match=r"record 3: field 'observation'"):
        train_policy_reconstruction(short, PolicyTrainConfig(epochs=1), None, log=lambda _: None)
    odd = [dict(r) for r in records]
    odd[0]["observation"] = odd[0]["observation"][:-1]
    with pytest.raises(ValueError, match=r"record 0: field 'observation' has 1559 values, which is .* no integer D"):
        policy_data(odd)
    wrong_pi = [dict(r) for r in records]
    wrong_pi[2]["pi_llm"] = [1.0] + [0.0] * 9
    with pytest.raises(ValueError, match=r"record 2: field 'pi_llm' has 10 values"):
        policy_data(wrong_pi)
    missing = [dict(r) for r in records]
    del missing[1]["action_mask"]
    with pytest.raises(ValueError, match=r"record 1: missing field 'action_mask'"):
        policy_data(missing)


def test_cli_trains_fp_on_rank_output(sampled, tmp_path: Path, capsys) -> None:
    root, data, config, states = sampled
    rank_dir = tmp_path / "rank"
    rank_states(states[:80], data.tools, rank_dir, FakeTeacher(), config, log=lambda _: None)
    out = tmp_path / "fp"
    assert main(["decider", "fp", "--rank", str(rank_dir), "--out", str(out), "--epochs", "2", "--seed", "1"]) == 0
    printed = capsys.readouterr().out
    assert "| top-1 agreement, held-out" in printed and f"wrote {out}" in printed
    meta = json.loads((out / "fp.json").read_text())
    assert meta["config"]["epochs"] == 2 and meta["config"]["seed"] == 1
    assert meta["env"] == config.env_settings() and meta["top_p"] == P
    assert meta["metrics"]["train_states"] + meta["metrics"]["heldout_states"] == 80
    assert all(math.isfinite(v) for v in meta["metrics"].values())
    assert (out / "model.safetensors").is_file()

    other = tmp_path / "rank_other"  # records sampled under another env may not be mixed in
    shutil.copytree(rank_dir, other)
    summary = json.loads((other / "summary.json").read_text())
    summary["env"]["max_steps"] = 5
    (other / "summary.json").write_text(json.dumps(summary))
    assert main(["decider", "fp", "--rank", str(rank_dir), str(other), "--out", str(tmp_path / "x")]) == 2
    assert "field 'env.max_steps' is 5" in capsys.readouterr().err


def test_warm_start_states_are_the_rank_records_observations(sampled, tmp_path: Path) -> None:
    from raytool.decider.algorithm import ranked_observations

    _, data, config, states = sampled
    rank_dir = tmp_path / "rank"
    rank_states(states[:40], data.tools, rank_dir, FakeTeacher(), config, log=lambda _: None)
    observations, masks = ranked_observations([str(rank_dir)])
    assert observations.shape == (40, len(states[0].observation)) and masks.shape == (40, P + 1)
    for state in states[:40]:  # every labelled state is there, with its mask
        row = int(np.abs(observations - np.asarray(state.observation)).max(1).argmin())
        assert np.allclose(observations[row], state.observation, atol=1e-5)
        assert masks[row].tolist() == [float(v) for v in state.action_mask]


def test_warm_start_states_sampled_under_other_env_settings_are_refused(sampled, tmp_path: Path) -> None:
    from raytool.decider.fp_checkpoint import check_recorded_env
    from raytool.distill.rank import SUMMARY_FILE

    _, data, config, states = sampled
    rank_dir = tmp_path / "rank"
    rank_states(states[:8], data.tools, rank_dir, FakeTeacher(), config, log=lambda _: None)
    check_recorded_env(rank_dir / SUMMARY_FILE, config.env_settings())  # the settings it was sampled under: fine
    with pytest.raises(ValueError, match=r"field 'env\.max_steps' is"):
        check_recorded_env(rank_dir / SUMMARY_FILE, config.env_settings() | {"max_steps": 99})
