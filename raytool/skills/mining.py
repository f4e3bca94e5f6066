"""Skill mining: frequent tool sequences with data flow, from successful trajectories.

    raytool skills mine --trajectories runs/*.jsonl --tools DATASET_DIR --out skills.json

Only successful trajectories count, and in them only the valid calls (the others are dropped, references
renumbered: `raytool.skills.trajectories.valid_calls`). A candidate skill is a contiguous run of 2..max_len
calls of distinct tools in which every call after the first takes at least one argument by reference from an
earlier call *inside* the run: the data flow that makes it one unit of work (a frequent pair with no reference
between its calls is a coincidence of order, not a skill). Then

    support(s)  = number of distinct trajectories that contain s (with data flow)
    kept        = {s : support(s) >= min_support}, minus every s that is a contiguous part of a kept longer
                  skill with the same support (it never occurs without it), longest first, then by support,
                  cut to max_skills
    order       = support desc, length desc, name

A skill's data flow is its most frequent edge set among its occurrences. `decision_savings` reports how many
decisions the skills would save if used greedily (longest match first, left to right).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from raytool.skills.library import Flow, Skill, save_skills, skill_doc, skill_name
from raytool.skills.trajectories import Trajectory, TrajectoryCall, load_trajectories, valid_calls
from raytool.tools.call import REF_KEY, iter_refs
from raytool.tools.dataset import ToolDataset
from raytool.tools.spec import ToolSpec


def mine_skills(
    trajectories: Sequence[Trajectory],
    specs: Mapping[str, ToolSpec] | None = None,
    min_support: int = 3,
    max_len: int = 3,
    max_skills: int = 32,
) -> list[Skill]:
    """The skills of the trajectories (module docstring), docs generated from `specs` when given."""
    if min_support < 1 or max_len < 2 or max_skills < 1:
        raise ValueError(f"need min_support >= 1, max_len >= 2, max_skills >= 1; got {min_support}, {max_len}, "
                         f"{max_skills}")  # fmt: skip
    support: Counter[tuple[str, ...]] = Counter()
    patterns: dict[tuple[str, ...], Counter[tuple[Flow, ...]]] = {}
    for trajectory in trajectories:
        if not trajectory.success:
            continue
        for tools, flows in _occurrences(valid_calls(trajectory), max_len).items():
            support[tools] += 1
            patterns.setdefault(tools, Counter())[flows] += 1
    frequent = [t for t, n in support.items() if n >= min_support]
    frequent.sort(key=lambda t: (-len(t), -support[t], skill_name(t)))
    kept: list[tuple[str, ...]] = []
    for tools in frequent:
        if not any(len(k) > len(tools) and support[k] == support[tools] and _contains(k, tools) for k in kept):
            kept.append(tools)
    kept = kept[:max_skills]
    kept.sort(key=lambda t: (-support[t], -len(t), skill_name(t)))
    skills = []
    for tools in kept:
        flows = min(patterns[tools].items(), key=lambda item: (-item[1], repr(item[0])))[0]
        doc = skill_doc(tools, flows, support[tools], specs)
        skills.append(Skill(skill_name(tools), tools, flows, support[tools], doc))
    return skills


def call_flows(calls: Sequence[TrajectoryCall]) -> list[list[tuple[int, str, str]]]:
    """Per call, its incoming references as (source call, path, parameter), `parameter` the top-level argument."""
    out = []
    for call in calls:
        refs = [(param, ref) for param, value in call.arguments.items() for ref in iter_refs(value)]
        out.append([(ref[REF_KEY], ref.get("path", ""), param) for param, ref in refs])
    return out


def _occurrences(calls: Sequence[TrajectoryCall], max_len: int) -> dict[tuple[str, ...], tuple[Flow, ...]]:
    """Every candidate skill in one trajectory's valid calls, with its data flow at its first occurrence."""
    names, incoming = [c.name for c in calls], call_flows(calls)
    found: dict[tuple[str, ...], tuple[Flow, ...]] = {}
    for start in range(len(calls)):
        flows: list[Flow] = []
        for end in range(start + 1, min(start + max_len, len(calls))):  # extend the run by call `end`
            if names[end] in names[start:end]:
                break  # a tool twice: the env skips tools already called, and longer runs hold it too
            inside = [Flow(s - start, path, end - start, param) for s, path, param in incoming[end] if start <= s < end]
            if not inside:
                break  # no data flow into call `end`: no run through it from `start` is a skill
            flows.extend(sorted(inside, key=lambda f: (f.param, f.source, f.path)))
            found.setdefault(tuple(names[start : end + 1]), tuple(flows))
    return found


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def decision_savings(trajectories: Sequence[Trajectory], skills: Sequence[Skill]) -> dict[str, Any]:
    """Over the successful trajectories' valid calls: mean calls per task, and mean decisions per task if every
    run of calls matching a skill's tools were one decision (longest match first, left to right; STOP not
    counted). saved_share = 1 - decisions / calls; uses counts the matches per skill."""
    by_length = sorted(skills, key=lambda s: (-len(s.tools), s.name))
    calls = decisions = episodes = 0
    uses: Counter[str] = Counter()
    for trajectory in trajectories:
        if not trajectory.success:
            continue
        names = [c.name for c in valid_calls(trajectory)]
        episodes, calls, i = episodes + 1, calls + len(names), 0
        while i < len(names):
            match = next((s for s in by_length if tuple(names[i : i + len(s.tools)]) == s.tools), None)
            if match is not None:
                uses[match.name] += 1
            i += len(match.tools) if match else 1
            decisions += 1
    return {
        "trajectories": episodes,
        "mean_calls": calls / episodes if episodes else 0.0,
        "mean_decisions": decisions / episodes if episodes else 0.0,
        "saved_share": 1.0 - decisions / calls if calls else 0.0,
        "uses": dict(sorted(uses.items())),
    }


def mine_command(
    trajectory_paths: Sequence[str | Path],
    tools_dir: str | Path | None,
    out: str | Path,
    min_support: int = 3,
    max_len: int = 3,
    max_skills: int = 32,
) -> dict[str, Any]:
    """`raytool skills mine`: read trajectories, mine, write the skills file to `out`; returns a summary.

    tools_dir: a dataset directory (`ToolDataset.load`) whose tool specs the docs are generated from; None = no
    descriptions. Summary: out, skills (count), names, trajectories, successful, success_share, savings.
    """
    trajectories = load_trajectories(trajectory_paths)
    specs = ToolDataset.load(tools_dir).tools if tools_dir else None
    skills = mine_skills(trajectories, specs, min_support, max_len, max_skills)
    successful = sum(t.success for t in trajectories)
    source = {
        "trajectories": [str(p) for p in trajectory_paths],
        "tools": str(tools_dir) if tools_dir else "",
        "min_support": min_support,
        "max_len": max_len,
        "max_skills": max_skills,
        "successful_trajectories": successful,
    }
    save_skills(out, skills, source)
    return {
        "out": str(out),
        "skills": len(skills),
        "names": [s.name for s in skills],
        "trajectories": len(trajectories),
        "successful": successful,
        "success_share": successful / len(trajectories) if trajectories else 0.0,
        "savings": decision_savings(trajectories, skills),
    }
