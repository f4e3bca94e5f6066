"""Chat messages for the teacher and the planner: tool selection, rationales, ranking, next-tool scoring, plans.

Every builder returns `[{"role": "system", "content": ...}, {"role": "user", "content": ...}]` for
`TeacherBackend.chat`. The system message states the task and the exact answer format and shows one worked
example; the user message carries the real tools and request and ends with "Answer:". The embedded teacher
is a 135M model, so the instructions are short and literal, and the one-shot example does most of the work.
Each example is a module constant (`SELECTION_EXAMPLE`, ...) whose answer the matching parser in
`raytool.teacher.parsing` accepts; the tests check that round trip.

Likelihood scoring of a decider state's candidates asks the model to write nothing:

    chat = teacher.chat([next_tool_prompt_messages(query, history, candidates)])[0]
    scores = teacher.score([next_tool_scoring_prompt(chat)], [candidate_continuations(candidates)])
    pi_llm = likelihood_distribution(np.asarray(scores.summed[0]))

The templated chat ends with the assistant's generation prompt; `next_tool_scoring_prompt` appends
`NEXT_TOOL_PREFIX` ("Next tool:"), so the assistant has already begun the answer the example showed, and
every continuation is `" <name>\\n"`:
- the leading space belongs to the continuation, not the prompt, because BPE tokenizers glue a space to the
  word after it (" get"); a prompt ending in a space would force every name onto an unusual first token;
- the trailing newline closes the answer (the example's answer goes on with a "Reason:" line, so a newline
  after the name is what the model expects). Without it a name that is a prefix of another ("get_weather" vs
  "get_weather_forecast") would be scored as a prefix and look more likely than it is.
Use `CandidateScores.summed`, not `mean`. With a terminated continuation, exp(summed) is the model's
probability of that whole answer, so softmax(summed) is its posterior restricted to the candidate set. The
names are printed in the prompt, so once the first distinguishing token is out the rest is copied at
near-zero cost: summed is close to the log-probability of the decision itself and barely depends on name
length. The per-token mean divides that decision by the token count, which flattens long names (Seal-Tools'
"requestFirst Aid Assistance") towards 0 and favours them for no reason; it is kept for diagnostics only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from raytool.tools.spec import ToolSpec

NEXT_TOOL_PREFIX = "Next tool:"
NEXT_TOOL_END = "\n"
_DESCRIPTION_CHARS = 160


@dataclass(frozen=True)
class OneShot:
    """The worked example shown inside a prompt; `answer` is exactly what the model should write."""

    query: str
    tools: tuple[ToolSpec, ...]
    answer: str
    history: tuple[str, ...] = ()
    gold: tuple[str, ...] = ()
    domains: tuple[tuple[str, str], ...] = ()


def _tool(name: str, description: str, required: tuple[str, ...]) -> ToolSpec:
    props = {p: {"type": "string"} for p in required}
    return ToolSpec(name, description, {"type": "object", "properties": props, "required": list(required)})


_WEATHER = _tool("get_weather", "Weather forecast for a city on a date.", ("city", "date"))
_EMAIL = _tool("send_email", "Send an email to a person.", ("to", "body"))
_HOTEL = _tool("book_hotel", "Book a hotel room in a city.", ("city", "nights"))
_QUERY = "What will the weather be in Paris tomorrow? Email it to Ana."

SELECTION_EXAMPLE = OneShot(
    query=_QUERY,
    tools=(_WEATHER, _EMAIL, _HOTEL),
    answer=json.dumps(
        {
            "rationale": "I need tomorrow's forecast for Paris first, then I send it to Ana. No hotel is needed.",
            "tools": ["get_weather", "send_email"],
        }
    ),
)
RATIONALE_EXAMPLE = OneShot(
    query=_QUERY,
    tools=(_WEATHER, _EMAIL),
    gold=("get_weather", "send_email"),
    answer=json.dumps(
        {"rationale": "get_weather gives the Paris forecast; send_email can only send it to Ana once it is known."}
    ),
)
RANKING_EXAMPLE = OneShot(
    query=_QUERY,
    tools=(_HOTEL, _EMAIL),
    history=("get_weather",),
    answer=json.dumps({"ranking": ["send_email", "book_hotel"]}),
)
NEXT_TOOL_EXAMPLE = OneShot(
    query=_QUERY,
    tools=(_HOTEL, _EMAIL),
    history=("get_weather",),
    answer=f"{NEXT_TOOL_PREFIX} send_email{NEXT_TOOL_END}Reason: the forecast is known, now Ana must get it.",
)
ARGUMENTS_EXAMPLE = OneShot(
    query=_QUERY,
    tools=(_WEATHER,),
    answer=json.dumps({"city": "Paris", "date": "tomorrow"}),
)
DECOMPOSITION_EXAMPLE = OneShot(
    query="Book a hotel in Paris for tomorrow night, check the weather there, and email Ana both.",
    tools=(),
    domains=(("hotels", "hotel search and booking"), ("weather", "forecasts"), ("mail", "emails and messages")),
    answer=json.dumps(
        {
            "subtasks": [
                {"id": 1, "text": "Book a hotel in Paris for tomorrow night", "domain": "hotels", "depends_on": []},
                {"id": 2, "text": "Get tomorrow's weather in Paris", "domain": "weather", "depends_on": []},
                {"id": 3, "text": "Email Ana the booking and the forecast", "domain": "mail", "depends_on": [1, 2]},
            ]
        }
    ),
)


def _one_line(text: str, limit: int = _DESCRIPTION_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _tool_lines(tools: Sequence[ToolSpec], params: bool = True) -> str:
    lines = []
    for tool in tools:
        desc = _one_line(tool.description)
        line = f"- {tool.name}: {desc}" if desc else f"- {tool.name}"
        if params and tool.required:
            line += f" (needs: {', '.join(tool.required)})"
        lines.append(line)
    return "\n".join(lines) if lines else "(none)"


def _parameter_lines(tool: ToolSpec) -> str:
    lines = []
    for name, schema in tool.properties.items():
        schema = schema if isinstance(schema, dict) else {}
        need = "required" if name in tool.required else "optional"
        desc = _one_line(schema.get("description", ""), 100)
        lines.append(f"- {name} ({schema.get('type', 'string')}, {need})" + (f": {desc}" if desc else ""))
    return "\n".join(lines) if lines else "(none)"


def _call_tool_lines(tool: ToolSpec) -> str:
    return f"Tool: {tool.name}: {_one_line(tool.description)}\nParameters:\n{_parameter_lines(tool)}"


def call_arguments_messages(query: str, tool: ToolSpec, history: Sequence[str] | None = None) -> list[dict[str, str]]:
    """Ask for the arguments of one call of `tool` for `query`, values copied from the request; answer a JSON
    object (the answer is prefilled with `ARGUMENTS_PREFIX` by `distill synth`). `history`: the calls an agent made
    so far with their outputs (`agent.outcome.history_lines`), whose values may be copied too; None (`distill
    synth`): the request alone."""
    ex = ARGUMENTS_EXAMPLE
    source = "the request" if history is None else "the request or an earlier call's output"
    system = (
        "You write the arguments of one tool call for a user's request.\n"
        f"Answer with one JSON object: each parameter {source} gives a value for, with the value copied from "
        f"{source}. Leave out every parameter {source} does not give; never make a value up.\n\n"
        f"Example\n{_call_tool_lines(ex.tools[0])}\nRequest: {ex.query}\nArguments: {ex.answer}"
    )
    earlier = "" if history is None else f"\nEarlier calls: {' -> '.join(history) if history else 'none'}"
    user = f"{_call_tool_lines(tool)}\nRequest: {query}{earlier}\nArguments:"
    return _messages(system, user)


def _history_line(history: Sequence[str]) -> str:
    return "Already called: " + (" -> ".join(history) if history else "nothing yet")


def _messages(system: str, user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def tool_selection_messages(query: str, tools: Sequence[ToolSpec], max_tools: int = 6) -> list[dict[str, str]]:
    """Ask which tools, in call order, solve `query`; answer `{"rationale": "...", "tools": [...]}`."""
    if max_tools < 1:
        raise ValueError(f"max_tools must be >= 1, got {max_tools}")
    ex = SELECTION_EXAMPLE
    system = (
        "You choose the tools that solve a user's request.\n"
        "Think step by step: what does the request need, and which tool gives each part? "
        "Then answer with JSON only, in this form:\n"
        '{"rationale": "<your reasoning>", "tools": ["<tool>", "<tool>"]}\n'
        f"List the tools in the order they must be called. Use only names from the tool list, at most {max_tools}.\n\n"
        f"Example\nTools:\n{_tool_lines(ex.tools)}\nRequest: {ex.query}\nAnswer: {ex.answer}"
    )
    user = f"Tools:\n{_tool_lines(tools)}\nRequest: {query}\nAnswer:"
    return _messages(system, user)


def rationalization_messages(query: str, tools: Sequence[ToolSpec], gold_tools: Sequence[str]) -> list[dict[str, str]]:
    """Ask why the known-correct `gold_tools`, in this order, solve `query`; answer `{"rationale": "..."}`.

    `tools` supplies the descriptions; only the gold tools are shown (a gold name missing from `tools` is
    shown without a description), which keeps the prompt short for a small model.
    """
    ex = RATIONALE_EXAMPLE
    by_name = {t.name: t for t in tools}
    shown = [by_name.get(name) or ToolSpec(name, "") for name in gold_tools]
    system = (
        "You explain why a plan of tool calls solves a user's request.\n"
        "You are given the correct tools in the order they are called. In one or two sentences, say what each "
        "tool does for the request and why this order works. Answer with JSON only, in this form:\n"
        '{"rationale": "<your explanation>"}\n\n'
        f"Example\nRequest: {ex.query}\nCorrect tools, in order:\n{_tool_lines(ex.tools, params=False)}\n"
        f"Answer: {ex.answer}"
    )
    user = f"Request: {query}\nCorrect tools, in order:\n{_tool_lines(shown, params=False)}\nAnswer:"
    return _messages(system, user)


def ranking_messages(query: str, history: Sequence[str], candidates: Sequence[ToolSpec]) -> list[dict[str, str]]:
    """Ask to rank the candidate next tools, best first; answer `{"ranking": ["best", "second", ...]}`."""
    ex = RANKING_EXAMPLE
    system = (
        "You decide which tool to call next for a user's request.\n"
        "Some tools were already called. Rank ALL the candidate tools from best next call to worst. "
        "Answer with JSON only, in this form:\n"
        '{"ranking": ["<best tool>", "<second tool>"]}\n\n'
        f"Example\nRequest: {ex.query}\n{_history_line(ex.history)}\nCandidates:\n{_tool_lines(ex.tools)}\n"
        f"Answer: {ex.answer}"
    )
    user = f"Request: {query}\n{_history_line(history)}\nCandidates:\n{_tool_lines(candidates)}\nAnswer:"
    return _messages(system, user)


def next_tool_prompt_messages(
    query: str, history: Sequence[str], candidates: Sequence[ToolSpec]
) -> list[dict[str, str]]:
    """The conversation whose templated text, plus `NEXT_TOOL_PREFIX`, is scored against `candidate_continuations`.

    See the module docstring for the design (and why `summed` log-likelihoods are the ones to use).
    """
    ex = NEXT_TOOL_EXAMPLE
    system = (
        "You decide which tool to call next for a user's request.\n"
        "Some tools were already called. Pick the best next tool from the candidates. Answer in two lines:\n"
        f"{NEXT_TOOL_PREFIX} <tool name>\nReason: <why>\n\n"
        f"Example\nRequest: {ex.query}\n{_history_line(ex.history)}\nCandidates:\n{_tool_lines(ex.tools)}\n"
        f"Answer:\n{ex.answer}"
    )
    user = f"Request: {query}\n{_history_line(history)}\nCandidates:\n{_tool_lines(candidates)}\nAnswer:"
    return _messages(system, user)


def next_tool_scoring_prompt(templated_chat: str) -> str:
    """The scoring prompt: a chat already templated by `TeacherBackend.chat`, with the assistant's answer begun."""
    return templated_chat + NEXT_TOOL_PREFIX


def candidate_continuations(candidates: Sequence[ToolSpec | str]) -> list[str]:
    """`" <name>\\n"` for each candidate (tools or names), in order; names must be distinct and non-empty."""
    names = [c.name if isinstance(c, ToolSpec) else str(c) for c in candidates]
    if any(not name.strip() for name in names):
        raise ValueError("candidate names must be non-empty")
    if len(set(names)) != len(names):
        raise ValueError(f"candidate names must be distinct, got {names}")
    return [f" {name}{NEXT_TOOL_END}" for name in names]


def decomposition_messages(query: str, domains: Mapping[str, str] | Sequence[str]) -> list[dict[str, str]]:
    """Ask the planner to split `query` into subtasks, each labelled with one of `domains` (name -> description).

    Answer: `{"subtasks": [{"id": 1, "text": "...", "domain": "<name>", "depends_on": []}, ...]}`, where
    `depends_on` lists ids of earlier subtasks whose results are needed.
    """
    pairs = list(domains.items()) if isinstance(domains, Mapping) else [(d, "") for d in domains]
    ex = DECOMPOSITION_EXAMPLE

    def domain_lines(items: Sequence[tuple[str, str]]) -> str:
        return "\n".join(f"- {name}: {_one_line(desc)}" if desc else f"- {name}" for name, desc in items) or "(none)"

    system = (
        "You split a user's request into small subtasks, one action each, in the order they happen.\n"
        "Give each subtask a domain from the list. depends_on lists the ids of earlier subtasks whose results "
        "it needs ([] if none). Answer with JSON only, in this form:\n"
        '{"subtasks": [{"id": 1, "text": "<subtask>", "domain": "<domain>", "depends_on": []}]}\n\n'
        f"Example\nDomains:\n{domain_lines(ex.domains)}\nRequest: {ex.query}\nAnswer: {ex.answer}"
    )
    user = f"Domains:\n{domain_lines(pairs)}\nRequest: {query}\nAnswer:"
    return _messages(system, user)
