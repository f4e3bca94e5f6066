"""`ToolDeciderEnv(arguments="predicted")`: argument values come from the filler's reading of the request, never from
the task's gold calls; `gold` stays available as the oracle."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.filler.train import FillerTrainConfig, train_filler
from raytool.tools.dataset import ToolDataset


@pytest.fixture(scope="module")
def tasks_and_filler(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("predicted")
    build_tasks(BuildConfig(("cpn",), 2, 120, seed=5, integration_walks=0), log=lambda _: None).save(root / "train")
    build_tasks(BuildConfig(("cpn",), 2, 12, seed=6, integration_walks=0), log=lambda _: None).save(root / "test")
    config = FillerTrainConfig(epochs=12, holdout=0.0, threads=1)
    train_filler([root / "train"], root / "filler", config, "hashing", log=lambda _: None)
    return root / "train", root / "test", root / "filler"


def _oracle_success(tasks: Path, tmp_path: Path, **config) -> float:
    env = ToolDeciderEnv(
        {"tasks": str(tasks), "feature_cache": str(tmp_path / "f"), "top_p": 80, "max_steps": 6} | config
    )
    wins = []
    for i in range(len(env.tasks)):
        env.reset(options={"task_index": i})
        done = truncated = False
        while not (done or truncated):
            _, _, done, truncated, info = env.step(env.oracle_action())
        wins.append(info["success"])
    return sum(wins) / len(wins)


def test_predicted_arguments_solve_held_out_template_requests(tasks_and_filler, tmp_path: Path) -> None:
    _, test, filler = tasks_and_filler
    gold = _oracle_success(test, tmp_path)
    predicted = _oracle_success(test, tmp_path, arguments="predicted", filler=str(filler))
    assert gold == 1.0
    assert predicted >= 0.75, predicted  # the right tools in the right order, values read from the text


def test_predicted_arguments_never_read_the_gold_calls(tasks_and_filler, tmp_path: Path) -> None:
    """Gold values the request does not state: the oracle still succeeds with gold arguments, and the predicted
    source cannot (it never sees them)."""
    _, test, filler = tasks_and_filler
    dataset = ToolDataset.load(test)
    first = dataset.tasks[0]
    value = next(v for call in first.calls for v in (call.arguments or {}).values() if isinstance(v, str))
    hidden = dataclasses.replace(first, query=first.query.replace(value, "the usual one"))
    assert value not in hidden.query
    ToolDataset(dataset.tools, [hidden], dataset.info).save(tmp_path / "hidden")
    assert _oracle_success(tmp_path / "hidden", tmp_path) == 1.0
    assert _oracle_success(tmp_path / "hidden", tmp_path, arguments="predicted", filler=str(filler)) == 0.0


def test_unknown_argument_source_is_an_error(tasks_and_filler) -> None:
    train, _, _ = tasks_and_filler
    with pytest.raises(ValueError, match="arguments must be gold or predicted"):
        ToolDeciderEnv({"tasks": str(train), "arguments": "guess"})
