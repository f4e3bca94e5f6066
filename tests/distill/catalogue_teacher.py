"""A test double of a teacher that writes grounded, schema-valid tasks for any catalogue (`distill instructions
--tools`, `train --tools`): the job's mechanics are tested fast with it; the embedded model's (weak) output is
measured by the slow test and reported in the README."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence

from raytool.teacher.backend import CandidateScores, Sampling

WORDS = ("alpha", "bravo", "delta", "kilo", "lima", "oscar", "sierra", "tango")


def _value(name: str, schema: dict, salt: int):
    if schema.get("enum"):
        return schema["enum"][salt % len(schema["enum"])]
    kind = schema.get("type", "string")
    if kind == "integer":
        return 2 + salt % 7
    if kind == "number":
        return 10.5 + salt % 40
    if kind == "boolean":
        return True
    return f"{name.replace('_', '-')}-{WORDS[salt % len(WORDS)]}"


class CatalogueTeacher:
    model_name = "catalogue-fake"

    def chat(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str]:
        return [conv[-1]["content"] for conv in conversations]

    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[str]:
        out = []
        for prompt in prompts:
            tools = json.loads(prompt.removeprefix("Tools: "))
            salt = zlib.crc32(prompt.encode()) % 997
            calls, parts = [], []
            for i, tool in enumerate(tools):
                props = tool["parameters"].get("properties", {})
                fields = set((tools[0].get("returns") or {}).get("properties") or {}) if i else set()
                arguments = {}
                for name in tool["parameters"].get("required", []):
                    if name in fields:
                        arguments[name] = {"$ref": 0, "path": name}
                    else:
                        arguments[name] = _value(name, props.get(name, {}), salt + len(arguments))
                calls.append({"name": tool["name"], "arguments": arguments})
                literal = [str(v) for v in arguments.values() if not isinstance(v, dict | bool)]
                parts.append(f"{tool['description'].lower()} ({', '.join(literal) or 'that one'})")
            out.append(json.dumps({"request": "Please " + " and then ".join(parts), "calls": calls}))
        return out

    def score(self, prompts: Sequence[str], candidates: Sequence[Sequence[str]]) -> CandidateScores:
        summed = [[-(zlib.crc32((p + c).encode()) % 1000) / 100 for c in cs] for p, cs in zip(prompts, candidates,
                                                                                              strict=True)]  # fmt: skip
        return CandidateScores(summed, summed, [[1] * len(cs) for cs in candidates])

    def close(self) -> None:
        pass
