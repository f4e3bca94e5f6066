"""The proxies' proposer: its training sub-tasks, and that fine-tuning on them ranks unseen sub-tasks better."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytool.proposer.proxy_tuning import ProxyProposerConfig, subtask_examples, tune_proxy_proposer


def test_each_call_of_each_rendering_is_one_sub_task() -> None:
    config = ProxyProposerConfig(tasks_per_level=3, levels=(2,), phrasings=2)
    catalogue, tasks = subtask_examples(config)
    assert {t.calls[0].name for t in tasks} <= set(catalogue)
    assert all(len(t.calls) == 1 and not t.calls[0].arguments for t in tasks)
    by_request: dict[str, list] = {}
    for task in tasks:
        by_request.setdefault(task.id.rsplit("/", 2)[0], []).append(task)
    assert len(by_request) == 3  # tasks per level, over all suites
    for request, subtasks in by_request.items():
        renderings = {t.id.rsplit("/", 2)[1] for t in subtasks}
        assert renderings == {"0", "1", "2"}, request  # the template and two varied renderings
        calls = [t for t in subtasks if t.id.endswith("/0/0")]
        assert calls and calls[0].query.strip()
    assert not any(t.query.startswith(("First,", "Then")) for t in tasks)  # spans exclude the step markers


def _top1(proposer, tasks, catalogue) -> float:
    specs = list(catalogue.values())
    index = proposer.index(specs, cache=False)
    ranked = proposer.rank([t.query for t in tasks], index, k=1, pools=[list(catalogue)] * len(tasks))
    return sum(r.names[0] == t.calls[0].name for r, t in zip(ranked, tasks, strict=True)) / len(tasks)


def test_fine_tuning_ranks_unseen_varied_sub_tasks_better(agent_kit, tmp_path: Path) -> None:
    """Learning regression: the agent kit's proposer (MiniLM after one step on whole requests) fine-tuned on 10
    builder tasks per level (levels 2-4, template + one varied rendering) ranks the right tool first for more of the
    varied sub-tasks of other builder tasks (another seed; 222 sub-tasks): 0.923 -> 0.959 when written, 0.905 -> 0.946
    once the varied language also wrote optional values before their names (harder held-out text). MiniLM
    already ranks these well; the stage's gain is larger from the Seal-Tools proposer on hand-written requests
    (0.844 -> 0.954, README), which a test cannot afford to train."""
    from raytool.proposer.proposer import ToolProposer

    base = agent_kit["proposer"]
    config = ProxyProposerConfig(tasks_per_level=10, phrasings=1)
    tuned = tune_proxy_proposer(base, tmp_path / "tuned", config, log=lambda _: None)
    catalogue, held = subtask_examples(ProxyProposerConfig(tasks_per_level=20, seed=7000, phrasings=1))
    held = [t for t in held if "/1/" in t.id]  # the varied rendering
    before = _top1(ToolProposer.load(base, threads=1), held, catalogue)
    after = _top1(ToolProposer.load(tuned, threads=1), held, catalogue)
    assert after >= before + 0.02 and after >= 0.93, (before, after)
    assert ToolProposer.load(tuned).config.segment is False  # a sub-task is ranked whole
    with pytest.raises(ValueError, match="tasks_per_level"):
        ProxyProposerConfig(tasks_per_level=-1)
