"""`distill synth`: records and summary, resumption, the prompt cache, and kill -9 safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from raytool.distill.shards import read_shards
from raytool.distill.synth import SynthConfig, synthesize
from raytool.tools.dataset import ToolDataset
from raytool.tools.importers import import_dataset
from tests.distill.fake_teacher import FakeTeacher


@pytest.fixture(scope="module")
def seal(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = import_dataset("seal_tools", shared_data / "seal_tools" / "dev.jsonl")
    data.tasks = data.tasks[195:207]  # easy and difficult tasks
    return data.save(tmp_path_factory.mktemp("seal") / "dev12")


def _quiet(_: str) -> None:
    pass


def test_records_and_summary(seal: Path, tmp_path: Path) -> None:
    summary = synthesize(ToolDataset.load(seal), tmp_path / "out", FakeTeacher(), SynthConfig(shard_size=5), _quiet)
    records = read_shards(tmp_path / "out")
    assert len(records) == 12 == summary["tasks"]
    assert sorted(p.name for p in (tmp_path / "out" / "shards").iterdir()) == [f"shard-0000{i}.jsonl" for i in range(3)]
    for r in records:
        assert set(r["gold"]) <= set(r["candidates"]) and len(r["candidates"]) == 8
        assert r["selection_ok"] and r["teacher_tools"] == r["candidates"][:1]  # the fake names the first listed tool
        assert r["gold_rationale"] == "it fits the request"
    assert summary["selection_parse_failure_rate"] == 0.0
    # one named tool per task: precision is the share of tasks whose first listed candidate is a gold tool
    assert summary["tool_precision"] == pytest.approx(sum(r["candidates"][0] in r["gold"] for r in records) / 12)
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["tasks"] == 12


def test_resume_after_a_crash_reuses_shards_and_cache(seal: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="teacher died"):
        synthesize(ToolDataset.load(seal), out, FakeTeacher(fail_after=6), SynthConfig(shard_size=5), _quiet)
    done = sorted(p.name for p in (out / "shards").glob("shard-*.jsonl"))
    assert done == ["shard-00000.jsonl"]
    logs: list[str] = []
    teacher = FakeTeacher()
    summary = synthesize(ToolDataset.load(seal), out, teacher, SynthConfig(shard_size=5), logs.append)
    assert "[distill] resuming: 1/3 shards already done" in logs
    assert summary["tasks"] == 12 and summary["cache_hits"] > 0  # prompts of the interrupted shard were cached
    with pytest.raises(ValueError, match="different shard_size"):
        synthesize(ToolDataset.load(seal), out, FakeTeacher(), SynthConfig(shard_size=4), _quiet)


KILL_SCRIPT = """
import sys
from pathlib import Path
from raytool.distill.synth import SynthConfig, synthesize
from raytool.tools.dataset import ToolDataset
from tests.distill.fake_teacher import FakeTeacher
synthesize(ToolDataset.load(sys.argv[1]), Path(sys.argv[2]), FakeTeacher(delay_s=0.15), SynthConfig(shard_size=2))
"""


def test_kill_9_loses_only_shards_in_flight(seal: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(seal), str(out)], cwd=root, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((out / "shards").glob("shard-*.jsonl"))) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = sorted((out / "shards").glob("shard-*.jsonl"))
    assert 2 <= len(finished) < 6
    for path in finished:  # every shard on disk is whole
        lines = path.read_text().splitlines()
        assert len(lines) == 2 and all(json.loads(line)["task_id"] for line in lines)
    logs: list[str] = []
    summary = synthesize(ToolDataset.load(seal), out, FakeTeacher(), SynthConfig(shard_size=2), logs.append)
    assert f"[distill] resuming: {len(finished)}/6 shards already done" in logs
    assert summary["tasks"] == 12
    assert len({r["task_id"] for r in read_shards(out)}) == 12


@pytest.mark.ray
def test_synth_with_the_real_teacher_on_vllm(vllm_teacher, seal: Path, tmp_path: Path) -> None:
    summary = synthesize(
        ToolDataset.load(seal), tmp_path / "out", vllm_teacher, SynthConfig(shard_size=6, limit=6), _quiet
    )
    records = read_shards(tmp_path / "out")
    tools = ToolDataset.load(seal).tools
    assert summary["tasks"] == 6 == len(records)
    for r in records:
        assert r["teacher_tools"] and set(r["teacher_tools"]) <= set(r["candidates"])  # parsed or likelihood fallback
        assert (r["fallback"] is None) == r["selection_ok"]
        assert isinstance(r["gold_rationale"], str)
        assert [c["name"] for c in r["teacher_calls"]] == r["teacher_tools"]  # the real teacher wrote arguments
        for call in r["teacher_calls"]:  # kept: the tool's own parameters, strings the request states
            assert set(call["arguments"]) <= set(tools[call["name"]].properties)
            assert all(v.lower() in r["query"].lower() for v in call["arguments"].values() if isinstance(v, str))
    assert summary["selection_parse_failure_rate"] == pytest.approx(sum(not r["selection_ok"] for r in records) / 6)
    assert summary["argument_calls"] >= 6
