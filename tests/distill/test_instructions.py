"""`distill instructions`: skill-mix selection covers more tool combinations; rewrites keep values, drop the template's
wording and (with a segmenter) read as the gold plan, else the template stays; all verified."""

from __future__ import annotations

from pathlib import Path

from raytool.distill.instructions import InstructionConfig, pairs_of, skill_mix, synthesize_instructions
from raytool.distill.paraphrase_check import literal_values, paraphrase_problem
from raytool.envs.build import BuildConfig, build_tasks
from raytool.planner.segmenter import Segment
from raytool.tools.dataset import ToolDataset
from tests.distill.fake_teacher import FakeTeacher


def test_skill_mix_covers_at_least_as_many_combinations() -> None:
    pool = build_tasks(BuildConfig(("finance",), 2, 60, seed=1, integration_walks=0), log=lambda _: None).tasks
    chosen = skill_mix(pool, 15)
    covered = set().union(*(pairs_of(t) for t in chosen))
    first = set().union(*(pairs_of(t) for t in pool[:15]))
    assert len(chosen) == 15 and len(covered) >= len(first)


def test_instructions_are_rewritten_and_verified(tmp_path: Path) -> None:
    config = InstructionConfig("travel", level=2, num=8, seed=3, pool_factor=3)
    summary = synthesize_instructions(config, FakeTeacher(), tmp_path / "inst", log=lambda _: None)
    assert summary["tasks"] == summary["verified"] == 8
    assert summary["rewrites_accepted"] == 8  # the fake drops the step words and keeps every value
    assert summary["rewrites_rejected"] == dict.fromkeys(summary["rewrites_rejected"], 0)
    tasks = ToolDataset.load(tmp_path / "inst").tasks
    assert all(t.query.startswith("Please: ") and "step" not in t.query for t in tasks)
    assert all(v in t.query for t in tasks for v in literal_values(t))


class ReadsAs:
    """A test double of the segmenter: reads every text as the given segments."""

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments

    def segment(self, texts):
        return [self.segments for _ in texts]


def test_a_rewrite_is_used_only_when_it_keeps_values_drops_step_words_and_reads_as_the_plan() -> None:
    tasks = build_tasks(BuildConfig(("travel",), 2, 6, seed=3, integration_walks=0), log=lambda _: None).tasks
    task = next(t for t in tasks if len(t.calls) == 2 and t.calls[1].depends_on)
    values = " ".join(literal_values(task))
    good = f"Please do this for {values}, and then the next thing with it."
    assert paraphrase_problem(task, "  ") == "empty"
    assert paraphrase_problem(task, good.replace(literal_values(task)[0], "someone")) == "value_lost"
    assert paraphrase_problem(task, task.query) == "template_wording"
    assert paraphrase_problem(task, good) == ""  # values only, without a segmenter
    two_linked = [Segment("a", 0, 1), Segment("b", 2, 3, (0,))]
    assert paraphrase_problem(task, good, ReadsAs(two_linked)) == ""
    assert paraphrase_problem(task, good, ReadsAs(two_linked[:1])) == "subtask_count"
    assert paraphrase_problem(task, good, ReadsAs([Segment("a", 0, 1), Segment("b", 2, 3)])) == "dependencies"
    gold_tools = [c.name for c in task.calls]
    assert paraphrase_problem(task, good, ReadsAs(two_linked), lambda texts: gold_tools) == ""
    other = lambda texts: [gold_tools[0], "get_weather_forecast"]  # noqa: E731  (the second part asks for another)
    assert paraphrase_problem(task, good, ReadsAs(two_linked), other) == "tool_intent"


def test_rewrites_that_fail_the_plan_check_keep_the_template_and_are_counted(tmp_path: Path) -> None:
    config = InstructionConfig("travel", level=2, num=6, seed=3, pool_factor=2)
    one_segment = ReadsAs([Segment("all", 0, 3)])  # every level-2 task has 2+ calls: each rewrite fails
    summary = synthesize_instructions(config, FakeTeacher(), tmp_path / "inst", log=lambda _: None,
                                      segmenter=one_segment)  # fmt: skip
    assert summary["rewrites_accepted"] == 0 and summary["rewrites_rejected"]["subtask_count"] == 6
    assert summary["plan_checked"] and summary["verified"] == 6
    assert all(not t.query.startswith("Please: ") for t in ToolDataset.load(tmp_path / "inst").tasks)
