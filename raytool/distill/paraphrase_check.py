"""Whether a teacher's rewrite of a builder request can stand in for it: the automatic check before use.

A rewrite is used only when it keeps what the task needs, checked in this order (the first failure is its reason):

- `empty`: nothing came back;
- `value_lost`: a literal argument value of the gold calls (a name, id, number, date) is not in it verbatim;
- `template_wording`: it still reads like the template ("from step 2", "First,", "Finally,"): an echo, not a
  paraphrase;
- `subtask_count`: the distilled segmenter (when one is given) does not read one sub-task per gold call from it;
- `dependencies`: the segmenter's links between those sub-tasks are not the gold calls' dependencies (sub-tasks
  taken in the order written, so a rewrite that reorders the calls fails here too);
- `tool_intent`: with a ranker too (`top_tools`: sub-task texts -> the best tool for each, e.g. the proposer over
  the task's tools), a sub-task whose best tool is not its gold call's: values and links kept, but the words ask
  for something else ("list the nodes it has committed more than 2.03% of its budget").

The last three make the check a model's reading: a rewrite the segmenter misreads is rejected although a person might
accept it (the segmenter's own accuracy on hand-written requests is in docs/planner.md), so what passes errs on the
side of keeping every value and every reference.
"""

from __future__ import annotations

import re
from typing import Any

from raytool.tools.call import is_result_ref
from raytool.tools.task import Task

REASONS = ("empty", "value_lost", "template_wording", "subtask_count", "dependencies", "tool_intent")
TEMPLATE_WORDING = re.compile(r"\bfrom step \d+\b|\b(?:First|Finally),", re.IGNORECASE)


def literal_values(task: Task) -> list[str]:
    """Every literal argument value of the gold calls, as text (what a rewrite must keep)."""
    values: list[str] = []

    def walk(value: Any) -> None:
        if is_result_ref(value):
            return
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif not isinstance(value, bool):
            values.append(str(value))

    for call in task.calls:
        walk(call.arguments or {})
    return values


def paraphrase_problem(task: Task, text: str, segmenter=None, top_tools=None) -> str:
    """Why `text` cannot replace `task.query` (one of `REASONS`), or "" when it can (module docstring)."""
    if not text.strip():
        return "empty"
    if any(value not in text for value in literal_values(task)):
        return "value_lost"
    if TEMPLATE_WORDING.search(text):
        return "template_wording"
    if segmenter is None:
        return ""
    segments = segmenter.segment([text])[0]
    if len(segments) != len(task.calls):
        return "subtask_count"
    if any(set(s.depends_on) != set(c.depends_on) for s, c in zip(segments, task.calls, strict=True)):
        return "dependencies"
    if top_tools is not None and list(top_tools([s.text for s in segments])) != [c.name for c in task.calls]:
        return "tool_intent"
    return ""
