"""Shared fixtures: the real benchmark data, a local Ray cluster, the real embedded teacher on transformers and on
a vLLM engine in a Ray actor, and a tiny real proxy agent."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_collection_modifyitems(config, items) -> None:
    """The modules with tests of the main job (`tiny_main_job`) run first, while this process holds little: the
    job's own Ray cluster, vLLM engine and proxy replicas need about 6.5 GB, and late in the suite this process holds
    several GB of what earlier tests loaded (12 GB in one CI run, where the two together crossed Ray's OOM threshold
    on 24 GiB; `raytool.memory` has since cut the largest part, the filler's training heap).
    `gpu`-marked tests need CUDA: on a machine without it (CI's) they are skipped with that reason."""
    first = {item.path for item in items if "tiny_main_job" in getattr(item, "fixturenames", ())}
    items.sort(key=lambda item: item.path not in first)  # stable: those modules whole, in their order, then the rest
    if not any("gpu" in item.keywords for item in items):
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="gpu: needs CUDA, and this machine has none")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared benchmark folder; CI always has it, so its absence fails loudly instead of skipping."""
    from raytool.paths import shared_data_dir

    try:
        return shared_data_dir()
    except FileNotFoundError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray cluster of its own for the `ray`-marked tests (never attaches to a running one)."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def transformers_teacher():
    import torch

    from raytool.teacher.transformers_backend import TransformersTeacher

    torch.set_num_threads(1)
    teacher = TransformersTeacher()
    yield teacher
    teacher.close()


@pytest.fixture(scope="module")
def vllm_teacher(ray_local):
    """The embedded teacher on a vLLM engine, for one test module at a time: an engine left up for the whole session
    holds about 3 GB that the main job's own engine and proxy replicas need later (`tiny_main_job`; on 24 GiB the
    two together reached Ray's OOM threshold in CI)."""
    from raytool.teacher.backend import TeacherConfig
    from raytool.teacher.vllm_backend import VLLMTeacher

    teacher = VLLMTeacher(TeacherConfig(num_actors=1, num_cpus=1, batch_size=16))
    yield teacher
    teacher.close()


AGENT_PROPOSER_SET = ["max_steps=1", "epochs=1", "batch_size=4", "threads=1", "hard_negatives=1", "train_layers=1"]
AGENT_DECIDER_TRAINING = {"learning_starts": 16, "updates_per_iteration": 1, "train_batch_size": 16}
# `raytool train --config` with tiny budgets for every stage (the full-size proposer stage is benchmarks/proposer.py's)
TINY_TRAIN_CONFIG = (
    "proposer: {max_steps: 2, batch_size: 8}\nevaluation: {limit: 10, baselines: [bm25]}\n"
    "filler: {max_tasks: 20, suite_tasks: 6, epochs: 2, encoder: hashing}\n"
    "decider_stages: {train_tasks: 6, test_tasks: 4, rank_states: 12}\nfp: {epochs: 2}\n"
    "decider: {iterations: 2, rollout_fragment_length: 16, hidden: 16,\n"
    "          training: {learning_starts: 16, updates_per_iteration: 1, train_batch_size: 16}}\n"
    "agent: {train_tasks: 4, test_tasks: 2, proposer: {tasks_per_level: 2, levels: [2], phrasings: 1, max_steps: 2}}\n"
    "segmenter: {levels: [2, 4], tasks_per_level: 6, phrasings: 1, epochs: 1}\n"
)


@dataclass(frozen=True)
class MainJobRun:
    """One run of the whole main job at tiny budgets: its output directory, config file and what it printed."""

    out: Path
    config: Path
    stdout: str


@pytest.fixture(scope="session")
def tiny_main_job(tmp_path_factory, shared_data) -> MainJobRun:
    """`raytool train` (the README's main command, through the installed console script) once per test session at
    `TINY_TRAIN_CONFIG`, about 15-20 minutes on 2 cores. `tests/test_cli.py` checks what it wrote and printed;
    `tests/test_cluster_job.py` runs it again, as a `ray job submit` job on a copy of its output, where every
    stage with an artifact must skip."""
    import shutil
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("main_job")
    config = root / "train.yaml"
    config.write_text(TINY_TRAIN_CONFIG)
    raytool = shutil.which("raytool") or str(Path(sys.executable).parent / "raytool")
    command = [raytool, "train", "--data-dir", str(shared_data), "--out", str(root / "run"), "--config", str(config)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=2400)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    return MainJobRun(root / "run", config, done.stdout)


@pytest.fixture(scope="session")
def agent_kit(ray_local, tmp_path_factory) -> dict[str, Path]:
    """A tiny but real proxy agent: level-4 requests over the three suites, a proposer trained for one step on
    them, a random F_P, and the proxies' decider trained for one RLlib iteration on the requests' sub-tasks."""
    import torch

    from raytool.agent.agent import task_domains
    from raytool.agent.train import subtask_dataset, train_proxy_decider
    from raytool.cli import main
    from raytool.decider.candidates import decider_env_config
    from raytool.decider.fp_checkpoint import observation_settings, save_policy_reconstruction
    from raytool.decider.fp_model import PolicyReconstruction
    from raytool.decider.train import DeciderRunConfig
    from raytool.envs.build import BuildConfig, build_tasks
    from raytool.envs.encoders import make_encoder
    from raytool.planner.domain_router import BM25DomainRouter
    from raytool.proposer.proposer import ToolProposer
    from raytool.tools.dataset import ToolDataset

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("agent")
    config = BuildConfig(("cpn", "travel", "finance"), level=4, num_tasks=6, seed=5, integration_walks=0)
    build_tasks(config, log=lambda _: None).save(root / "requests")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAYTOOL_CACHE", str(root / "cache"))
        code = main(["proposer", "train", "--data", str(root / "requests"), "--format", "raytool",
                     "--out", str(root / "proposer"), "--set", *AGENT_PROPOSER_SET])  # fmt: skip
        assert code == 0
        dataset = ToolDataset.load(root / "requests")
        router = BM25DomainRouter(task_domains(dataset.tasks, dataset.tools))
        proposer = ToolProposer.load(root / "proposer", threads=1)
        subtask_dataset(dataset, router, proposer, root / "subtasks", k=8, log=lambda _: None)
    dim = make_encoder("hashing-256").dim
    torch.manual_seed(0)
    env = observation_settings(decider_env_config(root / "subtasks", 4, 4))
    save_policy_reconstruction(PolicyReconstruction(dim, 4, width=16, heads=2, layers=1), {"env": env}, root / "fp")
    run = DeciderRunConfig(iterations=1, rollout_fragment_length=16, hidden=16, training=AGENT_DECIDER_TRAINING)
    train_proxy_decider(root / "subtasks", root / "fp", run, root / "decider", top_p=4, max_steps=4, log=lambda _: None)
    from raytool.filler.train import FillerTrainConfig, train_filler

    train_filler([root / "requests"], root / "filler", FillerTrainConfig(epochs=4, holdout=0.0, threads=1), "hashing",
                 log=lambda _: None)  # fmt: skip
    return {"root": root, "requests": root / "requests", "proposer": root / "proposer", "decider": root / "decider",
            "subtasks": root / "subtasks", "fp": root / "fp", "filler": root / "filler"}  # fmt: skip
