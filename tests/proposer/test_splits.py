"""Held-out-field splits: test tasks only use tools of fields never seen in training."""

from __future__ import annotations

import pytest

from raytool.proposer.splits import field_split, top_field
from tests.proposer.catalogue import catalogue, task, tasks, tool


def _tasks():
    # the catalogue's tasks stay within one field each; two more mix fields
    mixed = [
        task("mix1", "Reserve a hotel and convert the price to euros.", ["book_hotel", "convert_currency"]),
        task("mix2", "Email me a pizza recipe.", ["send_email", "get_recipe"]),
    ]
    return [*tasks(), *mixed]


def test_top_field() -> None:
    cat = catalogue()
    assert top_field(cat["book_flight"]) == "Travel"
    assert top_field(cat["send_email"]) == "Office"
    assert top_field(tool("x", "", "no domain", {})) == "(none)"


def test_field_split_separates_fields() -> None:
    cat = catalogue()
    split = field_split(_tasks(), cat, held_out_fraction=0.3, seed=0)
    held = set(split.held_out_fields)
    assert held and held < {top_field(s) for s in cat.values()}
    assert split.held_out_tools == sum(top_field(s) in held for s in cat.values())
    assert split.held_out_tools >= 0.3 * len(cat)
    for t in split.test:
        assert all(top_field(cat[n]) in held for n in t.tool_names)
    for t in split.train:
        assert all(top_field(cat[n]) not in held for n in t.tool_names)
    mixed = [t for t in _tasks() if len({top_field(cat[n]) in held for n in t.tool_names}) == 2]
    assert split.dropped == len(mixed)
    assert len(split.train) + len(split.test) + split.dropped == len(_tasks())
    assert split.test and split.train


def test_field_split_counts_mixed_tasks_as_dropped() -> None:
    cat = catalogue()
    for seed in range(8):
        split = field_split(_tasks(), cat, 0.5, seed)
        kept = {t.id for t in split.train} | {t.id for t in split.test}
        held = set(split.held_out_fields)
        for t in _tasks():
            sides = {top_field(cat[n]) in held for n in t.tool_names}
            assert (t.id not in kept) == (len(sides) == 2)


def test_field_split_is_seeded() -> None:
    cat = catalogue()
    a, b = field_split(_tasks(), cat, 0.3, seed=5), field_split(_tasks(), cat, 0.3, seed=5)
    assert a.held_out_fields == b.held_out_fields
    assert [t.id for t in a.test] == [t.id for t in b.test] and [t.id for t in a.train] == [t.id for t in b.train]
    assert len({field_split(_tasks(), cat, 0.3, seed=s).held_out_fields for s in range(10)}) > 1


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5])
def test_field_split_rejects_bad_fractions(fraction: float) -> None:
    with pytest.raises(ValueError, match="held_out_fraction"):
        field_split(tasks(), catalogue(), fraction)
