"""A proposer trained on several sources (a union of benchmarks) keeps a lexical weight per source: fitted on that
source's own validation tasks, stored in the checkpoint, used for that source's queries at ranking time."""

from __future__ import annotations

import numpy as np

from raytool.proposer import train as train_module
from raytool.proposer.checkpoint import CheckpointMeta
from raytool.proposer.config import ProposerConfig
from raytool.proposer.proposer import Proposal, SegmentScores, ToolProposer
from raytool.proposer.train import TrainData, fit_ranking
from raytool.tools.call import ToolCall
from raytool.tools.task import Task

# one segment, two tools: the cosine prefers tool 0 ("dense"), BM25 prefers tool 1 ("lexical")
QUERY = SegmentScores(np.array([0, 1]), np.array([[0.6, 0.5]]), np.array([[0.0, 10.0]]), ())


class _Index:
    names = ["dense", "lexical"]


def test_each_query_ranks_with_its_sources_weight() -> None:
    meta = CheckpointMeta(ProposerConfig(), 0.0, source_weights={"words": 1.0})
    proposer = ToolProposer(None, None, meta)  # ranking from given scores needs no model
    first = [p.names[0] for p in proposer.rank_scored([QUERY] * 3, _Index(), k=2, sources=["words", "other", ""])]
    assert first == ["lexical", "dense", "dense"]  # an unseen source and no source: the overall weight (0.0)
    forced = proposer.rank_scored([QUERY], _Index(), k=2, lexical_weight=1.0, sources=["other"])
    assert forced[0].names[0] == "lexical"  # an explicit weight wins over the per-source one
    assert meta.weight_for("words") == 1.0 and meta.weight_for("nope") == 0.0


def test_source_weights_survive_the_checkpoint_round_trip_and_old_records_load() -> None:
    meta = CheckpointMeta(ProposerConfig(), 0.1, source_weights={"seal_tools": 0.3, "metatool": 0.0})
    again = CheckpointMeta.from_dict(meta.to_dict())
    assert again.source_weights == {"seal_tools": 0.3, "metatool": 0.0} and again.lexical_weight == 0.1
    old = meta.to_dict()
    del old["ranking"]["source_weights"]  # a checkpoint written before per-source weights
    assert CheckpointMeta.from_dict(old).source_weights == {}


class _FakeProposer:
    """Ranks a task's gold tool first only at the weights its source favours (no model)."""

    def __init__(self, tasks: list[Task], good: dict[str, set[float]]) -> None:
        self.tasks, self.good = tasks, good

    def score(self, queries, index):
        return list(range(len(queries)))

    def rank_scored(self, scored, index, k=10, lexical_weight=None):
        out = []
        for i in scored:
            task = self.tasks[i]
            right = lexical_weight in self.good[task.source]
            names = [task.tool_names[0], "x"] if right else ["x", "y", "z", "v", "w"]
            out.append(Proposal(names, [0.9, 0.1][: len(names)] + [0.0] * (len(names) - 2), [1.0] * len(names)))
        return out


def test_fit_ranking_gives_each_source_the_weight_its_own_tasks_prefer(monkeypatch) -> None:
    tasks = [Task(f"m{i}", "q", (ToolCall("t", {}),), source="big") for i in range(9)]
    tasks += [Task("s0", "q", (ToolCall("t", {}),), source="small")]
    good = {"big": {0.0}, "small": {0.5, 0.75, 1.0, 1.5}}
    fake = _FakeProposer(tasks, good)
    monkeypatch.setattr(train_module, "_val_proposer", lambda *args: (fake, None))
    monkeypatch.setattr(train_module, "validation_ratios", lambda *args: {})  # tested in test_adaptation.py
    config = ProposerConfig(lexical_weight=0.3)
    weight, _, fitted = fit_ranking(None, None, config, TrainData([], tasks, {}), [])
    assert fitted["source_weights"] == {"big": 0.0, "small": 0.5}  # "small": a tie from 0.5 up, nearest 0.3 wins
    assert weight == 0.5  # per-source average 0.5 at both 0.0 and 0.5 (each source right at its own); 0.5 is nearer 0.3
    one = [t for t in tasks if t.source == "big"]
    _, _, single = fit_ranking(None, None, config, TrainData([], one, {}), [])
    assert single["source_weights"] == {}  # one source: the overall weight is its weight
