"""Training examples from gold calls and teacher records, task splits, and `ProposerConfig` validation."""

from __future__ import annotations

import pytest

from raytool.envs.retrieval import top_k
from raytool.proposer.config import ProposerConfig
from raytool.proposer.data import build_examples, document_retriever, split_tasks, task_labels
from raytool.tools.task import Task
from tests.proposer.catalogue import catalogue, task, tasks


def test_one_whole_query_example_per_task_and_sentences_aligned_to_their_tools() -> None:
    config = ProposerConfig(hard_negatives=0)
    all_tasks = tasks()
    examples = build_examples(all_tasks, catalogue(), config)
    whole = [e for e in examples if e.text in {t.query for t in all_tasks}]
    assert [e.task_id for e in whole] == [t.id for t in all_tasks]
    assert all(e.positives == tuple(t.tool_names) for e, t in zip(whole, all_tasks, strict=True))
    by_text = {e.text: e for e in examples}
    assert by_text["Book a flight ticket from Paris to Rome."].positives == ("book_flight",)
    assert by_text["Then tell me the weather forecast in Rome."].positives == ("get_weather",)
    assert by_text["Look up the stock price of ACME."].positives == ("get_stock_price",)
    assert by_text["Then convert that amount of money to yen."].positives == ("convert_currency",)
    assert by_text["Schedule a meeting with Alice at noon."].positives == ("schedule_meeting",)
    assert by_text["Reserve a hotel room in Rome for three nights."].positives == ("book_hotel",)
    assert by_text["Then book a flight ticket to Rome."].positives == ("book_flight",)
    multi = sum(1 for t in all_tasks if len(t.tool_names) == 2)
    assert len(examples) == len(all_tasks) + 2 * multi  # single-sentence tasks give no sentence examples
    first = [e.text for e in examples if e.task_id == "t0"]
    assert first == [all_tasks[0].query, "Book a flight ticket from Paris to Rome.",
                     "Then tell me the weather forecast in Rome."]  # fmt: skip


def test_sentence_without_a_tool_gives_no_example_and_segment_false_gives_none() -> None:
    greeting = task("g", "Hello there, friend. Please convert 100 dollars to euros.", ["convert_currency"])
    examples = build_examples([greeting], catalogue(), ProposerConfig(hard_negatives=0))
    assert [(e.text, e.positives) for e in examples] == [
        (greeting.query, ("convert_currency",)),
        ("Please convert 100 dollars to euros.", ("convert_currency",)),
    ]
    flat = build_examples(tasks(), catalogue(), ProposerConfig(hard_negatives=0, segment=False))
    assert [e.text for e in flat] == [t.query for t in tasks()]


def test_hard_negatives_never_include_positives() -> None:
    config = ProposerConfig(hard_negatives=3, hard_negative_pool=6)
    examples = build_examples(tasks(), catalogue(), config)
    assert all(len(e.hard_negatives) == 3 for e in examples)
    for e in examples:
        assert not set(e.hard_negatives) & set(e.positives)
        assert len(set(e.hard_negatives)) == len(e.hard_negatives)
        assert set(e.hard_negatives) <= set(catalogue())
    assert build_examples(tasks(), catalogue(), config) == examples  # seeded
    assert all(e.hard_negatives == () for e in build_examples(tasks(), catalogue(), config.replace(hard_negatives=0)))


def test_hard_negatives_come_from_the_best_lexical_matches() -> None:
    config = ProposerConfig(hard_negatives=2, hard_negative_pool=3)
    retriever = document_retriever(catalogue())
    for e in build_examples(tasks(), catalogue(), config):
        pool = {retriever.names[i] for i in top_k(retriever.scores(e.text), 3)} - set(e.positives)
        assert set(e.hard_negatives) <= pool
        assert len(e.hard_negatives) == min(2, len(pool))


def _records() -> dict[str, dict]:
    return {
        "t1": {"teacher_tools": ["get_weather", "book_hotel", "get_weather", "not_a_tool"],
               "gold_rationale": "The user wants a forecast.", "gold_rationale_ok": True},
        "t2": {"teacher_tools": ["calculate_loan"], "gold_rationale": "Money is involved.", "gold_rationale_ok": False},
        "t8": {"teacher_tools": ["get_recipe"], "gold_rationale": "A recipe."},
        "nocalls": {"teacher_tools": ["order_pizza"], "gold_rationale": "Pizza."},
    }  # fmt: skip


def _with_uncalled() -> list[Task]:
    return [*tasks(), Task("nocalls", "I am hungry, bring me something hot.")]


def test_label_source_gold_uses_gold_calls_and_skips_tasks_without_them() -> None:
    examples = build_examples(_with_uncalled(), catalogue(), ProposerConfig(hard_negatives=0), _records())
    whole = {e.task_id: e for e in examples if e.text in {t.query for t in _with_uncalled()}}
    assert "nocalls" not in whole
    assert whole["t1"].positives == ("get_weather",)
    assert whole["t2"].positives == ("convert_currency",)


def test_label_source_teacher_uses_the_teachers_choices_deduplicated_and_known() -> None:
    config = ProposerConfig(hard_negatives=0, label_source="teacher")
    examples = build_examples(_with_uncalled(), catalogue(), config, _records())
    whole = {e.task_id: e for e in examples if e.text in {t.query for t in _with_uncalled()}}
    assert set(whole) == {"t1", "t2", "t8", "nocalls"}  # tasks without a record have no label
    assert whole["t1"].positives == ("get_weather", "book_hotel")
    assert whole["t2"].positives == ("calculate_loan",)
    assert whole["nocalls"].positives == ("order_pizza",)


def test_label_source_both_prefers_gold_and_falls_back_to_the_teacher() -> None:
    config = ProposerConfig(hard_negatives=0, label_source="both")
    examples = build_examples(_with_uncalled(), catalogue(), config, _records())
    whole = {e.task_id: e for e in examples if e.text in {t.query for t in _with_uncalled()}}
    assert set(whole) == {t.id for t in _with_uncalled()}
    assert whole["t1"].positives == ("get_weather",)
    assert whole["nocalls"].positives == ("order_pizza",)
    assert task_labels(Task("x", "q"), None, "both") == []


def test_rationales_go_to_whole_query_examples_when_the_teacher_was_right() -> None:
    examples = build_examples(_with_uncalled(), catalogue(), ProposerConfig(hard_negatives=0), _records())
    rationale = {e.text: e.rationale for e in examples}
    queries = {t.id: t.query for t in tasks()}
    assert rationale[queries["t1"]] == "The user wants a forecast."
    assert rationale[queries["t2"]] == ""  # gold_rationale_ok False
    assert rationale[queries["t8"]] == "A recipe."  # no flag: kept
    assert rationale[queries["t0"]] == ""  # no record
    whole = set(queries.values())
    assert all(e.rationale == "" for e in examples if e.text not in whole)


def test_split_tasks_is_seeded_disjoint_and_keeps_a_validation_task() -> None:
    all_tasks = tasks()
    train, val = split_tasks(all_tasks, 0.25, seed=3)
    assert len(val) == 3 and len(train) == len(all_tasks) - 3
    assert not {t.id for t in train} & {t.id for t in val}
    assert {t.id for t in train} | {t.id for t in val} == {t.id for t in all_tasks}
    again = split_tasks(all_tasks, 0.25, seed=3)
    assert [t.id for t in again[0]] == [t.id for t in train] and [t.id for t in again[1]] == [t.id for t in val]
    others = {tuple(t.id for t in split_tasks(all_tasks, 0.25, seed=s)[1]) for s in range(10)}
    assert len(others) > 1  # the seed matters
    assert len(split_tasks(all_tasks, 0.001, seed=0)[1]) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label_source": "oracle"}, "label_source"),
        ({"train_layers": 7}, "train_layers"),
        ({"train_layers": -1}, "train_layers"),
        ({"alpha": -0.1}, "alpha"),
        ({"val_fraction": 0.0}, "val_fraction"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"temperature": 0.0}, "temperature"),
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": 0}, "epochs"),
    ],
)
def test_config_rejects_bad_values(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProposerConfig(**changes)
    with pytest.raises(ValueError, match=message):
        ProposerConfig().replace(**changes)


def test_config_round_trips_and_from_dict_names_unknown_keys() -> None:
    config = ProposerConfig(alpha=0.5, max_steps=3, label_source="both")
    assert ProposerConfig.from_dict(config.to_dict()) == config
    assert config.replace(batch_size=8).batch_size == 8 and config.replace(batch_size=8).alpha == 0.5
    with pytest.raises(ValueError, match="^<proposer config>: proposer: unknown key 'bogus'") as err:
        ProposerConfig.from_dict({"alpha": 0.1, "bogus": 1, "zzz": 2})
    assert "temperature" in str(err.value)  # lists the known settings
