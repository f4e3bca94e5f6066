"""The teacher audit: its figures on hand-built records, its verdict at the margin, the F_P fit that writes it, and
the run settings it chooses (`raytool.decider.audit`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from raytool.decider.audit import (
    AUDIT_MARGIN,
    AUDIT_MIN_STATES,
    TEACHER_START,
    TeacherAudit,
    gold_agreement,
    proposer_order_option,
    teacher_start_settings,
)
from raytool.decider.fp_train import PolicyTrainConfig, train_policy_reconstruction
from raytool.decider.train import DeciderRunConfig, run_training
from raytool.distill.rank import rank_states
from raytool.teacher.synthetic import SyntheticTeacher
from tests.decider.test_fp_train import sampled  # noqa: F401  (the module fixture: 240 states of 20 cpn tasks)


def _record(candidates, history, gold) -> dict:
    return {"candidates": candidates, "history": history, "gold": gold}


def test_the_proposer_order_takes_its_best_candidate_not_yet_called_then_stops() -> None:
    assert proposer_order_option(_record(["a", "b", "c"], [], 0)) == 0
    assert proposer_order_option(_record(["a", "b", "c"], ["a"], 1)) == 1
    assert proposer_order_option(_record(["a", "b", "c"], ["b", "a"], 2)) == 2
    assert proposer_order_option(_record(["a", "b"], ["a", "b"], 2)) == 2  # all called: STOP, the option after them


def test_gold_agreement_counts_a_choice_and_the_proposer_order_on_records_with_a_gold_option() -> None:
    top_p = 4
    records = [
        _record(["a", "b", "c"], [], 0),  # proposer right; F_P says b: wrong
        _record(["a", "b", "c"], ["a"], 1),  # proposer right (b); F_P right
        _record(["a", "b", "c"], ["a", "b"], 3),  # gold STOP (option k = 3); proposer says c: wrong; F_P STOP (slot p)
        _record(["a", "b"], ["a"], 2),  # gold STOP; F_P says a: wrong; proposer says b: wrong
        _record(["a", "b"], [], -1),  # no gold option (an older record): left out
    ]
    figures = gold_agreement(records, [1, 1, top_p, 0, 0], top_p)
    assert figures == {"gold_top1": 0.5, "proposer_gold_top1": 0.5, "states": 4}
    # STOP is slot p in the env's action order, not option k: a choice of slot k (= 3, an empty slot) is not STOP
    assert gold_agreement(records[2:3], [3], top_p)["gold_top1"] == 0.0
    empty = gold_agreement(records[4:], [0], top_p)
    assert empty["states"] == 0 and math.isnan(empty["gold_top1"])
    # None: the teacher's own choice, argmax of pi_LLM over [candidates..., STOP]; without STOP scored it never stops
    scores = ([0.7, 0.2, 0.1], [0.5, 0.1, 0.1, 0.3], [0.2, 0.3, 0.5])  # right; wrong (a, gold b); wrong (c, no STOP)
    teacher = [r | {"pi_llm": pi} for r, pi in zip(records[:3], scores, strict=True)]
    assert gold_agreement(teacher, [None] * 3, top_p)["gold_top1"] == pytest.approx(1 / 3)


def test_the_audit_trusts_a_teacher_only_past_the_margin_with_fp_level_and_on_enough_states() -> None:
    def audit(teacher, proposer, fp, fp_proposer, held=40):
        return TeacherAudit(teacher, proposer, 200, fp, fp_proposer, held)

    assert audit(0.80, 0.45, 0.55, 0.45).trusted
    assert audit(0.45 + AUDIT_MARGIN, 0.45, 0.45, 0.45).trusted  # the margin itself is enough; F_P level is enough
    assert not audit(0.50, 0.45, 0.70, 0.45).trusted  # the teacher is ahead by less than the margin
    assert not audit(0.80, 0.45, 0.42, 0.45).trusted  # F_P does not carry the teacher's edge to unseen tasks
    assert not audit(0.80, 0.45, 0.55, 0.45, held=AUDIT_MIN_STATES - 1).trusted  # too few states to say
    nan = math.nan
    assert not TeacherAudit(nan, nan, 0, nan, nan, 0).trusted  # an F_P fitted before the audit
    assert "not trusted" in audit(0.50, 0.45, 0.70, 0.45).describe()
    assert TeacherAudit.of_metrics({}).heldout_states == 0


@pytest.fixture(scope="module")
def audited(sampled, tmp_path_factory):  # noqa: F811
    """F_P of a perfect (q = 1) and of an always-wrong (q = 0) synthetic teacher on the same 240 states."""
    root, data, config, states = sampled
    out = tmp_path_factory.mktemp("audit")
    fits = {}
    for quality in (1.0, 0.0):
        rank_dir = out / f"rank-q{quality:g}"
        records = rank_states(states, data.tools, rank_dir, SyntheticTeacher(quality), config, log=lambda _: None)
        fp_dir = out / f"fp-q{quality:g}"
        train = PolicyTrainConfig(width=32, heads=2, layers=1, epochs=12, lr=3e-3, batch_size=32, seed=0)
        metrics = train_policy_reconstruction(records, train, fp_dir, log=lambda _: None, env=config.env_settings(),
                                              sources=[rank_dir])  # fmt: skip
        fits[quality] = (rank_dir, fp_dir, metrics)
    return fits


def test_fitting_fp_writes_the_audit_and_it_separates_a_good_teacher_from_a_wrong_one(audited) -> None:
    good_rank, good_fp, good = audited[1.0]
    _, bad_fp, bad = audited[0.0]
    for metrics in (good, bad):
        assert metrics["audit_states"] == metrics["train_states"] + metrics["heldout_states"]
        assert metrics["audit_heldout_states"] == metrics["heldout_states"] >= AUDIT_MIN_STATES
    for key in ("audit_proposer_gold_top1", "audit_fp_proposer_gold_top1"):  # the same states, the same reference
        assert good[key] == bad[key]
    assert good["audit_teacher_gold_top1"] == 1.0 and bad["audit_teacher_gold_top1"] == 0.0  # q = 1 and q = 0
    report = ", ".join(f"{k} {good[k]:.3f} / {bad[k]:.3f}" for k in good if k.startswith("audit_"))
    # measured: F_P 0.587 (q = 1) and 0.326 (q = 0) against the proposer's 0.348 on 46 held-out states
    assert good["audit_fp_gold_top1"] >= bad["audit_fp_gold_top1"] + 0.2, report  # F_P learnt each on unseen tasks
    assert bad["audit_fp_gold_top1"] < good["audit_fp_proposer_gold_top1"], report
    meta = json.loads((good_fp / "fp.json").read_text())
    assert meta["sources"] == [str(good_rank.resolve())]
    assert TeacherAudit.of_checkpoint(good_fp).trusted, report
    assert not TeacherAudit.of_checkpoint(bad_fp).trusted, report


def test_the_run_starts_at_the_teacher_only_when_the_audit_says_so(audited, tmp_path: Path) -> None:
    good_rank, good_fp, _ = audited[1.0]
    _, bad_fp, _ = audited[0.0]
    settings, why = teacher_start_settings("audit", good_fp)
    assert settings == TEACHER_START | {"llm_warm_start_states": str(good_rank.resolve())} and "trusted" in why
    assert teacher_start_settings("audit", bad_fp)[0] == {}
    assert teacher_start_settings("always", bad_fp)[0]["llm_warm_start_states"]  # "always" does not ask
    assert teacher_start_settings("never", good_fp)[0] == {}
    assert teacher_start_settings("audit", None)[0] == {}  # no F_P: nothing to start at

    moved = tmp_path / "fp"  # an F_P whose labelled states are gone cannot be imitated: the default start
    moved.mkdir()
    meta = json.loads((good_fp / "fp.json").read_text()) | {"sources": [str(tmp_path / "gone")]}
    (moved / "fp.json").write_text(json.dumps(meta))
    settings, why = teacher_start_settings("audit", moved)
    assert settings == {} and "names no `distill rank` dirs" in why

    # the run's own settings win over the start's; the default run config audits
    assert DeciderRunConfig().teacher_start == "audit"
    training, _ = run_training(DeciderRunConfig(training={"lambda1": 0.3}), good_fp)
    assert training["lambda1"] == 0.3 and training["critic_warmup"] == TEACHER_START["critic_warmup"]
    assert run_training(DeciderRunConfig(training={"lambda1": 0.3}), bad_fp)[0] == {"lambda1": 0.3}
    with pytest.raises(ValueError, match="teacher_start must be one of"):
        DeciderRunConfig(teacher_start="maybe")
