"""Requests in many surface forms: a composed task's calls written the way people ask, with each call's span.

The builder's template form (`compose.render_query`) marks every step ("First, ... Then ... Separately, ...
Finally, ...") and names every earlier output as "the X from step k". `natural_query` writes the same calls with
the same values in varied language, so that the planner, the decider and the filler learn to read requests as
people write them:

- no step markers: clauses joined by ", and", " and", ", then", "; once that's done,", ". After that," or a comma
  alone (a list of actions, `LISTED`) within a chain and by ". Also,", ". On another note,", ". Besides that,",
  " and", ". Unrelated:", ". On the compute side," (the next part's suite, `TOPICS`) between independent chains;
  sometimes a polite opener ("Please", "Can you"); a question clause sometimes becomes "tell me ..." when it is
  joined to another;
- references as descriptions instead of step numbers: "traveller {traveller_id}" with a reference becomes "that
  traveller" / "the same traveller" / "this traveller" or a pronoun ("them" for people, "it" for things), a date
  "that day" / "the same date";
- optional values phrased freely: "with full coverage" / "without full coverage" for booleans, "with room type
  deluxe", "(room type deluxe)", ", room type deluxe", the value first ("with deluxe room type") or the value
  alone ("5 GPUs (A100)", ", aisle") for the others;
- the values first: a call whose question has a colon ("submit a demand for {tenant_id}: {cpu_cores} cores, ...")
  is sometimes written subject and values first, the action after the colon ("helix-bio needs 32 cores, ...:
  submit the demand", `FRONTED`), one clause with a colon inside;
- small counts sometimes in words ("one GPU", "for three nights", `NUMBER_WORD`);
- independent parts reordered: for a `REORDER` share of the requests with several chains, the chains are written
  in a random order (each whole and in its own order), so the part the template puts last may come first.

Every choice is drawn from the caller's `random.Random`, so a seed gives the same text. `natural_query` returns
the text and, per call (in the calls' order, which the text's order may differ from), the (start, end) span of its
clause: the sub-task segmentation a planner is trained and scored on. Values are written exactly as in the
template form (the filler's normaliser reads both).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from raytool.envs.suite import SuiteTool
from raytool.filler.normalise import NUMBER_WORDS
from raytool.tools.call import ToolCall, is_result_ref

KIND_KEY = "x-kind"
_QUESTION = re.compile(r"^(what|how|which|who|is|has|are|does|do|when|where)\b")
_STATEMENT = re.compile(r"^\S+ (needs|wants|is asking for) ")  # a fronted clause (`FRONTED`)
CONTINUE = (", then ", ", and ", " and then ", ". Then ", "; once that's done, ", ". After that, ", ", and after that ",
            " and ")  # fmt: skip
INDEPENDENT = (". Also, ", ". On another note, ", ". Besides that, ", ". In addition, ", ", and also ", ". ", " and ",
               ". Unrelated: ", ". On the {topic} side, ", ". Apart from that, ")  # fmt: skip
# the words of ". On the {topic} side, " per suite
TOPICS = {
    "cpn": ("compute", "infra", "cluster"),
    "finance": ("money", "finance", "trading"),
    "travel": ("travel", "trip"),
}
LISTED = 0.2  # share of a chain's continuations joined by a comma alone ("look up X, pull Y, and sell Z")
FRONTED = 0.4  # share of the clauses of a question with a colon written values first ("X needs ...: submit it")
OPENERS = ("", "", "", "Please ", "Can you ", "I need you to ")
PEOPLE = {"traveller", "customer", "payee"}
REORDER = 0.5  # share of the requests with several chains whose chains are written in a random order
NUMBER_WORD = 0.25  # share of the integers 0..12 written as a word ("three nights")
VALUE_ALONE = 0.3  # share of the optional string values written without their parameter's name ("(A100)")
SMALL_NUMBERS = tuple(NUMBER_WORDS)[:13]  # "zero" .. "twelve": the words the filler reads back


Rendering = tuple[str, list[tuple[int, int]]]  # a request's text and its calls' (start, end) spans


def renderings(task, tools: dict[str, SuiteTool], phrasings: int, stream: str) -> list[Rendering]:
    """A builder task's request in the step template (`compose.render_query_spans`) and `phrasings` times in varied
    language (`natural_query`, each from its own `random.Random(f"{stream}/{task.id}/{k}")`), each with its calls'
    spans: the training text of the models that read requests (the segmenter, the proxies' proposer)."""
    from raytool.envs.compose import render_query_spans

    suite_tools = [tools[c.name] for c in task.calls]
    ends = [k - 1 for k, c in enumerate(task.calls) if k and not c.depends_on] + [len(task.calls) - 1]
    out = [render_query_spans(suite_tools, task.calls, ends)]
    for k in range(phrasings):
        out.append(natural_query(suite_tools, task.calls, ends, random.Random(f"{stream}/{task.id}/{k}")))
    return out


def natural_query(
    tools: Sequence[SuiteTool], calls: Sequence[ToolCall], chain_ends: Sequence[int], rng: random.Random
) -> tuple[str, list[tuple[int, int]]]:
    """The request in varied language (module docstring) and each call's (start, end) character span, in the
    calls' order."""
    clauses = [_clause(tool, call, rng) for tool, call in zip(tools, calls, strict=True)]
    order = text_order(len(calls), chain_ends, rng)
    text, spans, asking = "", [(0, 0)] * len(calls), False  # asking: the sentence being written is a question
    for position, i in enumerate(order):
        clause = clauses[i]
        bare = bool(_QUESTION.match(clause))
        if position == 0:
            opener = "" if _STATEMENT.match(clause) else rng.choice(OPENERS)  # no "Please helix-bio needs ..."
            if bare and opener:
                opener = "Can you tell me "
            asking = opener.startswith("Can you") or bare
            text = opener
            if not opener:
                clause = _capital(clause)
        else:
            starts_chain = i == 0 or i - 1 in chain_ends  # a new part (after another chain); else a continuation
            joiner = rng.choice(INDEPENDENT if starts_chain else CONTINUE)
            if not starts_chain and rng.random() < LISTED:
                joiner = ", "  # a list of actions: "look up X, pull Y, and sell Z"
            joiner = joiner.format(topic=rng.choice(TOPICS.get(tools[i].suite, ("other",))))
            if joiner.startswith(". "):  # the sentence so far ends here
                text += "?" if asking else "."
                joiner, asking = joiner[1:], False
                if joiner == " ":
                    clause = _capital(clause)
            elif bare and rng.random() < 0.7:
                clause, bare = rng.choice(("tell me ", "check ", "find out ")) + clause, False
            asking = asking or bare
            text += joiner
        spans[i] = (len(text), len(text) + len(clause))
        text += clause
    return text + ("?" if asking else "."), spans


def _capital(clause: str) -> str:
    """`clause` starting a sentence: capitalised, unless it starts with a value ("helix-bio needs ...")."""
    return clause if _STATEMENT.match(clause) else clause[0].upper() + clause[1:]


def text_order(count: int, chain_ends: Sequence[int], rng: random.Random) -> list[int]:
    """The order the calls are written in: the calls' own order, or (for a `REORDER` share of the requests with
    several chains) the chains in a random order other than the template's, each chain whole and in its own order."""
    chains = chains_of(count, chain_ends)
    if len(chains) < 2 or rng.random() >= REORDER:
        return list(range(count))
    shuffled = list(chains)
    while shuffled == chains:
        rng.shuffle(shuffled)
    return [call for chain in shuffled for call in chain]


def chains_of(count: int, chain_ends: Sequence[int]) -> list[list[int]]:
    """The call indices of each chain, in order (`chain_ends`: each chain's last call; the last call ends one)."""
    ends = sorted(set(chain_ends) | {count - 1})
    return [list(range(start, end + 1)) for start, end in zip([0] + [e + 1 for e in ends[:-1]], ends, strict=True)]


def _clause(tool: SuiteTool, call: ToolCall, rng: random.Random) -> str:
    """One call's clause: its question template with literal values, references described, extras phrased."""
    args = call.arguments or {}
    question = tool.question
    shown: dict[str, str] = {}
    for name, value in args.items():
        if not is_result_ref(value):
            shown[name] = ", ".join(str(v) for v in value) if isinstance(value, list) else _number(value, rng)
            continue
        noun = _noun(tool, name)
        slot = "{" + name + "}"
        described = _describe(noun, rng)
        before = re.search(r"(\w+) " + re.escape(slot), question)
        if before and noun.endswith(before.group(1)):  # "traveller {traveller_id}" -> "that traveller" / "them"
            question = question.replace(f"{before.group(1)} {slot}", slot)
            if not noun.endswith("date") and rng.random() < 0.3:
                described = "them" if noun in PEOPLE else "it"
        shown[name] = described
    for name in tool.spec.required:
        shown.setdefault(name, name.replace("_", " "))
    text = question.format(**shown)
    optional = [k for k in args if k not in tool.spec.required and "{" + k + "}" not in tool.question]
    extras = [_extra(k, args[k], rng) for k in optional]
    if extras:
        style = rng.randrange(3)
        listed = ", ".join(extras)
        text += f" ({listed})" if style == 0 else (f" with {listed}" if style == 1 else f", {listed}")
    fronted = re.fullmatch(r"(\w+ (?:an? |the )?(\w+)) for \{(\w+)\}: (.*)", question)
    if fronted and fronted.group(3) in args and not is_result_ref(args[fronted.group(3)]) and rng.random() < FRONTED:
        action, thing, subject = fronted.group(1), fronted.group(2), shown[fronted.group(3)]
        values = text[text.index(": ", len(action)) + 2 :]
        verb = action.split()[0]
        act = rng.choice((f"{verb} the {thing}", f"{verb} it", f"{action} for them"))
        text = f"{subject} {rng.choice(('needs', 'wants', 'is asking for'))} {values}: {act}"  # `_STATEMENT`
    return text


def _noun(tool: SuiteTool, name: str) -> str:
    kind = tool.spec.properties.get(name, {}).get(KIND_KEY) or name
    return re.sub(r"_id$", "", kind).replace("_", " ")


def _describe(noun: str, rng: random.Random) -> str:
    if noun == "date" or noun.endswith("date"):
        return rng.choice(("that day", "the same date", "that date"))
    return rng.choice((f"that {noun}", f"the same {noun}", f"this {noun}"))


def _number(value: Any, rng: random.Random) -> str:
    """`value` as the text writes it: a small integer sometimes as a word (`NUMBER_WORD`), anything else as is."""
    small = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(SMALL_NUMBERS)
    return SMALL_NUMBERS[value] if small and rng.random() < NUMBER_WORD else str(value)


def _extra(name: str, value: Any, rng: random.Random) -> str:
    label = name.replace("_", " ")
    if isinstance(value, bool):
        return label if value else f"no {label}"
    if is_result_ref(value):
        return f"the same {label}"
    if isinstance(value, (int, float)):
        return f"{label} of {value}" if rng.random() < 0.3 else f"{label} {value}"
    draw = rng.random()
    if draw < VALUE_ALONE:
        return str(value)  # "(A100)", "with aisle", ", gold"
    return f"{value} {label}" if draw < VALUE_ALONE + 0.3 else f"{label} {value}"  # "gold sla tier", "sla tier gold"
