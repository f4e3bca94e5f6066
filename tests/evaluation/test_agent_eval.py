"""`raytool eval agent`: every method in one harness with the real embedded teacher (transformers backend, tiny
budgets), metrics with CIs, the report, identical metrics on a second run, and the command on every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raytool.agent.agent import AgentConfig
from raytool.agent.outcome import Outcome
from raytool.agent.proxy import ProxyConfig
from raytool.cli import main
from raytool.evaluation.agent import EvalConfig, evaluate_agent, sample_tasks, task_metrics
from raytool.evaluation.proposer import load_eval_data
from raytool.planner.planner import PlannerConfig
from raytool.tools.call import ToolCall
from raytool.tools.dataset import ToolDataset
from raytool.tools.task import Task

BUDGET = EvalConfig(max_steps=2, dfs_budget=2, cot_plan_tools=4)


def _outcome(calls: list[tuple[str, str]], matched: int) -> Outcome:
    made = [{"name": n, "arguments": {}, "status": s} for n, s in calls]
    return Outcome("t", made, len(made), False, 0.0, 0.0, 0.0, matched)


def test_task_metrics_by_hand() -> None:
    task = Task("t", "q", (ToolCall("a", {"x": 1}), ToolCall("b", {"y": 2})), ("a", "b", "c"))
    got = task_metrics(task, _outcome([("c", "invalid"), ("a", "valid"), ("b", "valid")], matched=2), (1, 2, 3))
    assert got["recall@1"] == 0.0 and got["recall@2"] == 0.5 and got["recall@3"] == 1.0
    assert got["complete@2"] == 0.0 and got["complete@3"] == 1.0
    assert got["exact_match"] == 1.0  # the successful calls are exactly the gold sequence
    assert got["call_f1"] == pytest.approx(2 * (2 / 3) * 1.0 / (2 / 3 + 1.0))
    assert "success" not in got  # not an executable task
    unordered = Task("u", "q", task.calls, task.tools, ordered=False)
    assert task_metrics(unordered, _outcome([("b", "valid"), ("a", "valid")], 2), (1,))["exact_match"] == 1.0


@pytest.mark.slow
@pytest.mark.ray
def test_all_methods_run_and_a_second_run_gives_identical_metrics(agent_kit, transformers_teacher, tmp_path) -> None:
    dataset = sample_tasks(ToolDataset.load(agent_kit["requests"]), 2, seed=1)
    proxy = ProxyConfig(proposer=str(agent_kit["proposer"]), decider=str(agent_kit["decider"]))
    config = AgentConfig(proxy=proxy, planner=PlannerConfig(max_tokens=48))  # a short plan: the teacher is slow here
    meta = {"data": str(agent_kit["requests"]), "format": "raytool"}
    first = evaluate_agent(["proxy", "react", "cot", "dfs"], dataset, tmp_path / "a", transformers_teacher, config,
                           BUDGET, meta, log=lambda _: None)  # fmt: skip
    by = {r["method"]: r for r in first}
    assert set(by) == {"proxy", "react", "cot", "dfs"}
    for record in first:
        metrics = record["metrics"]
        for name in ("recall@1", "complete@5", "exact_match", "call_f1", "success", "reward", "teacher_calls",
                     "teacher_tokens", "tool_calls", "decisions"):  # fmt: skip
            low, high = metrics[name]["ci95"]
            assert low <= metrics[name]["mean"] <= high and metrics[name]["n"] == 2, (record["method"], name)
        assert record["timing"]["wall_s"]["mean"] > 0
        assert (tmp_path / "a" / record["method"] / "trajectories.jsonl").read_text().count("\n") == 2
    assert by["react"]["metrics"]["teacher_calls"]["mean"] == 2.0  # one call per step, two steps
    assert by["cot"]["metrics"]["teacher_calls"]["mean"] == 1.0
    assert by["proxy"]["metrics"]["teacher_calls"]["mean"] == 1.0  # the planner's one call (two domains)
    assert by["dfs"]["metrics"]["teacher_calls"]["mean"] <= 2.0
    assert by["proxy"]["plan_sources"]  # where each plan came from (teacher or rule)
    assert "| proxy" in (tmp_path / "a" / "summary.md").read_text()
    assert (tmp_path / "a" / "plots" / "metrics.png").stat().st_size > 1000

    second = evaluate_agent(["proxy", "cot"], dataset, tmp_path / "b", transformers_teacher, config, BUDGET, meta,
                            log=lambda _: None)  # fmt: skip
    for record in second:
        assert record["metrics"] == by[record["method"]]["metrics"], record["method"]


@pytest.mark.slow
def test_the_baselines_read_arguments_with_the_proxies_filler(agent_kit, tmp_path) -> None:
    """ReAct/CoT/DFS get the proxies' argument source: the filler's reading of the request, not the gold values."""
    from raytool.evaluation.agent import baseline_env, prepare_tasks
    from raytool.filler.filler import ArgumentFiller
    from raytool.proposer.proposer import ToolProposer

    dataset = sample_tasks(ToolDataset.load(agent_kit["requests"]), 3, seed=1)
    tasks = prepare_tasks(dataset, tmp_path, ToolProposer.load(agent_kit["proposer"], threads=1), BUDGET)
    env = baseline_env(tasks, BUDGET, tmp_path / "features", str(agent_kit["filler"]))
    filler = ArgumentFiller.load(agent_kit["filler"])
    for index, task in enumerate(env.tasks):
        env.reset(options={"task_index": index})
        for call in task.calls:
            spec = env.dataset.tools[call.name]
            read = {k: v for k, v in filler.fill(task.query, spec).arguments.items() if not isinstance(v, dict)}
            assert env._slots(spec) == read, (task.id, call.name)
    gold = baseline_env(tasks, BUDGET, tmp_path / "features")
    assert gold.filler is None and gold.config.arguments == "gold"


@pytest.mark.slow
@pytest.mark.ray
def test_a_baseline_writing_its_own_arguments_asks_the_teacher_once_per_call(agent_kit, transformers_teacher,
                                                                             tmp_path) -> None:  # fmt: skip
    """`react-own-args`: one teacher call per decision and one per tool call (its values), every call's values the
    teacher's, limited to the tool's own parameters (`raytool.agent.own_arguments`)."""
    dataset = sample_tasks(ToolDataset.load(agent_kit["requests"]), 2, seed=1)
    proxy = ProxyConfig(proposer=str(agent_kit["proposer"]), decider=str(agent_kit["decider"]),
                        filler=str(agent_kit["filler"]))  # fmt: skip
    meta = {"data": str(agent_kit["requests"]), "format": "raytool"}
    (record,) = evaluate_agent(["react-own-args"], dataset, tmp_path, transformers_teacher, AgentConfig(proxy=proxy),
                               BUDGET, meta, log=lambda _: None)  # fmt: skip
    lines = [json.loads(line) for line in (tmp_path / "react-own-args" / "trajectories.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and any(line["calls"] for line in lines)
    asked = [line["decisions"] + len(line["calls"]) for line in lines]
    assert record["metrics"]["teacher_calls"]["mean"] == pytest.approx(sum(asked) / 2)
    tools = ToolDataset.load(agent_kit["requests"]).tools
    for line in lines:
        for call in line["calls"]:
            assert set(call["arguments"]) <= set(tools[call["name"]].properties), call


def _teacher_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "teacher.yaml"
    path.write_text("teacher: {backend: transformers}\n")
    return path


def _seal_files(shared_data: Path, tmp_path: Path) -> list[str]:
    seal = shared_data / "seal_tools"
    records = [json.loads(line) for line in (seal / "dev.jsonl").read_text().splitlines()[:2]]
    needed = {call["api"] for r in records for call in r["calling"]}
    tool_lines = (seal / "tool.jsonl").read_text().splitlines()
    picked = [line for i, line in enumerate(tool_lines) if i < 8 or json.loads(line)["api_name"] in needed]
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "tools.jsonl").write_text("\n".join(picked) + "\n")
    return ["--data", str(tmp_path / "tasks.jsonl"), "--format", "seal_tools", "--tools", str(tmp_path / "tools.jsonl")]


@pytest.mark.slow
@pytest.mark.ray
@pytest.mark.parametrize("fmt", ["raytool", "seal_tools", "metatool", "toolalpaca", "toolbench"])
def test_eval_agent_command_by_path_on_every_format(fmt: str, agent_kit, shared_data: Path, tmp_path: Path) -> None:
    source = {
        "raytool": ["--data", str(agent_kit["requests"]), "--format", "raytool"],
        "metatool": ["--data", str(shared_data / "metatool" / "multi_tool_query_golden.dev.json"), "--format",
                     "metatool"],
        "toolalpaca": ["--data", str(shared_data / "toolalpaca" / "eval_simulated.json"), "--format", "toolalpaca"],
        "toolbench": ["--data", str(shared_data / "stabletoolbench" / "G1_instruction.json"), "--format", "toolbench"],
    }.get(fmt) or _seal_files(shared_data, tmp_path)  # fmt: skip
    out = tmp_path / "out"
    code = main(["eval", "agent", "--method", "proxy,react", *source, "--out", str(out), "--limit", "2",
                 "--max-steps", "2", "--proposer", str(agent_kit["proposer"]), "--decider", str(agent_kit["decider"]),
                 "--teacher", str(_teacher_yaml(tmp_path))])  # fmt: skip
    assert code == 0
    tools = Path(source[source.index("--tools") + 1]) if "--tools" in source else None
    gold = {t.id: {c.name for c in t.calls} for t in load_eval_data(Path(source[1]), fmt, tools).tasks}
    for method in ("proxy", "react"):
        record = json.loads((out / method / "metrics.json").read_text())
        assert record["tasks"] == 2 and record["format"] == fmt
        lines = [json.loads(line) for line in (out / method / "trajectories.jsonl").read_text().splitlines()]
        first = [list(dict.fromkeys(c["name"] for c in line["calls"]))[:1] for line in lines]
        recall = [len(gold[line["task_id"]] & set(top)) / max(len(gold[line["task_id"]]), 1)
                  for line, top in zip(lines, first, strict=True)]  # fmt: skip
        assert len(lines) == 2 and record["metrics"]["recall@1"]["mean"] == pytest.approx(sum(recall) / 2)
        assert ("success" in record["metrics"]) == (fmt == "raytool")  # only the executable suites have success
    assert "react" in (out / "summary.md").read_text()
