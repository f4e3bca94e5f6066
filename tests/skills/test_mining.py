"""Skill mining: data flow makes a skill, support counts trajectories, pruning and order are exact, docs are
generated from the specs, bad input names its place, and the skills file round-trips into the env's macros."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.macros import load_macros
from raytool.skills.library import Flow, load_skills, save_skills
from raytool.skills.mining import decision_savings, mine_command, mine_skills
from raytool.skills.trajectories import Trajectory, TrajectoryCall, load_trajectories, valid_calls
from raytool.tools.call import result_ref
from raytool.tools.spec import ToolSpec


def _traj(*calls: tuple, success: bool = True, task_id: str = "t") -> Trajectory:
    """calls: (name, arguments) or (name, arguments, status); an argument `("ref", i, path)` is a reference."""
    made = []
    for call in calls:
        name, arguments, status = (*call, "valid") if len(call) == 2 else call
        arguments = {k: result_ref(v[1], v[2]) if isinstance(v, tuple) else v for k, v in arguments.items()}
        made.append(TrajectoryCall(name, arguments, status))
    return Trajectory(task_id, success, "decider", tuple(made))


QUOTE = ("quote", {"flight_id": "F1"})
BOOK = ("book", {"fare_id": ("ref", 0, "fare_id"), "traveller_id": "tr-1"})
BAGS = ("bags", {"booking_id": ("ref", 1, "booking_id"), "bags": 2})
WEATHER, NEWS = ("weather", {"city": "ZRH"}), ("news", {"topic": "rail"})  # always together, never linked


def _names(skills) -> list[str]:
    return [s.name for s in skills]


def test_data_flow_makes_a_skill_not_frequency() -> None:
    trajectories = [_traj(QUOTE, BOOK, WEATHER, NEWS) for _ in range(4)]
    skills = mine_skills(trajectories, min_support=3)
    assert _names(skills) == ["skill:quote>book"]
    assert skills[0].dataflow == (Flow(0, "fare_id", 1, "fare_id"),) and skills[0].support == 4


def test_support_counts_trajectories_and_ignores_failures() -> None:
    twice = _traj(QUOTE, BOOK, ("quote", {"flight_id": "F2"}), ("book", {"fare_id": ("ref", 2, "fare_id")}))
    trajectories = [twice, _traj(QUOTE, BOOK)] + [_traj(QUOTE, BOOK, success=False) for _ in range(3)]
    assert mine_skills(trajectories, min_support=3) == []  # 2 successful trajectories, however many occurrences
    (skill,) = mine_skills(trajectories, min_support=2)
    assert skill.support == 2


def test_min_support_is_a_threshold() -> None:
    trajectories = [_traj(QUOTE, BOOK) for _ in range(3)]
    assert [s.support for s in mine_skills(trajectories, min_support=3)] == [3]
    assert mine_skills(trajectories, min_support=4) == []
    with pytest.raises(ValueError, match="min_support >= 1"):
        mine_skills(trajectories, min_support=0)


def test_invalid_calls_are_dropped_and_references_renumbered() -> None:
    noisy = _traj(QUOTE, ("book", {"fare_id": "nope"}, "invalid"), ("book", {"fare_id": "x"}, "malformed"),
                  ("book", {"fare_id": ("ref", 0, "fare_id")}), ("bags", {"booking_id": ("ref", 3, "booking_id")}),
                  ("notify", {"ref": ("ref", 1, "")}))  # fmt: skip
    calls = valid_calls(noisy)
    assert [c.name for c in calls] == ["quote", "book", "bags", "notify"]
    assert calls[2].arguments["booking_id"] == result_ref(1, "booking_id")  # was call 3, now call 1
    assert calls[3].arguments["ref"] is None  # it pointed at the dropped invalid call
    (skill,) = mine_skills([noisy] * 3, min_support=3)
    assert skill.tools == ("quote", "book", "bags")
    assert skill.dataflow == (Flow(0, "fare_id", 1, "fare_id"), Flow(1, "booking_id", 2, "booking_id"))


def test_data_flow_must_stay_inside_the_skill() -> None:
    # bags reads the quote, not the booking: quote>book>bags is a skill, book>bags (no link inside) is not
    late = ("bags", {"booking_id": ("ref", 0, "fare_id")})
    assert _names(mine_skills([_traj(QUOTE, BOOK, late)] * 3, min_support=3)) == ["skill:quote>book>bags"]


def test_parts_of_a_longer_skill_with_the_same_support_are_pruned() -> None:
    trajectories = [_traj(QUOTE, BOOK, BAGS) for _ in range(3)] + [_traj(QUOTE, BOOK) for _ in range(2)]
    skills = mine_skills(trajectories, min_support=3)
    # book>bags only ever occurs inside quote>book>bags; quote>book also occurs alone, so it stays
    assert _names(skills) == ["skill:quote>book", "skill:quote>book>bags"]
    assert [s.support for s in skills] == [5, 3]
    assert _names(mine_skills(trajectories, min_support=3, max_len=2)) == ["skill:quote>book", "skill:book>bags"]
    assert _names(mine_skills(trajectories, min_support=3, max_skills=1)) == ["skill:quote>book>bags"]  # longer first


def test_mining_is_deterministic() -> None:
    hotel, car = ("hotel", {"city": "ZRH"}), ("car", {"traveller_id": ("ref", 0, "traveller_id")})
    trajectories = [_traj(QUOTE, BOOK, BAGS)] * 3 + [_traj(hotel, car)] * 3 + [_traj(QUOTE, BOOK)] * 4
    trajectories += [_traj(car, hotel, QUOTE, BOOK, success=False)] * 5
    expected = mine_skills(trajectories, min_support=3)
    assert _names(expected) == ["skill:quote>book", "skill:quote>book>bags", "skill:hotel>car"]
    for seed in range(5):
        shuffled = list(trajectories)
        random.Random(seed).shuffle(shuffled)
        assert mine_skills(shuffled, min_support=3) == expected


def test_docs_name_the_tools_and_the_data_flow() -> None:
    def spec(name: str, description: str, required: list[str]) -> ToolSpec:
        props = {p: {"type": "string"} for p in required}
        return ToolSpec(name, description, {"type": "object", "properties": props, "required": required})

    specs = {
        "quote": spec("quote", "Quote the fare of a seat on a flight.", ["flight_id"]),
        "book": spec("book", "Book a seat at a quoted fare", ["fare_id", "traveller_id"]),
    }
    (skill,) = mine_skills([_traj(QUOTE, BOOK)] * 3, specs, min_support=3)
    assert skill.doc == (
        "Runs quote, then book, passing fare_id (step 1) -> fare_id (step 2). "
        "quote: Quote the fare of a seat on a flight. book: Book a seat at a quoted fare. "
        "Required inputs: flight_id, traveller_id. Seen in 3 successful trajectories."
    )
    (bare,) = mine_skills([_traj(QUOTE, BOOK)] * 3, None, min_support=3)  # no specs: tools and flow only
    assert bare.doc.startswith("Runs quote, then book, passing fare_id (step 1)") and "Required" not in bare.doc


def _write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def _record(calls: list[dict[str, Any]], success: bool = True) -> dict[str, Any]:
    return {"task_id": "t1", "success": success, "source": "react", "calls": calls}


def test_bad_trajectory_lines_name_file_line_and_field(tmp_path: Path) -> None:
    good = _record([{"name": "quote", "arguments": {}, "status": "valid"}])
    cases = [
        ({"task_id": "t1", "calls": []}, "field 'success': missing"),
        (_record([{"name": "quote", "arguments": {}, "status": "ok"}]), "field 'calls\\[0\\].status': expected one of"),
        (_record([{"name": "a", "arguments": {}, "status": "valid"},
                  {"name": "b", "arguments": {"x": [{"$ref": 1}]}, "status": "valid"}]),
         "field 'calls\\[1\\].arguments.x.\\$ref': expected the index of one of the 1 earlier calls"),
        (_record([{"name": "", "arguments": {}, "status": "valid"}]), "field 'calls\\[0\\].name'"),
        ("{not json", "malformed JSON"),
    ]  # fmt: skip
    for bad, message in cases:
        path = _write_jsonl(tmp_path / "runs.jsonl", [good, good, bad])
        with pytest.raises(ValueError, match=f"runs.jsonl:line 3: {message}"):
            load_trajectories([path])
    path = _write_jsonl(tmp_path / "ok.jsonl", [good, _record([], success=False)])
    assert [t.success for t in load_trajectories([path])] == [True, False]


def test_skills_file_round_trips_into_the_env_macros(tmp_path: Path) -> None:
    trajectories = [_traj(QUOTE, BOOK, BAGS) for _ in range(3)] + [_traj(QUOTE, BOOK) for _ in range(2)]
    skills = mine_skills(trajectories, min_support=3)
    path = save_skills(tmp_path / "skills.json", skills, {"trajectories": ["x.jsonl"]})
    assert load_skills(path) == skills
    assert [(m.name, m.tools, m.doc) for m in load_macros(path)] == [(s.name, s.tools, s.doc) for s in skills]
    document = json.loads(path.read_text())
    document["skills"][1]["dataflow"][0]["from"] = 2
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=r"skills\[1\]\.dataflow\[0\]\.from': step 2 does not come before step 1"):
        load_skills(path)


def test_decision_savings_uses_the_longest_skill_first() -> None:
    trajectories = [_traj(QUOTE, BOOK, BAGS), _traj(QUOTE, BOOK), _traj(BAGS), _traj(QUOTE, BOOK, success=False)]
    skills = mine_skills([_traj(QUOTE, BOOK, BAGS)] * 3 + [_traj(QUOTE, BOOK)] * 3, min_support=3)
    savings = decision_savings(trajectories, skills)
    assert savings["trajectories"] == 3 and savings["mean_calls"] == 2.0
    assert savings["mean_decisions"] == 1.0 and savings["saved_share"] == pytest.approx(0.5)
    assert savings["uses"] == {"skill:quote>book": 1, "skill:quote>book>bags": 1}


def test_mine_command_writes_a_skills_file_with_tool_docs(tmp_path: Path) -> None:
    data = build_tasks(BuildConfig(("travel",), 2, 8, seed=2, integration_walks=0), log=lambda _: None)
    data.save(tmp_path / "tasks")
    records = [
        {"task_id": t.id, "success": i % 4 != 3, "source": "oracle",
         "calls": [{"name": c.name, "arguments": c.arguments, "status": "valid"} for c in t.calls]}
        for i, t in enumerate(data.tasks)
    ]  # fmt: skip
    runs = _write_jsonl(tmp_path / "runs.jsonl", records)
    summary = mine_command([runs], tmp_path / "tasks", tmp_path / "skills.json", min_support=2, max_len=3)
    assert summary["trajectories"] == 8 and summary["successful"] == 6 and summary["success_share"] == 0.75
    assert summary["skills"] == len(summary["names"]) >= 1 and "skill:quote_flight_fare>book_flight" in summary["names"]
    assert summary["savings"]["mean_decisions"] < summary["savings"]["mean_calls"]
    skills = {s.name: s for s in load_skills(tmp_path / "skills.json")}
    doc = skills["skill:quote_flight_fare>book_flight"].doc
    assert data.tools["quote_flight_fare"].description.rstrip(".") in doc and "fare_id (step 1) -> fare_id" in doc
    assert json.loads((tmp_path / "skills.json").read_text())["source"]["min_support"] == 2
