"""The rule-based decomposition used when the teacher's plan is unusable: sentences and their references.

A request is split into sentences (a period, question or exclamation mark followed by a space and a capital
letter; decimals and ids such as "6.07" or "BR176-2025-04-30" stay whole). A sentence depends on sentence k
when it mentions "step k" ("the fare id from step 1"), and on the sentence before it when it starts with a
continuation word (Then, Finally, Next, After that, ...); "Separately", "Also", "Meanwhile" start an
independent sub-task. Domains come from the router.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_STEP_REF = re.compile(r"\bstep\s+(\d+)\b", re.I)
_CONTINUES = ("then", "finally", "next", "after that", "afterwards", "and then", "lastly", "using", "with that")
_INDEPENDENT = ("separately", "also", "meanwhile", "independently", "in addition", "additionally")


def split_sentences(query: str) -> list[str]:
    """The request's sentences, stripped, empty ones dropped."""
    return [s.strip() for s in _SENTENCE_END.split(" ".join(query.split())) if s.strip()]


def sentence_dependencies(sentences: list[str]) -> list[tuple[int, ...]]:
    """For sentence i (1-based ids), the ids of earlier sentences it needs (module docstring)."""
    out = []
    for i, text in enumerate(sentences, start=1):
        refs = {int(k) for k in _STEP_REF.findall(text) if 0 < int(k) < i}
        low = text.lower().lstrip("\"'( ")
        if not refs and i > 1 and low.startswith(_CONTINUES) and not low.startswith(_INDEPENDENT):
            refs.add(i - 1)
        out.append(tuple(sorted(refs)))
    return out
