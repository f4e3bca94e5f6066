"""`SyntheticTeacher`: a teacher of controlled quality q, for measuring when LLM guidance pays off.

    teacher = make_teacher(TeacherConfig(backend="synthetic", quality=0.6))
    raytool distill rank --tasks out/l2 --out out/rank-q0.6 --teacher synthetic-0.6.yaml   # the same path as an LLM

A real teacher's quality is whatever it is (the embedded 135M model rarely ranks the right tool first); this one's is
a dial. For each decider state it is shown the options (the candidates, then STOP) and the index of the gold next
option (what the env's oracle would do: the next gold call's tool when it is offered, else STOP). With probability
`quality` it ranks the gold option first; otherwise it ranks first a *plausible* wrong option: the best-ranked
candidate that is not the gold one (the proposer's slot order: the confusable choice a weak LLM makes), or STOP when
no other candidate exists. The remaining options follow in slot order (STOP last). The ranking becomes log-scores

    logprob_i = -margin * position_i                 (pi_LLM = softmax(logprob / T) in `distill rank`)

so it goes through the same `distill rank` -> F_P -> decider path as an LLM's likelihood scores. Draws are
deterministic per state key (task, step, index) and seed, so a resumed `distill rank` labels identically.

It answers no text prompts: `chat`, `generate` and `score` raise `SyntheticTeacherError`.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from raytool.teacher.backend import CandidateScores, Sampling


class SyntheticTeacherError(RuntimeError):
    """A synthetic teacher was asked for text; it only ranks decider states whose gold option is known."""


class SyntheticTeacher:
    """See the module docstring. quality: P(gold option ranked first); margin: log-score gap between positions."""

    def __init__(self, quality: float, margin: float = 1.0, seed: int = 0) -> None:
        if not 0.0 <= quality <= 1.0 or margin <= 0:
            raise ValueError(f"synthetic teacher: need 0 <= quality <= 1 and margin > 0, got {quality}, {margin}")
        self.quality, self.margin, self.seed = float(quality), float(margin), int(seed)
        self.model_name = f"synthetic-q{self.quality:g}"

    def rank_options(self, key: str, num_options: int, gold: int, stop_last: bool) -> list[float]:
        """Log-scores of `num_options` options (candidates in slot order, then STOP if `stop_last`) for the state
        `key` whose gold option is `gold` (0 <= gold < num_options)."""
        if not 0 <= gold < num_options:
            raise ValueError(f"state {key}: gold option {gold} is not among {num_options} options")
        draw = random.Random(_digest(f"{self.seed}/{key}"))
        first = gold
        if draw.random() >= self.quality:
            candidates = range(num_options - 1 if stop_last else num_options)
            wrong = [i for i in candidates if i != gold] or [i for i in range(num_options) if i != gold]
            first = wrong[0] if wrong else gold
        order = [first] + [i for i in range(num_options) if i != first]
        scores = [0.0] * num_options
        for position, option in enumerate(order):
            scores[option] = -self.margin * position
        return scores

    # -- the text API of `TeacherBackend`: not available ------------------------------------------------------
    def chat(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str]:
        raise SyntheticTeacherError("a synthetic teacher has no chat template: it only ranks decider states")

    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[str]:
        raise SyntheticTeacherError("a synthetic teacher generates no text: use it with `distill rank` only")

    def score(self, prompts: Sequence[str], candidates: Sequence[Sequence[str]]) -> CandidateScores:
        raise SyntheticTeacherError("a synthetic teacher scores decider states, not text: use `distill rank`")

    def close(self) -> None:
        pass


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
