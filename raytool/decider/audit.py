"""Whether to start the decider at the teacher, decided from the teacher's own labels before any env step.

Starting the decider where the teacher is (`TEACHER_START`: the actor imitates F_P on the labelled states before
the first rollout, a fifty-times JS pull with STOP guided, the actor held while the critics learn) reaches unguided
RL's final success in 0.4-0.6x the env steps with a good teacher and ends below it with the embedded 135M one
(README, "Starting where the teacher is"; docs/decider.md, "The teacher audit"). Which kind a teacher is can be
read from data the job already holds: `distill rank` labels states of the *training* tasks, whose gold calls are
known, so every record carries the gold option (`DeciderState.gold`; training data, never a request's). The audit
counts how often a choice is the gold option ("gold@1") for

    the teacher       argmax pi_LLM, on every labelled state
    F_P               argmax F_P, on the states of F_P's held-out tasks (its fit never saw them): what the
                      decider would be pulled toward, on requests F_P has not seen
    proposer order    the proposer's best candidate not yet called (the record's `history`), STOP once every
                      candidate was called: what the decider knows with no teacher; on the same states as each

and trusts the teacher when (1) the teacher beats the proposer's order by `AUDIT_MARGIN` on all labelled states
and (2) F_P is at least level with it on the held-out ones (so the teacher's edge carries over to unseen tasks),
on at least `AUDIT_MIN_STATES` held-out states. (1) is measured on every label, so it is the precise one (F_P's
held-out share is a fifth of the tasks: 31 states of the learning test's 200). The figures are written into fp.json
when F_P is fitted (`train_policy_reconstruction`); an F_P without them (fitted before the audit, or on records
without gold options) is not trusted. `DeciderRunConfig.teacher_start` chooses: "audit" (the default), "always"
(start at the teacher whatever the audit says) or "never".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

TEACHER_START = {  # benchmarks/guidance.py's kick-hold, without the labelled states (`teacher_start_settings`)
    "lambda1": 5.0,
    "guide_stop": True,
    "llm_warm_start": 2000,
    "llm_warm_start_lr": 1e-2,
    "critic_warmup": 64,
}
TEACHER_START_MODES = ("audit", "always", "never")
AUDIT_MARGIN = 0.1  # the teacher must pick the gold option on 10 points more of its states than the proposer's order
AUDIT_MIN_STATES = 20  # F_P held-out states: fewer say too little to start anywhere but at the default


def proposer_order_option(record: dict[str, Any]) -> int:
    """The option the proposer's order alone takes at a rank record's state, as an index into [candidates..., STOP]:
    the first candidate not among the record's valid calls so far, else STOP (= len(candidates))."""
    made = set(record.get("history") or ())
    candidates = record["candidates"]
    return next((i for i, name in enumerate(candidates) if name not in made), len(candidates))


def _option_of_slot(choice: int, k: int, top_p: int) -> int:
    """An env action (slots 0..p-1, STOP at `top_p`) as an option index ([candidates..., STOP]; STOP = k)."""
    return k if choice == top_p else choice if choice < k else -1  # -1: an empty slot, never the gold option


def gold_agreement(
    records: Sequence[dict[str, Any]], choices: Sequence[int | None], top_p: int
) -> dict[str, float | int]:
    """{gold_top1, proposer_gold_top1, states} over the records that carry a gold option. `choices`: the chosen
    env action per record (slots 0..p-1, STOP at `top_p`); None: the teacher's own choice, argmax of `pi_llm`."""
    hits, reference = [], []
    for record, choice in zip(records, choices, strict=True):
        gold = int(record.get("gold", -1))
        if gold < 0:
            continue
        k = len(record["candidates"])
        option = int(np.argmax(record["pi_llm"])) if choice is None else _option_of_slot(int(choice), k, top_p)
        hits.append(option == gold)
        reference.append(proposer_order_option(record) == gold)
    if not hits:
        return {"gold_top1": float("nan"), "proposer_gold_top1": float("nan"), "states": 0}
    return {"gold_top1": float(np.mean(hits)), "proposer_gold_top1": float(np.mean(reference)), "states": len(hits)}


def audit_figures(
    records: Sequence[dict[str, Any]], held: Sequence[int], fp_choices: Sequence[int], top_p: int
) -> dict[str, float | int]:
    """The flat `audit_*` figures fp.json keeps: the teacher on every record, F_P (`fp_choices`, env actions) on
    the `held` ones, each beside the proposer's order on the same states."""
    teacher = gold_agreement(records, [None] * len(records), top_p)
    fp = gold_agreement([records[i] for i in held], fp_choices, top_p)
    return {
        "audit_teacher_gold_top1": teacher["gold_top1"],
        "audit_proposer_gold_top1": teacher["proposer_gold_top1"],
        "audit_states": teacher["states"],
        "audit_fp_gold_top1": fp["gold_top1"],
        "audit_fp_proposer_gold_top1": fp["proposer_gold_top1"],
        "audit_heldout_states": fp["states"],
    }


@dataclass(frozen=True)
class TeacherAudit:
    """An F_P checkpoint's audit figures (`audit_figures`, module docstring) and the verdict."""

    teacher_gold_top1: float
    proposer_gold_top1: float
    states: int
    fp_gold_top1: float
    fp_proposer_gold_top1: float
    heldout_states: int
    margin: float = AUDIT_MARGIN
    min_states: int = AUDIT_MIN_STATES

    @classmethod
    def of_metrics(cls, metrics: dict[str, Any]) -> TeacherAudit:
        """From F_P's metrics (NaN / 0 states where they predate the audit)."""
        nan = float("nan")
        return cls(
            float(metrics.get("audit_teacher_gold_top1", nan)),
            float(metrics.get("audit_proposer_gold_top1", nan)),
            int(metrics.get("audit_states", 0)),
            float(metrics.get("audit_fp_gold_top1", nan)),
            float(metrics.get("audit_fp_proposer_gold_top1", nan)),
            int(metrics.get("audit_heldout_states", 0)),
        )

    @classmethod
    def of_checkpoint(cls, fp_dir: str | Path) -> TeacherAudit:
        from raytool.decider.fp_checkpoint import META_FILE
        from raytool.tools.files import read_json

        return cls.of_metrics(read_json(Path(fp_dir) / META_FILE).get("metrics", {}))

    @property
    def trusted(self) -> bool:
        return (
            self.heldout_states >= self.min_states
            and self.teacher_gold_top1 >= self.proposer_gold_top1 + self.margin
            and self.fp_gold_top1 >= self.fp_proposer_gold_top1
        )

    def describe(self) -> str:
        if self.heldout_states < self.min_states:
            held, least = self.heldout_states, self.min_states
            return f"teacher audit: {held} held-out states with a gold option (< {least}): not trusted"
        verdict = "trusted" if self.trusted else "not trusted"
        return (
            f"teacher audit: gold@1 of the teacher {self.teacher_gold_top1:.3f} vs the proposer's order "
            f"{self.proposer_gold_top1:.3f} on {self.states} labelled states (margin {self.margin:g}), of F_P "
            f"{self.fp_gold_top1:.3f} vs {self.fp_proposer_gold_top1:.3f} on {self.heldout_states} held-out: {verdict}"
        )


def teacher_start_settings(mode: str, fp_dir: str | Path | None) -> tuple[dict[str, Any], str]:
    """(training settings to start at the teacher, or {}; a line saying why) for `DeciderRunConfig.teacher_start`.
    Starting needs F_P and the `distill rank` dirs it was fitted on (fp.json's `sources`, the imitation's states)."""
    if mode not in TEACHER_START_MODES:
        raise ValueError(f"teacher_start must be one of {TEACHER_START_MODES}, got {mode!r}")
    if mode == "never":
        return {}, "teacher start: never"
    if fp_dir is None:
        return {}, "teacher start: no F_P (unguided run)"
    from raytool.decider.fp_checkpoint import META_FILE
    from raytool.tools.files import read_json

    meta = read_json(Path(fp_dir) / META_FILE)
    sources = [str(s) for s in meta.get("sources", [])]
    if not sources or not all(Path(s).is_dir() for s in sources):
        return {}, f"teacher start: {fp_dir} names no `distill rank` dirs that exist (fp.json `sources`): not started"
    audit = TeacherAudit.of_metrics(meta.get("metrics", {}))
    if mode == "audit" and not audit.trusted:
        return {}, audit.describe() + ": the default start"
    why = "teacher start: always" if mode == "always" else audit.describe()
    return TEACHER_START | {"llm_warm_start_states": ",".join(sources)}, why + ": started at the teacher"
