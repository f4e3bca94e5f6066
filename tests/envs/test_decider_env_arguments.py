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


class _Reader:
    """A stand-in filler that reads the first number of a text as `amount` and names it finds by their own words."""

    def fill(self, text: str, spec):
        import re
        from types import SimpleNamespace

        found = {"tenant_id": "polar-analytics", "resource": "storage_gb"}
        arguments = {name: value for name, value in found.items() if name in spec.properties and value in text}
        number = re.search(r"\b\d+\b", text)
        if number and "amount" in spec.properties:
            arguments["amount"] = int(number.group())
        return SimpleNamespace(arguments=arguments)


@pytest.mark.parametrize("with_parts", [True, False])
def test_a_jobs_values_are_read_from_the_part_that_asks_for_the_tool(monkeypatch, with_parts: bool) -> None:
    """A proxy's job of planned parts (its ranking's `part_texts`): a tool's values come from the part whose own
    ranking puts it highest ("... quota by 99" gives the amount, not the "364 GB" of the part before), and a value
    that part does not give (the tenant, named in the other part) from the whole job. Without part texts, the whole
    job is read, as before."""
    import raytool.envs.decider_env as decider_env
    from raytool.envs.suites import get_suite
    from raytool.tools.task import Task

    monkeypatch.setattr(decider_env, "_load_filler", lambda path: _Reader())
    tools = {name: tool.spec for name, tool in get_suite("cpn").tools.items()}
    parts = ["polar-analytics needs 364 GB of memory for 10 hours", "bump its storage_gb quota by 99"]
    job = Task(id="job", query=" ".join(parts), tools=tuple(tools))
    names = ["submit_demand", "request_quota_increase", "list_regions"]
    record = {"task_id": job.id, "names": names, "scores": [0.9, 0.8, 0.1], "parts": 2,
              "part_names": [names, names[1:]], "part_scores": [[0.9, 0.8, 0.1], [0.8, 0.1]]}  # fmt: skip
    if with_parts:
        record["part_texts"] = parts
    env = ToolDeciderEnv({"tasks": "", "candidate_source": "memory", "arguments": "predicted", "filler": "stub"},
                         dataset=ToolDataset(tools, [job]), rankings={job.id: record})  # fmt: skip
    env.reset(options={"task_index": 0})
    bound = env._bind(tools["request_quota_increase"])
    assert bound == {"tenant_id": "polar-analytics", "resource": "storage_gb", "amount": 99 if with_parts else 364}
    assert env._bind(tools["submit_demand"]).get("tenant_id") == "polar-analytics"  # its own part names it
