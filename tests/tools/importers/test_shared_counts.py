"""Every shared benchmark file imports with the counts its upstream documents, plus spot checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytool.tools.call import REF_KEY
from raytool.tools.importers import import_dataset


def _load(shared: Path, fmt: str, rel: str):
    return import_dataset(fmt, shared / rel)


@pytest.mark.parametrize("split", ["dev.jsonl", "test_in_domain.jsonl"])
def test_seal_tools_counts(shared_data: Path, split: str) -> None:
    ds = _load(shared_data, "seal_tools", f"seal_tools/{split}")
    assert len(ds.tools) == 4076
    assert len(ds.tasks) == 700
    assert {t.difficulty for t in ds.tasks} == {"easy", "difficult"}
    assert sum(t.difficulty == "easy" for t in ds.tasks) == 200
    assert all(t.tools == () for t in ds.tasks)  # the whole catalogue is the pool


def test_seal_tools_result_reference(shared_data: Path) -> None:
    ds = _load(shared_data, "seal_tools", "seal_tools/dev.jsonl")
    task = next(t for t in ds.tasks if t.id == "dev-difficult-200")
    # upstream: getAvailableResources(location="API_call_1"), and API_call_1 is searchCrop's first response
    last = task.calls[2]
    assert last.name == "getAvailableResources"
    assert last.arguments["location"] == {REF_KEY: 1, "path": "crop_info"}
    assert last.depends_on == (1,)
    assert list(ds.tools["searchCrop"].returns["properties"])[0] == "crop_info"
    refs_to_call_0 = [
        t
        for t in ds.tasks
        for c in t.calls
        if c.arguments and any(isinstance(v, dict) and v.get(REF_KEY) == 0 for v in c.arguments.values())
    ]
    assert refs_to_call_0, "some Seal-Tools task has a later call consuming API_call_0"
    assert ds.tools["analyzeEvidence"].parameters["properties"]["evidence_type"]["type"] == "string"
    assert ds.tools["analyzeEvidence"].domain == "Chemical Engineering/Forensic engineering"


def test_metatool_single_counts_and_resolution(shared_data: Path) -> None:
    ds = _load(shared_data, "metatool", "metatool/all_clean_data.dev.csv")
    assert len(ds.tasks) == 16491
    used = {t.calls[0].name for t in ds.tasks}
    assert len(used) == 199
    assert all(ds.tools[name].description.strip() for name in used)
    rules = ds.report.notes["name_resolution"]
    assert sum(rules.values()) == 199
    assert rules == {"merged_tool": 47, "plugin_model_name": 152}


def test_metatool_multi_counts(shared_data: Path) -> None:
    ds = _load(shared_data, "metatool", "metatool/multi_tool_query_golden.dev.json")
    assert len(ds.tasks) == 248
    assert all(len(t.calls) == 2 and not t.ordered for t in ds.tasks)
    assert all(c.arguments is None for t in ds.tasks for c in t.calls)


def test_toolalpaca_counts_and_conventions(shared_data: Path) -> None:
    ds = _load(shared_data, "toolalpaca", "toolalpaca/eval_simulated.json")
    assert len(ds.tasks) == 100
    assert len({t.tools for t in ds.tasks}) == 10  # one candidate list per API
    task = next(t for t in ds.tasks if t.id == "toolalpaca-aniapi-0")
    assert task.calls[1].arguments == {"animeId": {REF_KEY: 0, "path": "animeId"}}
    notes = ds.report.notes["toolalpaca_conventions"]
    assert notes["ask_user_steps"] == 8 and notes["optional_steps"] == 1
    assert "getDetails" not in ds.tools


def test_toolbench_counts(shared_data: Path) -> None:
    ds = _load(shared_data, "toolbench", "stabletoolbench/G1_instruction.json")
    assert len(ds.tasks) == 163
    first = next(t for t in ds.tasks if t.id == "toolbench-588")
    assert [c.name for c in first.calls] == [
        "transfermarkt_search_for_theclique",
        "transfermarkt_details_for_theclique",
    ]
    assert set(first.tool_names) <= set(first.tools)
    spec = ds.tools["transfermarkt_search_for_theclique"]
    assert spec.required == ["name"] and spec.parameters["properties"]["name"]["default"] == "messi"
    assert ds.report.notes["toolbench"]["conflicting_definitions"] == 10
