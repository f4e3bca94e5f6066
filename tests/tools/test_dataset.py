"""Dataset directories: lossless JSONL round trip of every shared benchmark, validation and atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raytool.tools import RecordError, ToolDataset
from raytool.tools.dataset import TASKS_FILE, TOOLS_FILE
from raytool.tools.shared import SHARED_SOURCES, import_shared


@pytest.fixture(scope="module")
def imported(shared_data: Path) -> dict[str, ToolDataset]:
    return import_shared(shared_data, log=lambda _: None)


@pytest.mark.parametrize("name", list(SHARED_SOURCES))
def test_round_trip_is_lossless(imported: dict[str, ToolDataset], name: str, tmp_path: Path) -> None:
    original = imported[name]
    loaded = ToolDataset.load(original.save(tmp_path / name))
    assert loaded.tools == original.tools
    assert loaded.tasks == original.tasks
    assert loaded.report.notes == original.report.notes
    assert loaded.info["format"] == original.info["format"]


def _small(tmp_path: Path, imported: dict[str, ToolDataset]) -> Path:
    ds = imported["toolalpaca"]
    return ToolDataset(ds.tools, ds.tasks[:5], ds.info).save(tmp_path / "small")


def test_load_names_file_line_and_field(tmp_path: Path, imported: dict[str, ToolDataset]) -> None:
    out = _small(tmp_path, imported)
    lines = (out / TASKS_FILE).read_text().splitlines()
    record = json.loads(lines[2])
    record["calls"][0]["name"] = "no_such_tool"
    lines[2] = json.dumps(record)
    (out / TASKS_FILE).write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordError) as info:
        ToolDataset.load(out)
    assert str(info.value).startswith(f"{out / TASKS_FILE}:line 3: field 'calls[0].name': unknown tool")


def test_load_rejects_duplicate_tool(tmp_path: Path, imported: dict[str, ToolDataset]) -> None:
    out = _small(tmp_path, imported)
    first = (out / TOOLS_FILE).read_text().splitlines()[0]
    with (out / TOOLS_FILE).open("a") as fh:
        fh.write(first + "\n")
    with pytest.raises(RecordError, match=r"tools.jsonl:line \d+: field 'name': duplicate tool"):
        ToolDataset.load(out)


def test_failed_save_keeps_previous_output(tmp_path: Path, imported: dict[str, ToolDataset]) -> None:
    out = _small(tmp_path, imported)
    before = (out / TASKS_FILE).read_bytes()

    broken = ToolDataset(imported["toolalpaca"].tools, [object()], {})  # type: ignore[list-item]
    with pytest.raises(AttributeError):
        broken.save(out)
    assert (out / TASKS_FILE).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small"]
