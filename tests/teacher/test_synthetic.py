"""The synthetic teacher of controlled quality: its rate of ranking the gold option first is q, its mistakes are
plausible (the best-ranked wrong candidate), its draws are reproducible, and it refuses text."""

from __future__ import annotations

import numpy as np
import pytest

from raytool.teacher.backend import Sampling, TeacherConfig, make_teacher
from raytool.teacher.synthetic import SyntheticTeacher, SyntheticTeacherError


@pytest.mark.parametrize("quality", [0.0, 0.2, 0.6, 0.95, 1.0])
def test_gold_first_at_rate_q_and_mistakes_are_the_best_wrong_candidate(quality: float) -> None:
    teacher = SyntheticTeacher(quality, margin=1.0, seed=3)
    firsts = []
    for i in range(2000):
        gold = i % 5  # options: 4 candidates, then STOP
        scores = teacher.rank_options(f"task/{i}", 5, gold, stop_last=True)
        order = list(np.argsort(-np.asarray(scores), kind="stable"))
        firsts.append(order[0] == gold)
        if order[0] != gold:
            assert order[0] == (1 if gold == 0 else 0)  # the best-ranked candidate that is not the gold one
        assert sorted(scores) == [-4.0, -3.0, -2.0, -1.0, 0.0]  # one position per option, margin apart
    assert np.mean(firsts) == pytest.approx(quality, abs=0.03)  # binomial sd <= 0.011 at n = 2000


def test_draws_are_reproducible_per_state_and_seed() -> None:
    a, b = SyntheticTeacher(0.5, seed=1), SyntheticTeacher(0.5, seed=1)
    assert [a.rank_options(f"k{i}", 4, 2, True) for i in range(50)] == [
        b.rank_options(f"k{i}", 4, 2, True) for i in range(50)
    ]  # noqa: E501
    other = SyntheticTeacher(0.5, seed=2)
    assert [a.rank_options(f"k{i}", 4, 2, True) for i in range(50)] != [
        other.rank_options(f"k{i}", 4, 2, True) for i in range(50)
    ]  # noqa: E501


def test_built_from_config_and_refuses_text() -> None:
    teacher = make_teacher(TeacherConfig(backend="synthetic", quality=0.4))
    assert isinstance(teacher, SyntheticTeacher) and teacher.model_name == "synthetic-q0.4"
    with pytest.raises(SyntheticTeacherError):
        teacher.generate(["hi"], Sampling())
    with pytest.raises(SyntheticTeacherError):
        teacher.score(["hi"], [["a"]])
    with pytest.raises(ValueError, match="quality"):
        SyntheticTeacher(1.5)
    with pytest.raises(ValueError, match="gold option 5"):
        teacher.rank_options("k", 5, 5, True)
