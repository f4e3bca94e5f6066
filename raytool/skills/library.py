"""The skill library: `Skill` records, their generated docs, and the skills file they are saved in.

A skill is a contiguous tool sequence that successful trajectories run with data flow between its calls
(`raytool.skills.mining`). Its doc is generated from the tools' specs, so a model choosing among candidates reads
a skill like a tool:

    Runs quote_flight_fare, then book_flight, passing fare_id (step 1) -> fare_id (step 2). quote_flight_fare:
    Quote the current fare ... book_flight: Book a seat ... Required inputs: flight_id, traveller_id.
    Seen in 7 successful trajectories.

("Required inputs" are the tools' required parameters that the skill's data flow does not feed.)

The skills file (`save_skills` / `load_skills`) is the one `ToolDeciderEnv(skills=...)` reads through
`raytool.envs.macros` (format in its docstring); `load_skills` checks the envs' fields there and the data flow
and support here, with errors naming the file, the skill's index and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raytool.envs.macros import SKILLS_VERSION, read_skill_records
from raytool.tools.errors import WRONG_TYPE, RecordError
from raytool.tools.files import atomic_write_text
from raytool.tools.spec import ToolSpec

SKILL_PREFIX = "skill:"


@dataclass(frozen=True)
class Flow:
    """One data-flow edge inside a skill: field `path` of step `source`'s output feeds parameter `param` of step
    `target` (0-based steps of the skill, source < target; `path` "" is the whole output)."""

    source: int
    path: str
    target: int
    param: str

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.source, "path": self.path, "to": self.target, "param": self.param}


@dataclass(frozen=True)
class Skill:
    """A mined skill.

    name: `skill:` + the tool names joined by `>` (`skill_name`).
    tools: the tools it runs, in order (at least two, none twice).
    dataflow: the edges that make it a skill: every step after the first takes an argument from an earlier one.
    support: number of distinct successful trajectories that run it (with that data flow).
    doc: generated description (`skill_doc`).
    """

    name: str
    tools: tuple[str, ...]
    dataflow: tuple[Flow, ...]
    support: int
    doc: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tools": list(self.tools),
            "dataflow": [f.to_dict() for f in self.dataflow],
            "support": self.support,
            "doc": self.doc,
        }


def skill_name(tools: Sequence[str]) -> str:
    """`skill:a>b>c` for the tools a, b, c."""
    return SKILL_PREFIX + ">".join(tools)


def skill_doc(
    tools: Sequence[str], dataflow: Sequence[Flow], support: int, specs: Mapping[str, ToolSpec] | None = None
) -> str:
    """The generated doc of a skill (module docstring); tools without a spec are named but not described."""
    specs = specs or {}
    steps = ", then ".join(tools)
    passing = ", ".join(f"{f.path or 'the output'} (step {f.source + 1}) -> {f.param} (step {f.target + 1})"
                        for f in dataflow)  # fmt: skip
    parts = [f"Runs {steps}" + (f", passing {passing}." if passing else ".")]
    for tool in tools:
        if tool in specs and specs[tool].description.strip():
            parts.append(f"{tool}: {specs[tool].description.strip().rstrip('.')}.")
    fed = {(f.target, f.param) for f in dataflow}
    required: list[str] = []
    for step, tool in enumerate(tools):
        for param in specs[tool].required if tool in specs else []:
            if (step, param) not in fed and param not in required:
                required.append(param)
    if required:
        parts.append(f"Required inputs: {', '.join(required)}.")
    parts.append(f"Seen in {support} successful trajectories.")
    return " ".join(parts)


def save_skills(path: str | Path, skills: Sequence[Skill], source: dict[str, Any]) -> Path:
    """Write the skills file (atomically); `source` records what it was mined from. Returns the path."""
    names = [s.name for s in skills]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate skill names in {names}")
    document = {"version": SKILLS_VERSION, "skills": [s.to_dict() for s in skills], "source": source}
    atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return Path(path)


def load_skills(path: str | Path) -> list[Skill]:
    """The skills of a skills file, in file order; `ValueError` naming file, skill index and field if malformed."""
    skills = []
    for i, record in enumerate(read_skill_records(path)):
        tools = tuple(record["tools"])
        support = record.get("support", 0)
        if isinstance(support, bool) or not isinstance(support, int) or support < 0:
            raise RecordError(str(path), "", f"skills[{i}].support", f"expected a count >= 0, got {support!r}")
        flows = record.get("dataflow", [])
        if not isinstance(flows, list):
            raise RecordError(str(path), "", f"skills[{i}].dataflow", "expected a list of edges", WRONG_TYPE)
        dataflow = tuple(_flow(path, f"skills[{i}].dataflow[{j}]", f, len(tools)) for j, f in enumerate(flows))
        skills.append(Skill(record["name"], tools, dataflow, support, record.get("doc", "")))
    return skills


def _flow(path: str | Path, where: str, record: Any, steps: int) -> Flow:
    if not isinstance(record, dict):
        raise RecordError(str(path), "", where, f"expected a JSON object, got {type(record).__name__}", WRONG_TYPE)
    source, target = record.get("from"), record.get("to")
    for key, value in (("from", source), ("to", target)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < steps:
            raise RecordError(str(path), "", f"{where}.{key}", f"expected a step index in [0, {steps}), got {value!r}")
    if source >= target:
        raise RecordError(str(path), "", f"{where}.from", f"step {source} does not come before step {target}")
    for key in ("path", "param"):
        if not isinstance(record.get(key), str):
            raise RecordError(str(path), "", f"{where}.{key}", f"expected a string, got {record.get(key)!r}")
    if not record["param"]:
        raise RecordError(str(path), "", f"{where}.param", "empty parameter name")
    return Flow(source, record["path"], target, record["param"])
