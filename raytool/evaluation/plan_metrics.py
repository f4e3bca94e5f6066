"""Plan accuracy: a predicted decomposition against the gold sub-tasks of a request (one per gold call).

    scores = plan_scores(plan.subtasks, gold)      # SubTask list vs `raytool.envs.natural.GoldSubTask` list

Sub-tasks are matched one to one by word overlap: a predicted sub-task and a gold span match when the F1 of their
word multisets is at least `threshold` (0.5), best pairs first. A predicted sub-task that covers two gold spans
matches at most one of them, so merging two actions into one sub-task costs recall, and splitting one into two
costs precision. Then, over the gold sub-tasks:

    segmentation_p / _r / _f1   matched predicted / predicted, matched gold / gold, their harmonic mean
    domain_accuracy             share of gold sub-tasks matched to a predicted one with the same domain
    dependency_accuracy         share of gold sub-tasks matched to a predicted one whose dependencies, mapped
                                through the matching, are exactly the gold call's dependencies (a dependency on
                                an unmatched sub-task never counts as right)
    plan_exact                  1 when every gold sub-task is matched with the right domain and dependencies and
                                nothing extra was predicted
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

_WORD = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")


def words(text: str) -> Counter:
    """The lower-cased words of `text` (ids such as "tr-101" and decimals stay whole), with counts."""
    return Counter(_WORD.findall(text.lower()))


def overlap_f1(a: Counter, b: Counter) -> float:
    """F1 of two word multisets."""
    common = sum((a & b).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def match_subtasks(predicted: Sequence[str], gold: Sequence[str], threshold: float = 0.5) -> dict[int, int]:
    """gold index -> predicted index, one to one, greedily by word-overlap F1 (>= threshold)."""
    pw, gw = [words(t) for t in predicted], [words(t) for t in gold]
    pairs = sorted(
        ((overlap_f1(p, g), gi, pi) for gi, g in enumerate(gw) for pi, p in enumerate(pw)),
        key=lambda x: (-x[0], x[1], x[2]),
    )
    matched: dict[int, int] = {}
    used: set[int] = set()
    for score, gi, pi in pairs:
        if score < threshold:
            break
        if gi not in matched and pi not in used:
            matched[gi] = pi
            used.add(pi)
    return matched


def plan_scores(predicted: Sequence[Any], gold: Sequence[Any], threshold: float = 0.5) -> dict[str, float]:
    """The module docstring's figures. `predicted`: `SubTask`s (ids 1..n, `depends_on` by id); `gold`:
    `GoldSubTask`s (index k = gold call k, `depends_on` by call index)."""
    matched = match_subtasks([p.text for p in predicted], [g.text for g in gold], threshold)
    to_gold = {predicted[pi].id: gi for gi, pi in matched.items()}
    domain_ok = dependency_ok = 0
    for gi, pi in matched.items():
        p, g = predicted[pi], gold[gi]
        domain_ok += p.domain == g.domain
        deps = {to_gold.get(d, -1) for d in p.depends_on}
        dependency_ok += deps == set(g.depends_on)
    n_pred, n_gold, n_match = len(predicted), len(gold), len(matched)
    precision = n_match / n_pred if n_pred else 0.0
    recall = n_match / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    exact = n_match == n_gold == n_pred and domain_ok == dependency_ok == n_gold
    return {
        "segmentation_p": precision,
        "segmentation_r": recall,
        "segmentation_f1": f1,
        "domain_accuracy": domain_ok / n_gold if n_gold else 0.0,
        "dependency_accuracy": dependency_ok / n_gold if n_gold else 0.0,
        "plan_exact": float(exact),
    }
