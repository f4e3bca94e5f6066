"""Malformed input stops an import with file, line/index and field named, and leaves no output behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raytool.cli import main

TOOL = {
    "api_name": "getWeather", "api_description": "Weather for a city", "field": "Travel/Weather",
    "parameters": {"city": {"type": "str", "description": "city"}}, "required": ["city"],
    "responses": {"temp": {"type": "float", "description": "temperature"}},
}  # fmt: skip
GOOD = {"id": "dev-easy-0", "query": "Weather in Paris?", "calling": [
    {"api": "getWeather", "parameters": {"city": "Paris"}, "responses": ["API_call_0"]}]}  # fmt: skip


def _seal(tmp_path: Path, third_line: bytes) -> tuple[Path, Path]:
    (tmp_path / "tool.jsonl").write_text(json.dumps(TOOL) + "\n")
    good = json.dumps(GOOD).encode()
    src = tmp_path / "tasks.jsonl"
    src.write_bytes(good + b"\n" + good.replace(b"easy-0", b"easy-1") + b"\n" + third_line + b"\n")
    return src, tmp_path / "out"


def _bad(field_change: dict) -> bytes:
    record = json.loads(json.dumps(GOOD).replace("easy-0", "easy-2"))
    for key, value in field_change.items():
        if value is None:
            del record[key]
        else:
            record[key] = value
    return json.dumps(record).encode()


CASES = {
    "truncated_json": (json.dumps(GOOD).encode()[:40], "line 3: malformed JSON"),
    "wrong_type": (_bad({"query": 42}), "line 3: field 'query': expected str, got int"),
    "missing_field": (_bad({"calling": None}), "line 3: field 'calling': missing"),
    "bad_encoding": (b'{"id": "x", "query": "caf\xe9"}', "line 3: invalid UTF-8"),
    "unknown_tool": (
        _bad({"calling": [{"api": "getWether", "parameters": {}, "responses": []}]}),
        "line 3: field 'calling[0].api': unknown tool 'getWether'",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_record_stops_import(tmp_path: Path, case: str, capsys: pytest.CaptureFixture) -> None:
    line, expected = CASES[case]
    src, out = _seal(tmp_path, line)
    code = main(["data", "import", "--format", "seal_tools", "--src", str(src), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{src}:{expected}" in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tasks.jsonl", "tool.jsonl"]


@pytest.mark.parametrize("case", list(CASES))
def test_skip_bad_counts_by_reason(tmp_path: Path, case: str, capsys: pytest.CaptureFixture) -> None:
    line, _ = CASES[case]
    src, out = _seal(tmp_path, line)
    code = main(["data", "import", "--format", "seal_tools", "--src", str(src), "--out", str(out), "--skip-bad"])
    printed = capsys.readouterr().out
    assert code == 0
    assert f"skipped by reason: {case} 1" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["num_tasks"] == 2 and manifest["report"]["skipped"] == {case: 1}


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src, out = _seal(tmp_path, b"")
    src.write_bytes(b"\n  \n")
    assert main(["data", "import", "--format", "seal_tools", "--src", str(src), "--out", str(out)]) == 2
    assert f"{src}: file is empty" in capsys.readouterr().err
    assert not out.exists()


def test_failed_reimport_keeps_previous_output(tmp_path: Path) -> None:
    src, out = _seal(tmp_path, _bad({}))
    assert main(["data", "import", "--format", "seal_tools", "--src", str(src), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _seal(tmp_path, _bad({"query": 1}))
    assert main(["data", "import", "--format", "seal_tools", "--src", str(src), "--out", str(out)]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_toolbench_json_errors_name_index(tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture) -> None:
    queries = json.loads((shared_data / "stabletoolbench/G1_instruction.json").read_text())[:3]
    queries[1]["relevant APIs"][0] = ["TheClique", "No such API"]
    src = tmp_path / "g1.json"
    src.write_text(json.dumps(queries, indent=1))
    assert main(["data", "import", "--format", "toolbench", "--src", str(src), "--out", str(tmp_path / "o")]) == 2
    assert f"{src}:index 1: field 'relevant APIs[0]':" in capsys.readouterr().err
    src.write_text(json.dumps(queries, indent=1)[:-200])
    assert main(["data", "import", "--format", "toolbench", "--src", str(src), "--out", str(tmp_path / "o")]) == 2
    assert f"{src}:line " in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_metatool_unknown_tool_names_csv_line(tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture) -> None:
    src = tmp_path / "rows.csv"
    src.write_text("Query,Tool\nWhat is the weather?,WeatherTool\nBuy me a car,NoSuchTool\n")
    tools = str(shared_data / "metatool")
    assert (
        main(
            [
                "data",
                "import",
                "--format",
                "metatool",
                "--src",
                str(src),
                "--tools",
                tools,
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert f"{src}:line 3: field 'Tool': unknown tool 'NoSuchTool'" in capsys.readouterr().err


def test_toolalpaca_unknown_action_names_instruction(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture
) -> None:
    apis = json.loads((shared_data / "toolalpaca/eval_simulated.json").read_text())[:2]
    apis[1]["Golden_Answers"][2][0]["Action"] = "launchRocket"
    src = tmp_path / "alpaca.json"
    src.write_text(json.dumps(apis))
    assert main(["data", "import", "--format", "toolalpaca", "--src", str(src), "--out", str(tmp_path / "o")]) == 2
    assert (
        f"{src}:index 1, instruction 2: field 'Golden_Answers[0].Action': unknown tool 'launchRocket'"
        in capsys.readouterr().err
    )
