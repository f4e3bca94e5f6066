"""A single-LLM baseline's own call arguments: the teacher writes each call's values, as one LLM doing ReAct would.

    text = yield arguments_request(task.query, env.made, spec)   # one teacher call per tool call
    env.step(slot, arguments=read_arguments(text, spec))

The teacher sees the tool's parameters, the request and the calls made so far with their outputs (shortened, as
ReAct's observations are), and answers one JSON object (`teacher.prompts.call_arguments_messages`). Where the teacher
can constrain its output (vLLM's structured outputs, the OpenAI backend) the answer must follow the call's schema
(`teacher.decoding.arguments_schema`: the required parameters are then always written, as constrained decoding
makes an LLM agent do); elsewhere the answer's JSON is begun in the prompt and parsed leniently. What comes back is
passed on as written, with two liberties any agent framework takes: parameters the tool does not have are dropped,
and a number or boolean written as a string ("5", "true") is read as one. The env then checks the call as it checks
any other (a wrong type or a missing required value: a malformed call) and runs it.

The baselines without this (`react`, `cot`, `dfs`) bind their values with the proxies' own filler, so they compare
tool choice alone; with it (`react-own-args`, ...) they compare whole calls.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from raytool.agent.outcome import history_lines
from raytool.distill.call_arguments import ARGUMENTS_PREFIX
from raytool.envs.reward import MadeCall
from raytool.filler.normalise import normalise
from raytool.teacher.backend import Sampling
from raytool.teacher.decoding import arguments_schema
from raytool.teacher.lockstep import GenerateRequest
from raytool.teacher.parsing import extract_json
from raytool.teacher.prompts import call_arguments_messages
from raytool.tools.spec import ToolSpec

# tokens the answer may take: room for every parameter's value at its bound (strings 60 characters, lists 5 items;
# `teacher.decoding.bounded`) — a fixed 96 cut off the JSON of tools with many parameters
BASE_TOKENS, TOKENS_PER_PARAMETER = 32, 48
MAX_TOKENS = 384  # the prompt and the answer share the engine's context (`TeacherConfig.max_model_len`, 1,024)
_READ_AS = ("integer", "number", "boolean")


def arguments_request(query: str, made: Sequence[MadeCall], spec: ToolSpec) -> GenerateRequest:
    """The teacher's question for the arguments of a call of `spec` now (module docstring)."""
    messages = call_arguments_messages(query, spec, history_lines(made))
    tokens = min(MAX_TOKENS, BASE_TOKENS + TOKENS_PER_PARAMETER * len(spec.properties))
    sampling = Sampling(max_tokens=tokens, json_schema=json.dumps(arguments_schema(spec)))
    return GenerateRequest(tuple(messages), sampling, free_prefill=ARGUMENTS_PREFIX)


def read_arguments(text: str, spec: ToolSpec) -> dict[str, Any]:
    """The call's arguments from the teacher's answer `text` (module docstring); {} when it holds no JSON object."""
    found = extract_json(text)
    if not isinstance(found, dict):
        return {}
    out = {}
    for name, value in found.items():
        schema = spec.properties.get(name)
        if schema is None or value is None:
            continue
        schema = schema if isinstance(schema, dict) else {}
        if isinstance(value, str) and schema.get("type") in _READ_AS:
            parsed, reason = normalise(value, schema, name)
            value = value if reason is not None else parsed
        out[name] = value
    return out
