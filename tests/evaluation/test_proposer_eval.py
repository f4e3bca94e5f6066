"""`raytool proposer train` and `raytool eval proposer` end to end (in-process CLI) on every supported format,
with one tiny checkpoint trained by the CLI and shared by the module."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from raytool.cli import main
from raytool.evaluation.proposer import load_eval_data
from raytool.proposer.proposer import ToolProposer
from raytool.tools.dataset import ToolDataset
from tests.proposer.catalogue import catalogue, tasks

TRAIN_SET = ["max_steps=1", "epochs=1", "batch_size=4", "threads=1", "hard_negatives=1", "train_layers=1"]


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Index vectors are cached under $RAYTOOL_CACHE: keep them out of the user's cache."""
    monkeypatch.setenv("RAYTOOL_CACHE", str(tmp_path / "cache"))
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ToolDataset(catalogue(), tasks(), {"format": "handmade"}).save(tmp_path_factory.mktemp("data") / "tiny")


@pytest.fixture(scope="module")
def checkpoint(dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("ckpt") / "proposer"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAYTOOL_CACHE", str(tmp_path_factory.mktemp("cache")))
        code = main(["proposer", "train", "--data", str(dataset_dir), "--format", "raytool", "--out", str(out),
                     "--set", *TRAIN_SET])  # fmt: skip
    assert code == 0
    return out


def _eval(capsys: pytest.CaptureFixture, checkpoint: Path, *args: str) -> dict[str, Any]:
    capsys.readouterr()
    code = main(["eval", "proposer", "--checkpoint", str(checkpoint), "--json", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _check(result: dict[str, Any], methods: set[str], ks: list[int], tasks_expected: int) -> None:
    assert set(result["methods"]) == methods
    assert result["ks"] == ks and result["tasks"] == tasks_expected
    for name, row in result["methods"].items():
        for k in ks:
            assert 0.0 <= row[f"recall@{k}"] <= 1.0, name
            assert 0.0 <= row[f"complete@{k}"] <= 1.0, name
            assert row[f"complete@{k}"] <= row[f"recall@{k}"] + 1e-9, name
        assert row["seconds"] >= 0 and row["queries_per_s"] > 0
        if len(ks) > 1:  # deeper cut-offs never find fewer gold tools
            assert row[f"recall@{ks[0]}"] <= row[f"recall@{ks[-1]}"]


def _check_proposer_row(result: dict[str, Any], checkpoint: Path, dataset: ToolDataset) -> None:
    """The command's proposer figures equal a direct recount: the checkpoint ranks the same tasks over their pools
    (the whole catalogue without one), and recall / complete are counted here, by hand."""
    proposer = ToolProposer.load(checkpoint, threads=1)
    pooled = all(t.tools for t in dataset.tasks)
    names = list(dict.fromkeys(n for t in dataset.tasks for n in t.tools)) if pooled else list(dataset.tools)
    index = proposer.index([dataset.tools[n] for n in names])
    ranked = [p.names for p in proposer.rank([t.query for t in dataset.tasks], index, max(result["ks"]),
                                             pools=[t.tools for t in dataset.tasks])]  # fmt: skip
    for k in result["ks"]:
        found = total = complete = 0
        for top, task in zip(ranked, dataset.tasks, strict=True):
            gold = set(task.tool_names)
            found += len(gold & set(top[:k]))
            total += len(gold)
            complete += gold <= set(top[:k])
        row = result["methods"]["proposer"]
        assert row[f"recall@{k}"] == pytest.approx(found / total), k
        assert row[f"complete@{k}"] == pytest.approx(complete / len(dataset.tasks)), k


def test_train_command_writes_a_loadable_checkpoint(checkpoint: Path, capsys: pytest.CaptureFixture) -> None:
    proposer = ToolProposer.load(checkpoint, threads=1)
    assert proposer.config.max_steps == 1 and proposer.config.train_layers == 1 and proposer.config.batch_size == 4
    assert proposer.model.rationale is None  # alpha defaults to 0: no rationale head
    index = proposer.index(list(catalogue().values()))
    proposal = proposer.propose("Convert 100 dollars to euros.", index, k=3)
    assert len(proposal.names) == 3 and set(proposal.names) <= set(catalogue())


def test_eval_raytool_dataset_with_all_default_baselines(
    checkpoint: Path, dataset_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    result = _eval(capsys, checkpoint, "--data", str(dataset_dir), "--format", "raytool", "--k", "1,3", "--limit", "4")
    _check(result, {"proposer", "bm25", "minilm_zero_shot", "bm25_segmented"}, [1, 3], 4)
    loaded = ToolDataset.load(dataset_dir)
    _check_proposer_row(result, checkpoint, ToolDataset(loaded.tools, loaded.tasks[:4], loaded.info))
    assert result["tools"] == len(catalogue()) and result["format"] == "raytool"
    assert result["checkpoint"] == str(checkpoint)


def test_eval_table_output(checkpoint: Path, dataset_dir: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["eval", "proposer", "--checkpoint", str(checkpoint), "--data", str(dataset_dir), "--format",
                 "raytool", "--k", "2", "--baselines", "bm25"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "Recall@2" in out and "Complete@2" in out and "| proposer" in out and "| bm25" in out
    assert f"{len(tasks())} tasks" in out


def test_eval_seal_tools_with_a_tool_file(
    checkpoint: Path, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    seal = shared_data / "seal_tools"
    records = [json.loads(line) for line in (seal / "dev.jsonl").read_text().splitlines()[:3]]
    needed = {call["api"] for r in records for call in r["calling"]}
    tool_lines = (seal / "tool.jsonl").read_text().splitlines()
    picked = [line for i, line in enumerate(tool_lines) if i < 8 or json.loads(line)["api_name"] in needed]
    assert needed <= {json.loads(line)["api_name"] for line in picked}
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "tools.jsonl").write_text("\n".join(picked) + "\n")
    result = _eval(capsys, checkpoint, "--data", str(tmp_path / "tasks.jsonl"), "--format", "seal_tools",
                   "--tools", str(tmp_path / "tools.jsonl"), "--baselines", "bm25", "--k", "1,5")  # fmt: skip
    _check(result, {"proposer", "bm25"}, [1, 5], 3)
    assert result["tools"] == len(picked)


def test_eval_metatool(checkpoint: Path, shared_data: Path, capsys: pytest.CaptureFixture) -> None:
    src = shared_data / "metatool" / "multi_tool_query_golden.dev.json"  # tool descriptions sit beside it
    result = _eval(capsys, checkpoint, "--data", str(src), "--format", "metatool", "--limit", "3",
                   "--baselines", "bm25", "--k", "2,5")  # fmt: skip
    _check(result, {"proposer", "bm25"}, [2, 5], 3)


def test_eval_toolalpaca(checkpoint: Path, shared_data: Path, capsys: pytest.CaptureFixture) -> None:
    src = shared_data / "toolalpaca" / "eval_simulated.json"
    result = _eval(capsys, checkpoint, "--data", str(src), "--format", "toolalpaca", "--limit", "3",
                   "--baselines", "bm25,bm25_segmented", "--k", "1,3")  # fmt: skip
    _check(result, {"proposer", "bm25", "bm25_segmented"}, [1, 3], 3)


def test_eval_toolbench(checkpoint: Path, shared_data: Path, capsys: pytest.CaptureFixture) -> None:
    src = shared_data / "stabletoolbench" / "G1_instruction.json"
    result = _eval(capsys, checkpoint, "--data", str(src), "--format", "toolbench", "--limit", "2",
                   "--baselines", "bm25", "--k", "1,5")  # fmt: skip
    _check(result, {"proposer", "bm25"}, [1, 5], 2)
    _check_proposer_row(result, checkpoint, load_eval_data(src, "toolbench", limit=2))  # candidate-list pools


def test_eval_without_baselines(checkpoint: Path, dataset_dir: Path, capsys: pytest.CaptureFixture) -> None:
    result = _eval(capsys, checkpoint, "--data", str(dataset_dir), "--format", "raytool", "--baselines", "",
                   "--k", "5")  # fmt: skip
    _check(result, {"proposer"}, [5], len(tasks()))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--k", "0"], "--k must be positive integers"),
        (["--k", "x"], "'x'"),
        (["--k", ","], "--k must be positive integers"),
        (["--baselines", "bm25,oracle"], "unknown baseline 'oracle'"),
    ],
)
def test_eval_bad_arguments_exit_2_with_a_message(
    checkpoint: Path, dataset_dir: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    capsys.readouterr()
    code = main(["eval", "proposer", "--checkpoint", str(checkpoint), "--data", str(dataset_dir), "--format",
                 "raytool", *args])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert message in err


@pytest.mark.parametrize(
    ("setting", "message"),
    [("max_steps", "--set: expects KEY=VALUE"), ("bogus=1", "--set: proposer: unknown key 'bogus'"),
     ("alpha=-1", "--set: proposer: alpha must be >= 0")]
)  # fmt: skip
def test_train_bad_settings_exit_2(
    dataset_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, setting: str, message: str
) -> None:
    code = main(["proposer", "train", "--data", str(dataset_dir), "--out", str(tmp_path / "o"), "--set", setting])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_eval_missing_checkpoint_exits_2(dataset_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["eval", "proposer", "--checkpoint", str(tmp_path / "nope"), "--data", str(dataset_dir),
                 "--format", "raytool"])  # fmt: skip
    assert code == 2
    assert "not a proposer checkpoint (missing model.safetensors)" in capsys.readouterr().err
