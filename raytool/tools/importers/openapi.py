"""OpenAPI importer: every operation of an OpenAPI 3.x (or Swagger 2) document becomes a tool (a catalogue, no tasks).

    raytool data import --format openapi --src petstore.yaml --out data/petstore

An operation's tool:
    name         its `operationId`; without one, method and path (`GET /pets/{petId}` -> `get_pets_petId`,
                 counted: `quirks.name_from_method_path`)
    description  `description`, else `summary`, else the name
    parameters   one JSON-Schema object: the path item's and the operation's parameters (path, query, header,
                 cookie; the operation's win on a clash) and the JSON request body's properties (a body that is
                 not an object becomes one parameter, `body`); each keeps where it goes under `x-raytool-in`
    returns      the 200 / 201 / 2XX / default response's JSON schema
    domain       the operation's first tag, else the document's `info.title`
Local `$ref`s (`#/components/schemas/Pet`, Swagger's `#/definitions/Pet`) are resolved; a cyclic one stops at an
untyped object (`quirks.cyclic_ref_as_object`), one to another file becomes an untyped object
(`quirks.external_ref_as_object`). Schemas are then normalised and checked as every catalogue's are
(`raytool.tools.importers.schema`). `openapi_tools` is shared with the ToolAlpaca importer, whose APIs are OpenAPI
documents.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from raytool.tools.dataset import ImportReport, ToolDataset
from raytool.tools.errors import WRONG_TYPE, FieldError, RecordError, expect_type, require
from raytool.tools.files import read_document
from raytool.tools.importers.base import QUIRKS, Collector, add_tool
from raytool.tools.importers.schema import normalise_parameters, normalise_property
from raytool.tools.spec import ToolSpec

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PLACE = "x-raytool-in"  # where a parameter goes: path, query, header, cookie or body
_MAX_DEPTH = 32


def import_openapi(src: str | Path, tools: str | Path | None = None, skip_bad: bool = False) -> ToolDataset:
    """Read an OpenAPI document (JSON or YAML) as a catalogue: one tool per operation, no tasks."""
    if tools:
        raise ValueError("format openapi reads its tools from --src itself: drop --tools")
    src = Path(src)
    doc = read_document(src)
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
        raise RecordError(str(src), "", "paths", "not an OpenAPI document (no `paths` object)", WRONG_TYPE)
    report = ImportReport()
    collect = Collector(report, skip_bad)
    catalogue: dict[str, ToolSpec] = {}
    domain = str((doc.get("info") or {}).get("title", ""))
    for spec in openapi_tools(doc, report, collect, str(src), domain):
        add_tool(catalogue, spec, collect, str(src), "", "operationId")
    return ToolDataset(catalogue, [], {"format": "openapi", "src": str(src)}, report)


def openapi_tools(
    doc: dict[str, Any],
    report: ImportReport,
    collect: Collector,
    path: str,
    domain: str = "",
    location: str = "",
    prefix: str = "",
) -> list[ToolSpec]:
    """The tools of every operation of `doc`; a bad path item goes through `collect` (strict or counted).
    `location` / `prefix`: where the document sits in its file, for error messages (ToolAlpaca: `index 3` and
    `Documentation.`)."""
    refs = _Resolver(doc, report)
    out = []
    for route, item in require(doc, "paths", dict, f"{prefix}paths").items():
        specs = collect.run(path, location, _operations, refs, route, item, f"{prefix}paths.{route}", domain)
        out.extend(specs or [])
    return out


def operation_name(method: str, route: str) -> str:
    """The name of an operation without an `operationId`: `GET /pets/{petId}` -> `get_pets_petId`."""
    words = re.sub(r"[^A-Za-z0-9]+", "_", route).strip("_")
    return f"{method.lower()}_{words}" if words else method.lower()


def _operations(refs: _Resolver, route: str, item: Any, where: str, domain: str) -> list[ToolSpec]:
    item = refs.resolve(item)
    expect_type(item, dict, where)
    shared = item.get("parameters", [])
    specs = []
    for method in METHODS:
        if method not in item:
            continue
        op = refs.resolve(item[method])
        field = f"{where}.{method}"
        expect_type(op, dict, field)
        name = op.get("operationId")
        if name is None:
            name = operation_name(method, route)
            refs.report.note(QUIRKS, "name_from_method_path")
        expect_type(name, str, f"{field}.operationId")
        parameters = normalise_parameters(_parameters(refs, shared, op, field), f"{field}.parameters", refs.report)
        tags = op.get("tags") or []
        specs.append(
            ToolSpec(
                name=name,
                description=str(op.get("description") or op.get("summary") or name).strip(),
                parameters=parameters,
                returns=_returns(refs, op, field),
                domain=str(tags[0]) if tags and isinstance(tags[0], str) else domain,
            )
        )
    return specs


def _parameters(refs: _Resolver, shared: Any, op: dict, field: str) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    listed: dict[str, dict] = {}
    for scope, params in (("", shared), (field, op.get("parameters", []))):
        expect_type(params, list, f"{scope or field}.parameters")
        for k, raw in enumerate(params):
            p = refs.resolve(raw)
            expect_type(p, dict, f"{field}.parameters[{k}]")
            pname = require(p, "name", str, f"{field}.parameters[{k}].name")
            listed[pname] = p  # the operation's own parameters come second and win
    for pname, p in listed.items():
        place = str(p.get("in", "query"))
        if place == "body":  # Swagger 2: the body is a parameter
            _body(refs, p.get("schema", {}), properties, required, bool(p.get("required")))
            continue
        if "schema" in p:
            schema = refs.inline(p["schema"])
        else:  # Swagger 2: the schema's keywords sit on the parameter
            schema = {k: p[k] for k in ("type", "items", "enum", "format", "default") if k in p}
        schema = dict(schema) if isinstance(schema, dict) else {}
        if p.get("description") and "description" not in schema:
            schema["description"] = str(p["description"])
        schema[PLACE] = place
        properties[pname] = schema
        if p.get("required") or place == "path":
            required.append(pname)
    body = refs.resolve(op.get("requestBody", {}))
    if isinstance(body, dict):
        content = body.get("content") if isinstance(body.get("content"), dict) else {}
        media = content.get("application/json") or next(iter(content.values()), None)
        if isinstance(media, dict) and "schema" in media:
            _body(refs, media["schema"], properties, required, bool(body.get("required")))
    return {"type": "object", "properties": properties, "required": required}


def _body(refs: _Resolver, schema: Any, properties: dict, required: list, body_required: bool) -> None:
    """A request body's properties merged into the parameters (a non-object body: one parameter `body`)."""
    schema = refs.inline(schema)
    if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
        for pname, prop in schema["properties"].items():
            if pname in properties:
                refs.report.note(QUIRKS, "body_property_shadowed_by_parameter")
                continue
            properties[pname] = {**(prop if isinstance(prop, dict) else {}), PLACE: "body"}
        required += [r for r in schema.get("required", []) if r in properties and r not in required]
    elif isinstance(schema, dict):
        properties["body"] = {**schema, PLACE: "body"}
        if body_required:
            required.append("body")


def _returns(refs: _Resolver, op: dict, field: str) -> dict[str, Any] | None:
    responses = op.get("responses") or {}
    for code in ("200", "201", "2XX", "default"):
        response = refs.resolve(responses.get(code) or responses.get(int(code) if code.isdigit() else code) or {})
        if not isinstance(response, dict):
            continue
        schema = response.get("schema")  # Swagger 2
        for media in (response.get("content") or {}).values():
            if isinstance(media, dict) and "schema" in media:
                schema = media["schema"]
                break
        if schema is not None:
            return normalise_property(refs.inline(schema), f"{field}.responses.{code}.schema", refs.report)
    return None


class _Resolver:
    """Local `$ref` resolution over one document."""

    def __init__(self, doc: dict[str, Any], report: ImportReport) -> None:
        self.doc = doc
        self.report = report

    def resolve(self, value: Any, seen: tuple[str, ...] = ()) -> Any:
        """`value` with a top-level `$ref` followed (not nested ones)."""
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            ref = value["$ref"]
            if not ref.startswith("#/"):
                self.report.note(QUIRKS, "external_ref_as_object")
                return {"type": "object"}
            if ref in seen:
                self.report.note(QUIRKS, "cyclic_ref_as_object")
                return {"type": "object"}
            seen = (*seen, ref)
            value = self._lookup(ref)
        return value

    def inline(self, value: Any, seen: tuple[str, ...] = (), depth: int = 0) -> Any:
        """`value` with every `$ref` inside it replaced by what it points at (cycles cut)."""
        if depth > _MAX_DEPTH:
            self.report.note(QUIRKS, "cyclic_ref_as_object")
            return {"type": "object"}
        if isinstance(value, dict) and isinstance(value.get("$ref"), str):
            ref = value["$ref"]
            if ref in seen:
                self.report.note(QUIRKS, "cyclic_ref_as_object")
                return {"type": "object"}
            return self.inline(self.resolve(value, seen), (*seen, ref), depth + 1)
        if isinstance(value, dict):
            return {k: self.inline(v, seen, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self.inline(v, seen, depth + 1) for v in value]
        return value

    def _lookup(self, ref: str) -> Any:
        node: Any = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise FieldError("$ref", f"{ref!r} points at nothing in the document")
            node = node[part]
        return node
