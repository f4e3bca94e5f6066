"""Users' catalogues (OpenAI tools, MCP tools/list, OpenAPI) import as tool-only datasets; quirks are counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raytool.cli import main
from raytool.tools.dataset import ToolDataset
from raytool.tools.errors import RecordError
from raytool.tools.importers import import_dataset
from raytool.tools.importers.base import ORIGINAL_TYPE, QUIRKS

PETSTORE = """
openapi: 3.0.3
info: {title: Petstore, version: 1.0.0}
paths:
  /pets:
    get:
      summary: List all pets
      parameters:
        - {name: limit, in: query, required: false, schema: {type: integer, maximum: 100}}
      responses:
        "200":
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}
    post:
      summary: Create a pet
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/NewPet"}
      responses:
        "201": {description: created}
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, schema: {type: string}, description: The pet's id}
    get:
      tags: [pets]
      description: Info for a specific pet
      parameters:
        - {name: X-Trace, in: header, schema: {type: [string, "null"]}}
      responses:
        default:
          content:
            application/json: {schema: {$ref: "#/components/schemas/Pet"}}
    delete:
      operationId: deletePet
      summary: Delete a pet
      responses: {"204": {description: gone}}
components:
  schemas:
    NewPet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        tag: {type: string}
        owner: {$ref: "#/components/schemas/Owner"}
    Pet:
      allOf: [{$ref: "#/components/schemas/NewPet"}]
    Owner:
      type: object
      properties:
        name: {type: string}
        pets: {type: array, items: {$ref: "#/components/schemas/Owner"}}
"""

MCP_ANSWER = {
    "jsonrpc": "2.0",
    "id": 1,
    "result": {
        "tools": [
            {
                "name": "get_weather",
                "title": "Weather",
                "description": "Current weather for a location",
                "inputSchema": {
                    "type": "object",
                    "properties": {"location": {"type": "string", "description": "City name or zip code"}},
                    "required": ["location"],
                },
                "outputSchema": {"type": "object", "properties": {"temperature": {"type": "number"}}},
                "annotations": {"readOnlyHint": True},
            },
            {"name": "list_files", "title": "List files", "inputSchema": {"type": "object"}},
        ],
        "nextCursor": None,
    },
}

OPENAI_REQUEST = {
    "model": "gpt-4.1",
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_stock_price",
                "description": "Latest price of a ticker",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "ticker": {"type": "string"},
                        "currency": {"type": ["string", "null"], "enum": ["USD", "EUR", None]},
                        "attachment": {"type": "file"},
                    },
                    "required": ["ticker", "exchange"],
                    "additionalProperties": False,
                },
                "strict": True,
            },
        },
        {"type": "web_search_preview"},
        {"name": "ping", "description": "Is the service up?"},
    ],
}


def _write(tmp_path: Path, name: str, content) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_openapi_without_operation_ids(tmp_path: Path) -> None:
    ds = import_dataset("openapi", _write(tmp_path, "petstore.yaml", PETSTORE))
    assert sorted(ds.tools) == ["deletePet", "get_pets", "get_pets_petId", "post_pets"]
    assert ds.tasks == []
    get_one = ds.tools["get_pets_petId"]
    assert get_one.required == ["petId"]  # the path item's parameter, required because it is in the path
    assert get_one.properties["petId"]["x-raytool-in"] == "path"
    assert get_one.properties["X-Trace"]["type"] == "string"  # narrowed from [string, null]
    assert get_one.domain == "pets" and ds.tools["get_pets"].domain == "Petstore"
    post = ds.tools["post_pets"]
    assert post.required == ["name"] and set(post.properties) == {"name", "tag", "owner"}
    owner = post.properties["owner"]  # $ref inlined, the cycle Owner.pets -> Owner cut at an untyped object
    assert owner["properties"]["name"] == {"type": "string"}
    assert owner["properties"]["pets"]["items"] == {"type": "object"}
    assert ds.tools["get_pets"].properties["limit"] == {"type": "integer", "maximum": 100, "x-raytool-in": "query"}
    assert ds.tools["get_pets"].returns["items"]["allOf"][0]["required"] == ["name"]
    quirks = ds.report.notes[QUIRKS]
    assert quirks["name_from_method_path"] == 3
    assert quirks["union_type_narrowed"] == 1
    assert quirks["cyclic_ref_as_object"] >= 1


def test_openapi_broken_schema_names_the_operation(tmp_path: Path) -> None:
    bad = PETSTORE.replace("schema: {type: integer, maximum: 100}", "schema: {type: integer, maximum: ten}")
    src = _write(tmp_path, "petstore.yaml", bad)
    with pytest.raises(RecordError) as err:
        import_dataset("openapi", src)
    assert str(src) in str(err.value)
    assert "paths./pets.get.parameters.properties.limit.maximum" in str(err.value)
    assert "not valid JSON Schema" in str(err.value)
    ds = import_dataset("openapi", src, skip_bad=True)  # the path item is skipped and counted; the rest imports
    assert "get_pets" not in ds.tools and "get_pets_petId" in ds.tools
    assert ds.report.skipped["invalid_value"] == 1


def test_mcp_tools_list_answer(tmp_path: Path) -> None:
    ds = import_dataset("mcp", _write(tmp_path, "tools.json", MCP_ANSWER))
    weather = ds.tools["get_weather"]
    assert weather.required == ["location"] and weather.returns["properties"]["temperature"]["type"] == "number"
    files = ds.tools["list_files"]
    assert files.description == "List files"
    assert files.parameters == {"type": "object", "properties": {}, "required": []}
    assert ds.report.notes[QUIRKS] == {"missing_description": 1}
    error = _write(tmp_path, "error.json", {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "nope"}})
    with pytest.raises(RecordError, match="the server answered an error: nope"):
        import_dataset("mcp", error)


def test_openai_tools_request_body(tmp_path: Path) -> None:
    ds = import_dataset("openai_tools", _write(tmp_path, "request.json", OPENAI_REQUEST))
    assert sorted(ds.tools) == ["get_stock_price", "ping"]
    price = ds.tools["get_stock_price"]
    assert price.required == ["ticker"]  # "exchange" names no property: dropped, counted
    assert price.properties["attachment"] == {"type": "string", ORIGINAL_TYPE: "file"}
    assert price.properties["currency"]["type"] == "string"
    assert ds.report.notes[QUIRKS] == {
        "union_type_narrowed": 1,
        "unknown_type_as_string": 1,
        "required_not_in_properties": 1,
        "non_function_tool_skipped": 1,
    }
    assert ds.tools["ping"].parameters["properties"] == {}


def test_openai_tools_bad_entry_names_index_and_field(tmp_path: Path) -> None:
    bad = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "required": "x"}}}]
    src = _write(tmp_path, "tools.json", bad)
    with pytest.raises(RecordError) as err:
        import_dataset("openai_tools", src)
    assert f"{src}:index 0: field 'function.parameters.required': expected a list" in str(err.value)


def test_cli_imports_a_catalogue_and_stats_reports_quirks(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src, out = _write(tmp_path, "request.json", OPENAI_REQUEST), tmp_path / "out"
    assert main(["data", "import", "--format", "openai_tools", "--src", str(src), "--out", str(out)]) == 0
    assert ToolDataset.load(out).tools.keys() == {"get_stock_price", "ping"}
    capsys.readouterr()
    assert main(["data", "stats", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "quirks: union_type_narrowed 1, unknown_type_as_string 1" in printed


# --- the three quirk classes of real benchmark files, counted instead of rejecting the file ---------------------


def test_toolbench_free_text_type_becomes_string(tmp_path: Path) -> None:
    api = {
        "category_name": "Data", "tool_name": "Words", "api_name": "Count", "api_description": "count words",
        "required_parameters": [{"name": "text", "type": "STRING", "description": "text"}],
        "optional_parameters": [{"name": "max", "type": "GEOPOINT (latitude, longitude)", "description": "",
                                 "default": ""}],
    }  # fmt: skip
    src = _write(tmp_path, "G1.json", [{"query": "count", "query_id": 1, "api_list": [api],
                                        "relevant APIs": [["Words", "Count"]]}])  # fmt: skip
    ds = import_dataset("toolbench", src)
    prop = ds.tools["count_for_words"].properties["max"]
    assert prop["type"] == "string" and prop[ORIGINAL_TYPE] == "GEOPOINT (latitude, longitude)"
    assert ds.report.notes[QUIRKS] == {"unknown_type_as_string": 1}


def test_seal_tools_forward_reference_becomes_literal(tmp_path: Path) -> None:
    tool = {"api_name": "f", "api_description": "d", "parameters": {"x": {"type": "str"}}, "required": ["x"],
            "responses": {"y": {"type": "str"}}}  # fmt: skip
    task = {"id": "dev-easy-0", "query": "q", "calling": [
        {"api": "f", "parameters": {"x": "API_call_1"}, "responses": ["API_call_0"]},
        {"api": "f", "parameters": {"x": "API_call_0"}, "responses": ["API_call_1"]}]}  # fmt: skip
    (tmp_path / "tool.jsonl").write_text(json.dumps(tool) + "\n")
    ds = import_dataset("seal_tools", _write(tmp_path, "dev.jsonl", json.dumps(task) + "\n"))
    first, second = ds.tasks[0].calls
    assert first.arguments == {"x": "API_call_1"} and first.depends_on == ()  # forward: the literal string
    assert second.depends_on == (0,)  # backward: a reference
    assert ds.report.notes[QUIRKS] == {"dangling_reference_as_literal": 1}


def test_toolalpaca_operation_without_operation_id(tmp_path: Path) -> None:
    doc = {"openapi": "3.0.0", "paths": {"/words/{word}": {"get": {"summary": "Define a word", "parameters": [
        {"name": "word", "in": "path", "required": True, "schema": {"type": "string"}}]}}}}  # fmt: skip
    api = {"Name": "Dict", "Category": "Education", "Documentation": json.dumps(doc),
           "Instructions": ["Define 'cat'"], "Golden_Answers": [[
               {"Action": "get_words_word", "Action_Input": '{"word": "cat"}'}]]}  # fmt: skip
    ds = import_dataset("toolalpaca", _write(tmp_path, "eval.json", [api]))
    assert list(ds.tools) == ["get_words_word"] and ds.tasks[0].calls[0].arguments == {"word": "cat"}
    assert ds.report.notes[QUIRKS] == {"name_from_method_path": 1}


def test_eval_commands_skip_bad_and_report_counts(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`eval proposer` reads a file with a quirk and a broken record by path: stops without --skip-bad, and with it
    reports both counts (stderr and the JSON)."""
    from raytool.evaluation.proposer import load_eval_data

    tool = {"api_name": "f", "api_description": "d", "parameters": {"x": {"type": "whatever"}}, "required": [],
            "responses": {}}  # fmt: skip
    good = {"id": "dev-easy-0", "query": "q", "calling": [{"api": "f", "parameters": {}, "responses": []}]}
    (tmp_path / "tool.jsonl").write_text(json.dumps(tool) + "\n")
    src = _write(tmp_path, "dev.jsonl", json.dumps(good) + '\n{"id": \n')
    with pytest.raises(RecordError, match="line 2"):
        load_eval_data(src, "seal_tools")
    lines: list[str] = []
    ds = load_eval_data(src, "seal_tools", skip_bad=True, log=lines.append)
    assert len(ds.tasks) == 1
    assert lines == [f"[data] {src}: quirks: unknown_type_as_string 1", f"[data] {src}: skipped by reason: "
                     "truncated_json 1"]  # fmt: skip
    code = main(["eval", "proposer", "--checkpoint", str(tmp_path / "none"), "--data", str(src), "--format",
                 "seal_tools", "--skip-bad"])  # fmt: skip
    assert code != 0  # no checkpoint here: the data was read (and reported) first
    assert "skipped by reason: truncated_json 1" in capsys.readouterr().err
