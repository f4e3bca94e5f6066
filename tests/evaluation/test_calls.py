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


def test_the_oracle_reuses_proposer_fills_only_where_the_calls_before_are_the_same(tmp_path) -> None:
    from types import SimpleNamespace

    from raytool.evaluation.calls import OracleTools, ProposerFiller
    from raytool.filler.filler import ArgumentFiller, Fill

    class Filler:  # the value names the call's tool and the tools before it: a reused fill must have the same ones
        def __init__(self):
            self.filled = []

        fill_plan = ArgumentFiller.fill_plan  # the one loop over a request's calls, over this fake's `fill`

        def fill(self, request, spec, earlier):
            self.filled.append((request, spec.name, len(earlier)))
            return Fill({"x": 1 + len(earlier)} if spec.name == "a" else {"z": "".join(e.spec.name for e in earlier)})

    class Proposer:  # "b" alone for t2 (its gold is a then b); "a" for t1
        def index(self, specs):
            return None

        def rank(self, queries, index, k, pools=None, sources=None):
            names = ["a", "b"] if queries[0] == "call a with 1" else ["b", "a"]
            return [SimpleNamespace(names=names, probs=[0.9, 0.1])]

    filler = Filler()
    proposed = ProposerFiller(Proposer(), filler, DATA.tools, lambda task: ["a", "b"])
    oracle = OracleTools(filler, DATA.tools, reuse=proposed)
    summary = evaluate_calls([proposed, oracle], DATA, tmp_path, log=lambda _: None)
    # proposer+filler filled a for t1 and b (first) for t2; the oracle only a and then b (after a) for t2
    assert filler.filled == [("call a with 1", "a", 0), ("call a then b", "b", 0),
                             ("call a then b", "a", 0), ("call a then b", "b", 1)]  # fmt: skip
    alone = evaluate_calls([OracleTools(Filler(), DATA.tools)], DATA, tmp_path / "alone", log=lambda _: None)
    assert summary["methods"]["oracle-tools"]["parameter"] == alone["methods"]["oracle-tools"]["parameter"]
    assert summary["methods"]["oracle-tools"]["latency_ms"]["shared"] is True
    assert "shared" in (tmp_path / "summary.md").read_text()
    assert "shared" not in (tmp_path / "alone" / "summary.md").read_text()
    with pytest.raises(ValueError, match="same filler"):
        OracleTools(Filler(), DATA.tools, reuse=proposed)


def test_the_proxies_method_sends_requests_alone_and_fills_the_tools_the_decider_called(tmp_path) -> None:
    from raytool.evaluation.calls import ProxyCalls
    from raytool.filler.filler import ArgumentFiller, Fill

    class Filler:
        fill_plan = ArgumentFiller.fill_plan

        def fill(self, request, spec, earlier):
            return Fill({"x": 7} if spec.name == "a" else {"z": "w"})

    class Proxy:  # t1: STOP at once (no call); t2: b, a repeated (not kept), then a
        def __init__(self):
            self.jobs = []

        def solve(self, jobs, catalogue):
            self.jobs += jobs
            assert sorted(c["name"] for c in catalogue) == ["a", "b"]
            made = {"t1": [], "t2": [("b", "valid"), ("b", "repeated"), ("a", "malformed")]}
            return [{"id": j["task"]["id"], "start": 10.0, "end": 10.5, "setup_s": 0.25,
                     "calls": [{"name": n, "status": s} for n, s in made[j["task"]["id"]]]} for j in jobs]  # fmt: skip

    proxy = Proxy()
    method = ProxyCalls(proxy, Filler(), DATA.tools, lambda task: ["a", "b"])
    summary = evaluate_calls([method], DATA, tmp_path, log=lambda _: None)
    assert [j["task"]["calls"] for j in proxy.jobs] == [[], []]  # the request alone: no gold calls go to the proxy
    assert [j["pool"] for j in proxy.jobs] == [["a", "b"], ["a", "b"]]
    lines = [json.loads(line) for line in (tmp_path / "proxies" / "predictions.jsonl").read_text().splitlines()]
    assert lines[0]["calls"] == []  # STOP at the first step: no call
    assert lines[1]["calls"] == [{"api": "b", "parameters": {"z": "w"}}, {"api": "a", "parameters": {"x": 7}}]
    assert summary["methods"]["proxies"]["latency_ms"]["p50"] >= 750  # its job's time and set-up share, then the fill
