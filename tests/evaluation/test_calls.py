"""`raytool eval calls`' harness: methods side by side, the official metrics, breakdowns, outputs on disk."""

from __future__ import annotations

import json

import pytest

from raytool.evaluation.calls import evaluate_calls, given_candidates, seal_prompt
from raytool.tools.call import ToolCall, result_ref
from raytool.tools.dataset import ToolDataset
from raytool.tools.errors import RecordError
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

SPEC = ToolSpec("a", "tool a", {"type": "object", "properties": {"x": {"type": "integer"}, "y": {}}, "required": ["x"]})
SPEC_B = ToolSpec("b", "tool b", {"type": "object", "properties": {"z": {"type": "string"}}, "required": []})
TASKS = [
    Task("t1", "call a with 1", (ToolCall("a", {"x": 1}),)),
    Task("t2", "call a then b",
         (ToolCall("a", {"x": 2, "y": "u"}), ToolCall.with_inferred_deps("b", {"z": result_ref(0)}))),
]  # fmt: skip
DATA = ToolDataset({"a": SPEC, "b": SPEC_B}, TASKS)


class Echo:
    """Predicts the gold calls, dropping `y`: parameter recall < 1, precision 1."""

    name = "echo"

    def predict(self, task):
        return [
            ToolCall.with_inferred_deps(c.name, {k: v for k, v in c.arguments.items() if k != "y"}) for c in task.calls
        ]


def test_methods_are_scored_with_breakdowns_and_written(tmp_path) -> None:
    summary = evaluate_calls([Echo()], DATA, tmp_path, log=lambda _: None)
    result = summary["methods"]["echo"]
    assert result["tool"]["f1"] == 1.0
    assert result["parameter"]["precision"] == 1.0 and result["parameter"]["recall"] == pytest.approx(3 / 4)
    assert result["single"] == {"tasks": 1, "tool_f1": 1.0, "param_f1": 1.0}
    assert result["param_recall_by_type"]["reference"] == {"gold": 1, "recall": 1.0}
    assert result["param_recall_by_type"]["None"] == {"gold": 1, "recall": 0.0}  # y: a parameter without a type
    lines = (tmp_path / "echo" / "predictions.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["calls"][1] == {"api": "b", "parameters": {"z": "API_call_0"}}
    assert "| echo |" in (tmp_path / "summary.md").read_text()


def test_given_candidates_read_the_benchmarks_prompt_and_name_bad_records(tmp_path) -> None:
    prompt = seal_prompt("do it", [SPEC, SPEC_B])
    good = [{"id": "t1", "conversations": [{"from": "human", "value": prompt}, {"from": "gpt", "value": "[]"}]}]
    (tmp_path / "good.json").write_text(json.dumps(good))
    assert given_candidates(tmp_path / "good.json") == {"t1": ["a", "b"]}
    bad = good + [{"id": "t2", "conversations": [{"from": "human", "value": "no list here"}]}]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(RecordError, match="index 1"):
        given_candidates(tmp_path / "bad.json")


def test_theta_is_fitted_for_the_best_tool_f1_on_dev() -> None:
    from types import SimpleNamespace

    from raytool.evaluation.calls import ProposerFiller

    class Proposer:  # a needed tool at P = 0.7, an unneeded one at 0.4 and 0.2: any theta in (0.4, 0.7] is best
        def index(self, specs):
            return None

        def rank(self, queries, index, k, pools=None, sources=None):
            return [SimpleNamespace(names=["a", "b", "c"], probs=[0.7, 0.4, 0.2])]

    tools = {"a": SPEC, "b": SPEC_B, "c": ToolSpec("c", "tool c")}
    method = ProposerFiller(Proposer(), None, tools, lambda task: ["a", "b", "c"], theta=0.1)
    theta = method.fit_theta([Task("d1", "q", (ToolCall("a", {"x": 1}),))], lambda task: ["a", "b", "c"])
    assert 0.4 < theta <= 0.7 and method.theta == theta
