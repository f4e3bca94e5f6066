"""Train a decider: build the `Decider` algorithm on a task set, run it with progress lines, checkpoint, resume.

    out_dir/checkpoint/     the latest RLlib checkpoint (weights, optimizers, multiplier, target net, replay),
                            replaced atomically every `checkpoint_every` iterations and at the end
    out_dir/history.jsonl   one line per iteration: env steps, success, reward, calls, guidance metrics
    out_dir/decider.json    the run's settings and final metrics (written last: its presence = done)

`resume=True` restores `checkpoint/` when present and continues from its iteration; the history is cut back to
that iteration so the curve has no duplicates.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from raytool.tools.files import atomic_dir, atomic_write_text

CHECKPOINT, HISTORY, SUMMARY = "checkpoint", "history.jsonl", "decider.json"
GUIDANCE_KEYS = ("decider/js_to_llm", "decider/kendall_tau_b", "decider/sigma_multiplier", "decider/soft_tau")
RUNNER_KEYS = ("decider/success_rate", "decider/task_reward", "decider/calls_per_task")


@dataclass(frozen=True)
class DeciderRunConfig:
    """One decider training run.

    iterations: training iterations (each samples `rollout_fragment_length` steps per env runner).
    checkpoint_every: iterations between checkpoints (and at the end).
    num_env_runners, cpus_per_env_runner: rollout workers and their fractional CPUs.
    runner_resources: Ray custom resources per rollout worker (e.g. {"rollout": 0.5}: the cluster's rollout
        nodes, see clusters/); empty on a plain local cluster.
    rollout_fragment_length: env steps per runner per iteration.
    hidden: width of the decider's networks.
    training: `DeciderConfig.training` fields (lambda1, lambda2, sigma, learning rates, ...); see config.py.
    seed: RLlib's seed (env order per runner, network init).
    teacher_start: "audit" (start at the teacher, `audit.TEACHER_START`, when F_P passes the teacher audit, else
        at the defaults), "always" (given an F_P) or "never"; the settings in `training` win over the start's.
    """

    iterations: int = 40
    checkpoint_every: int = 5
    num_env_runners: int = 2
    cpus_per_env_runner: float = 0.5
    runner_resources: dict[str, float] = field(default_factory=dict)
    rollout_fragment_length: int = 64
    hidden: int = 64
    training: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    teacher_start: str = "audit"

    def __post_init__(self) -> None:
        from raytool.decider.audit import TEACHER_START_MODES

        if self.teacher_start not in TEACHER_START_MODES:
            raise ValueError(f"teacher_start must be one of {TEACHER_START_MODES}, got {self.teacher_start!r}")

    @classmethod
    def from_dict(cls, record: dict[str, Any] | None, where: str = "<decider config>", path: str = "decider"):
        """Checked by `raytool.config.settings_from` (errors name `where`, the key path and what was expected)."""
        from raytool.config import settings_from

        return settings_from(cls, record, where, path)

    @classmethod
    def from_file(cls, path: str | Path | None, training: Sequence[str] = ()) -> DeciderRunConfig:
        """A YAML file (keys bare or under `decider:`; None = the defaults) with KEY=VALUE overrides of its
        `training` settings on top (`raytool decider train --set`)."""
        from raytool.config import apply_overrides, read_config

        record = read_config(path, "decider")
        record["training"] = apply_overrides(record.get("training") or {}, training)
        return cls.from_dict(record, str(path or "--set"))


def run_training(run: DeciderRunConfig, fp_path: str | Path | None) -> tuple[dict[str, Any], str]:
    """(the `DeciderConfig.training` settings of a run, the teacher start's line): `run.training` over the teacher
    start's settings when `run.teacher_start` starts at the teacher (`raytool.decider.audit`)."""
    from raytool.decider.audit import teacher_start_settings

    start, why = teacher_start_settings(run.teacher_start, fp_path)
    return start | dict(run.training), why


def decider_config(
    env_config: dict[str, Any],
    fp_path: str | Path | None,
    run: DeciderRunConfig,
    training: dict[str, Any] | None = None,
):
    """The `DeciderConfig` of a run (registers the env). `training`: the run's settings as `run_training` resolved
    them (None: resolved here; callers that also log the teacher start's line pass theirs, so it is read once)."""
    from raytool.decider.config import DeciderConfig
    from raytool.envs.decider_env import ENV_NAME, register_decider_env

    register_decider_env()
    return (
        DeciderConfig()
        .environment(ENV_NAME, env_config=env_config)
        .env_runners(
            num_env_runners=run.num_env_runners,
            num_cpus_per_env_runner=run.cpus_per_env_runner,
            custom_resources_per_env_runner=dict(run.runner_resources),
            rollout_fragment_length=run.rollout_fragment_length,
        )
        .training(**(run_training(run, fp_path)[0] if training is None else training))
        .rl_module(model_config={"fp_path": str(fp_path) if fp_path else None, "hidden": run.hidden})
        .debugging(seed=run.seed)
    )


def train_decider(
    env_config: dict[str, Any],
    fp_path: str | Path | None,
    run: DeciderRunConfig,
    out_dir: Path,
    resume: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train (or resume) a decider into `out_dir` (module docstring); returns the summary written to decider.json."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    training, start_line = run_training(run, fp_path)
    algo = decider_config(env_config, fp_path, run, training).build_algo()
    history: list[dict[str, Any]] = []
    try:
        if resume and (out_dir / CHECKPOINT).exists():
            algo.restore_from_path(str((out_dir / CHECKPOINT).resolve()))
            history = _read_history(out_dir / HISTORY)[: algo.training_iteration]
            log(f"[decider] resumed from {out_dir / CHECKPOINT} at iteration {algo.training_iteration}")
        log(f"[decider] {start_line}")
        start = time.perf_counter()
        first = algo.training_iteration
        while algo.training_iteration < run.iterations:
            result = algo.train()
            row = result_row(result, algo.training_iteration)
            history.append(row)
            done = algo.training_iteration - first
            rate = (time.perf_counter() - start) / done
            log(
                f"[decider] iter {row['iteration']}/{run.iterations} env steps {row['env_steps']:,} "
                f"success {row['success_rate']:.3f} reward {row['task_reward']:.3f} "
                f"JS {row['js_to_llm']:.3f} tau_b {row['kendall_tau_b']:.3f} nu {row['sigma_multiplier']:.3f} "
                f"{rate:.1f} s/it, ETA {rate * (run.iterations - algo.training_iteration):.0f} s"
            )
            last = algo.training_iteration == run.iterations
            if last or algo.training_iteration % run.checkpoint_every == 0:
                save_checkpoint(algo, out_dir)
                atomic_write_text(out_dir / HISTORY, "".join(json.dumps(r) + "\n" for r in history))
        summary = {
            "run": asdict(run),
            "env": env_config,
            "fp_path": str(fp_path) if fp_path else None,
            "teacher_start": start_line,
            "training": training,
            "iterations": algo.training_iteration,
            "final": history[-1] if history else {},
            "train_seconds": round(time.perf_counter() - start, 1),
        }
        atomic_write_text(out_dir / SUMMARY, json.dumps(summary, indent=2) + "\n")
        return summary
    finally:
        algo.stop()


def save_checkpoint(algo, out_dir: Path) -> Path:
    """The algorithm's full state into `out_dir/checkpoint`, replacing the previous one atomically."""
    with atomic_dir(Path(out_dir) / CHECKPOINT) as tmp:
        algo.save_to_path(str(tmp.resolve()))
    return Path(out_dir) / CHECKPOINT


def load_module(out_dir: Path):
    """The trained `DeciderTorchRLModule` from a run directory (for acting: `forward_inference`)."""
    from ray.rllib.core.rl_module.rl_module import RLModule

    path = Path(out_dir) / CHECKPOINT / "learner_group" / "learner" / "rl_module" / "default_policy"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no decider module (train one with `raytool train` or train_decider)")
    return RLModule.from_checkpoint(str(path.resolve()))


def result_row(result: dict[str, Any], iteration: int) -> dict[str, Any]:
    """The history line of one `algo.train()` result: env steps, guidance metrics, runner metrics (NaN if absent)."""
    learner = result.get("learners", {}).get("default_policy", {})
    runners = result.get("env_runners", {})
    row: dict[str, Any] = {"iteration": iteration, "env_steps": int(runners.get("num_env_steps_sampled_lifetime", 0))}
    for key in GUIDANCE_KEYS:
        row[key.split("/")[1]] = _float(learner.get(key))
    for key in RUNNER_KEYS:
        row[key.split("/")[1]] = _float(runners.get(key))
    return row


def _float(value: Any) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value


def _read_history(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
