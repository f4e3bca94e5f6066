"""The filler end to end with the model-free encoder: options, greedy assignment, missing values, references,
bad input; and a learning test (a scorer trained on generated requests must fill held-out ones)."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import torch

from raytool.filler.data import positives_for, request_examples
from raytool.filler.encoder import HashSpanEncoder
from raytool.filler.filler import ArgumentFiller, _width_groups, decide
from raytool.filler.model import FillerScorer, multi_positive_loss
from raytool.filler.options import EarlierCall, Option, result_fields
from raytool.filler.spans import Candidate
from raytool.filler.train import FillerTrainConfig, _batch, train_scorer
from raytool.tools.call import ToolCall, result_ref
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

BOOK = ToolSpec(
    "book_flight",
    "Book a flight",
    {
        "type": "object",
        "properties": {
            "origin": {"type": "string", "description": "city the flight leaves from"},
            "destination": {"type": "string", "description": "city the flight goes to"},
            "seats": {"type": "integer", "description": "number of seats"},
            "cabin": {"type": "string", "enum": ["economy", "business"], "description": "cabin class"},
        },
        "required": ["origin", "destination", "seats"],
    },
    returns={"type": "object", "properties": {"booking_id": {"type": "string", "description": "the booking"}}},
)
PAY = ToolSpec(
    "pay_booking",
    "Pay for a booking",
    {"type": "object", "properties": {"booking_id": {"type": "string"}}, "required": ["booking_id"]},
)
CITIES = ["Paris", "Lima", "Oslo", "Quito", "Tokyo", "Cairo", "Perth", "Dakar", "Hanoi", "Minsk", "Accra", "Seoul"]


def _tasks(n: int, seed: int) -> list[Task]:
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        a, b = rng.sample(CITIES, 2)
        seats = rng.randint(1, 9)
        args = {"origin": a, "destination": b, "seats": seats}
        forms = [f"Book {seats} seats from {a} to {b}.", f"I need a flight to {b} from {a} for {seats} people."]
        query = rng.choice(forms)
        if rng.random() < 0.5:
            query += " Travel business class."
            args["cabin"] = "business"
        calls = [ToolCall("book_flight", args)]
        if rng.random() < 0.5:
            query += " Then pay for it."
            calls.append(ToolCall.with_inferred_deps("pay_booking", {"booking_id": result_ref(0, "booking_id")}))
        tasks.append(Task(f"t{seed}-{i}", query, tuple(calls)))
    return tasks


def test_multi_positive_loss_is_minus_log_of_the_positives_mass() -> None:
    scores = torch.tensor([[0.0, 0.0, 0.0, 0.0]])
    positives = torch.tensor([[True, True, False, False]])
    assert float(multi_positive_loss(scores, positives)) == pytest.approx(-np.log(0.5))


def test_the_shared_candidates_path_scores_and_trains_like_the_padded_options() -> None:
    """`forward_shared` (the candidates projected once per request) gives `forward`'s scores and gradients on the
    same request padded per parameter; requests with a reference option (paid bookings) and a zero 'absent' vector."""
    torch.manual_seed(0)
    examples = request_examples(_tasks(6, 3), {s.name: s for s in (BOOK, PAY)}, HashSpanEncoder())
    example = next(e for e in examples if any(len(h) > 1 for h in e.heads))  # a parameter with a reference
    params, heads, spans, feats, mask, pos = _batch(example)
    padded = torch.zeros(*mask.shape, spans.shape[1])
    for i, own in enumerate(heads):
        padded[i, : len(own) + len(spans)] = torch.cat([own, spans])
    scorer = FillerScorer(dim=params.shape[1], hidden=8, dropout=0.0)
    grads = []
    for scores in (scorer(params, padded, feats, mask), scorer.forward_shared(params, heads, spans, feats, mask)):
        scorer.zero_grad()
        multi_positive_loss(scores, pos).backward()
        grads.append(([s.detach() for s in scores], [q.grad.clone() for q in scorer.parameters()]))
    (a, grad_a), (b, grad_b) = grads
    assert len(heads) >= 2 and len({len(h) for h in heads}) > 1  # parameters with different own options
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-5)
    for x, y in zip(grad_a, grad_b, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-6)


def _value(text: str, start: int) -> Option:
    return Option("value", candidate=Candidate(text, start, start + len(text), "span", 1))


def test_decide_assigns_greedily_without_overlap_and_reports_missing_and_rejected() -> None:
    props = {"a": {"type": "string"}, "b": {"type": "string"}, "n": {"type": "integer"}, "e": {"enum": ["x"]}}
    options = [
        [Option("absent"), _value("Paris", 0)],
        [Option("absent"), _value("Paris", 0), _value("Lima", 10)],  # Paris is a's (higher score): b takes Lima
        [Option("absent"), _value("many", 20)],  # "many" is not an integer: n falls back to absent -> missing
        [Option("absent"), _value("window", 30)],  # not an enum member: rejected, optional so not missing
    ]
    probs = [np.array([0.1, 0.9]), np.array([0.1, 0.5, 0.4]), np.array([0.2, 0.8]), np.array([0.3, 0.7])]
    fill = decide(list(props), props, ["a", "b", "n"], options, probs)
    assert fill.arguments == {"a": "Paris", "b": "Lima"}
    assert fill.missing == ("n",)
    assert fill.rejected == {"n": "not an integer", "e": "enum"}


PAIRS = [("site_a", "site_b"), ("mass1", "mass2"), ("siteA", "siteB"), ("a", "b")]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_the_first_and_second_of_one_thing_take_their_values_in_the_requests_order(first, second) -> None:
    """The latency between nyc-dc1 and sin-dc3, the scorer having the two the other way round."""
    props = {first: {"type": "string"}, second: {"type": "string"}}
    options = [[Option("absent"), _value("nyc-dc1", 20), _value("sin-dc3", 32)]] * 2
    probs = [np.array([0.0, 0.3, 0.7]), np.array([0.0, 0.6, 0.4])]
    assert decide([first, second], props, [first, second], options, probs).arguments == {
        first: "nyc-dc1", second: "sin-dc3"
    }  # fmt: skip


def test_a_pair_is_ordered_by_each_values_first_mention() -> None:
    """The latency between nyc-dc1 and sin-dc3, and how loaded is nyc-dc1: site_b had taken the later nyc-dc1."""
    props = {"site_a": {"type": "string"}, "site_b": {"type": "string"}}
    options = [[Option("absent"), _value("nyc-dc1", 20), _value("sin-dc3", 32), _value("nyc-dc1", 60)]] * 2
    probs = [np.array([0.0, 0.1, 0.7, 0.2]), np.array([0.0, 0.2, 0.2, 0.6])]
    assert decide(list(props), props, [], options, probs).arguments == {"site_a": "nyc-dc1", "site_b": "sin-dc3"}


def test_values_are_not_put_in_order_across_types_or_for_parameters_not_named_as_a_pair() -> None:
    options = [[Option("absent"), _value("ab-1", 10), _value("12", 30)]] * 2
    probs = [np.array([0.0, 0.1, 0.9]), np.array([0.0, 0.8, 0.2])]
    typed = {"n_a": {"type": "integer"}, "n_b": {"type": "string"}}  # "ab-1" is not an integer: no swap
    assert decide(list(typed), typed, [], options, probs).arguments == {"n_a": 12, "n_b": "ab-1"}
    named = {"origin": {"type": "string"}, "destination": {"type": "string"}}  # not a first and a second
    assert decide(list(named), named, [], options, probs).arguments == {"origin": "12", "destination": "ab-1"}


def test_a_list_candidate_yields_its_comma_joined_value_and_is_a_positive_for_it() -> None:
    cand = Candidate("cats and dogs", 5, 18, "list", 3, "cats, dogs")
    options = [Option("absent"), Option("value", candidate=cand), _value("cats", 5)]
    assert positives_for(options, "cats, dogs", {"type": "string"}, "animals").tolist() == [False, True, False]
    assert positives_for(options, ["cats", "dogs"], {"type": "array"}, "animals").tolist() == [False, True, False]
    fill = decide(["animals"], {"animals": {"type": "string"}}, [], [options], [np.array([0.1, 0.6, 0.3])])
    assert fill.arguments == {"animals": "cats, dogs"}


def test_a_boolean_the_scorer_left_absent_is_read_from_its_name_in_the_request() -> None:
    props = {"car_id": {"type": "string"}, "full_coverage": {"type": "boolean"}, "add_gps": {"type": "boolean"}}
    options = [[Option("absent"), _value("CR-1", 4)], [Option("absent")], [Option("absent"), _value("yes", 40)]]
    probs = [np.array([0.1, 0.9]), np.array([1.0]), np.array([0.9, 0.1])]
    with_it = decide(list(props), props, ["car_id"], options, probs, "rent CR-1 with full coverage")
    assert with_it.arguments == {"car_id": "CR-1", "full_coverage": True}  # add_gps not named: left out
    without = decide(list(props), props, ["car_id"], options, probs, "rent CR-1, no full coverage")
    assert without.arguments == {"car_id": "CR-1", "full_coverage": False}
    assert decide(list(props), props, ["car_id"], options, probs).arguments == {"car_id": "CR-1"}  # no request text


def test_an_enum_member_the_request_writes_is_read_for_a_parameter_left_absent() -> None:
    """ "9 free aisle seats in business": the scorer left `position` and `cabin` absent (people write the member
    without the parameter's name); each takes its one written member. Not when the member is taken by another
    parameter's value, is written twice over (two members), is general ("any"), or belongs to two parameters."""
    props = {
        "flight_id": {"type": "string"},
        "cabin": {"enum": ["economy", "business"]},
        "position": {"enum": ["any", "window", "aisle"]},
    }
    options = [[Option("absent"), _value("BR1", 0)], [Option("absent")], [Option("absent")]]
    probs = [np.array([0.1, 0.9]), np.array([1.0]), np.array([1.0])]
    fill = decide(list(props), props, ["flight_id"], options, probs, "BR1: 9 free aisle seats in business")
    assert fill.arguments == {"flight_id": "BR1", "cabin": "business", "position": "aisle"}
    assert decide(list(props), props, [], options, probs, "BR1: any seats").arguments == {"flight_id": "BR1"}
    two = decide(list(props), props, [], options, probs, "BR1 in business or economy, window")
    assert two.arguments == {"flight_id": "BR1", "position": "window"}  # cabin: which of the two is a guess
    taken = [[Option("absent"), _value("business", 0)], [Option("absent")], [Option("absent")]]
    assert "cabin" not in decide(list(props), props, [], taken, probs, "business class").arguments
    shared = {**props, "fare": {"enum": ["economy", "business"]}}
    opts4, probs4 = [*options, [Option("absent")]], [*probs, np.array([1.0])]
    assert decide(list(shared), shared, [], opts4, probs4, "BR1 in business").arguments == {"flight_id": "BR1"}


def test_an_enum_value_inside_a_longer_candidate_uses_only_its_own_words() -> None:
    """ "sized for a small training workload": `workload` reads "training" from the candidate "small training";
    `scale` must still get "small" from it (the old rule reserved the whole candidate and left `scale` missing)."""
    text = "a small training workload"
    props = {"workload": {"enum": ["training", "web"]}, "scale": {"enum": ["small", "large"]}}
    options = [
        [Option("absent"), _value("small training", 2)],
        [Option("absent"), _value("small training", 2), _value("small", 2)],
    ]
    assert text[2:16] == "small training"
    probs = [np.array([0.1, 0.9]), np.array([0.1, 0.6, 0.3])]
    fill = decide(list(props), props, list(props), options, probs)
    assert fill.arguments == {"workload": "training", "scale": "small"} and fill.complete
    # a plain string parameter still reserves its whole candidate
    props = {"a": {"type": "string"}, "scale": {"enum": ["small", "large"]}}
    fill = decide(list(props), props, [], options, probs)
    assert fill.arguments == {"a": "small training"} and fill.rejected == {}


def test_the_latest_earlier_call_is_marked_most_recent() -> None:
    from raytool.filler.features import FEATURES, RequestFeatures
    from raytool.filler.model import EXTRA
    from raytool.filler.options import parameter_options
    from raytool.filler.spans import extract

    cands = RequestFeatures(extract("pay for it"))
    vectors = np.zeros((len(cands.cands.items), 8), np.float32)
    earlier = [EarlierCall(0, BOOK), EarlierCall(1, BOOK), EarlierCall(2, BOOK)]
    options, _, feats = parameter_options("booking_id", {}, True, cands, vectors, earlier, lambda t: np.zeros(4))
    recent = feats[:, len(FEATURES) + EXTRA.index("ref_recent")]
    refs = {o.ref_call: float(r) for o, r in zip(options, recent, strict=True) if o.kind == "ref"}
    assert refs == {2: 1.0, 1: 0.5, 0: pytest.approx(1 / 3)}
    assert all(r == 0 for o, r in zip(options, recent, strict=True) if o.kind != "ref")


def test_a_list_output_offers_its_first_item_and_the_fields_of_its_first_item() -> None:
    """ "The site from step 1" after a site search is `sites[0].site_id`: an option of its own, beside the list."""
    search = ToolSpec("list_sites", "sites of a region", returns={"type": "object", "properties": {
        "region": {"type": "string"},
        "sites": {"type": "array", "items": {"type": "object", "properties": {"site_id": {"x-kind": "site_id"},
                                                                             "city": {"type": "string"}}}},
        "tickers": {"type": "array", "items": {"type": "string", "x-kind": "ticker"}},
    }})  # fmt: skip
    paths = dict(result_fields(search))
    assert list(paths) == ["region", "sites", "sites[0].site_id", "sites[0].city", "tickers", "tickers[0]"]
    assert paths["sites[0].site_id"] == "site_id: site id (the first of sites)"
    assert paths["tickers[0]"] == "tickers[0]: ticker (the first of tickers)"


def test_a_reference_trains_on_its_own_field_when_that_field_is_an_option() -> None:
    """The executor needs the field ("the date from step 1" is check_in, not check_out); where the gold names a
    field no option has (Seal-Tools references whole calls), every option of that call is a positive."""
    options = [Option("absent"), Option("ref", ref_call=0, ref_path="check_in"),
               Option("ref", ref_call=0, ref_path="check_out"), Option("ref", ref_call=1, ref_path="check_in"),
               _value("2025-04-30", 0)]  # fmt: skip
    exact = positives_for(options, result_ref(0, "check_in"), {"type": "string"}, "date")
    assert exact.tolist() == [False, True, False, False, False]
    whole = positives_for(options, result_ref(0, ""), {"type": "string"}, "date")
    assert whole.tolist() == [False, True, True, False, False]


def test_a_chosen_reference_becomes_a_result_ref() -> None:
    props = {"booking_id": {"type": "string"}}
    options = [[Option("absent"), Option("ref", ref_call=0, ref_path="booking_id"), _value("it", 0)]]
    fill = decide(["booking_id"], props, ["booking_id"], options, [np.array([0.1, 0.8, 0.1])])
    assert fill.arguments == {"booking_id": result_ref(0, "booking_id")} and fill.complete


def _filler(seed: int = 0) -> ArgumentFiller:
    torch.manual_seed(seed)
    return ArgumentFiller(FillerScorer(hidden=16), HashSpanEncoder())


@pytest.mark.parametrize(
    "spec",
    [
        ToolSpec("ping", "no parameters"),
        ToolSpec("echo", "untyped", {"type": "object", "properties": {"text": {}}, "required": ["text"]}),
        BOOK,
    ],
)
@pytest.mark.parametrize("request_text", ["", "🙂 hi", "a\x00b", "x " * 6000, "Book 3 seats from Paris to Lima."])
def test_bad_input_gives_a_typed_outcome_never_an_exception(spec, request_text) -> None:
    fill = _filler().fill(request_text, spec, [EarlierCall(0, PAY)])
    assert set(fill.arguments) <= set(spec.properties)
    assert set(fill.missing) <= set(spec.required)
    assert not set(fill.missing) & set(fill.arguments)
    for value in fill.arguments.values():  # whatever was filled is read from the request or a reference
        assert isinstance(value, dict) or str(value).lower() in request_text.lower() or isinstance(value, int)


def test_a_trained_scorer_fills_held_out_requests() -> None:
    """Learning test: trained on 120 generated requests, it fills 40 new ones (new city pairs and phrasings)."""
    torch.set_num_threads(1)
    tools = {"book_flight": BOOK, "pay_booking": PAY}
    encoder = HashSpanEncoder()
    train = request_examples(_tasks(120, seed=1), tools, encoder)
    scorer, metrics = train_scorer(train, FillerTrainConfig(epochs=15, hidden=32, holdout=0.0), log=lambda _: None)
    filler = ArgumentFiller(scorer, encoder)
    exact = []
    for task in _tasks(40, seed=2):
        fills = filler.fill_plan(task.query, [tools[c.name] for c in task.calls])
        exact.append(all(f.arguments == c.arguments for f, c in zip(fills, task.calls, strict=True)))
    assert np.mean(exact) >= 0.8, np.mean(exact)
    untrained = ArgumentFiller(FillerScorer(hidden=32), encoder)
    baseline = [
        all(f.arguments == c.arguments for f, c in zip(untrained.fill_plan(t.query, [tools[c.name] for c in t.calls]),
                                                      t.calls, strict=True))
        for t in _tasks(40, seed=2)
    ]  # fmt: skip
    assert np.mean(baseline) < 0.3


def test_the_batched_path_fills_like_one_call_at_a_time() -> None:
    """`fill_batch` over calls of several requests (repeats, a no-parameter tool, references) = `fill` per call."""
    torch.set_num_threads(1)
    filler = _filler(seed=3)
    ping = ToolSpec("ping", "no parameters")
    jobs = []
    for task in _tasks(6, seed=4):
        jobs += [(task.query, BOOK, []), (task.query, PAY, [EarlierCall(0, BOOK)]), (task.query, ping, [])]
    batched = filler.fill_batch(jobs)
    single = [filler.fill(request, spec, earlier) for request, spec, earlier in jobs]
    assert [f.to_dict() for f in batched] == [f.to_dict() for f in single]
    assert any(f.arguments for f in batched) and filler.fill_batch([]) == []


def test_parameters_are_scored_in_groups_of_similar_option_counts() -> None:
    """The batched scorer pads each group to its widest only: every parameter once, sorted, within the slack."""
    widths = [300, 12, 60, 14, 310, 61, 9, 75]
    groups = _width_groups(widths)
    assert sorted(i for g in groups for i in g) == list(range(len(widths)))
    assert [[widths[i] for i in g] for g in groups] == [[9, 12, 14], [60, 61, 75], [300, 310]]
    assert _width_groups([]) == [] and _width_groups([5]) == [[0]]


def test_real_encoder_spans_are_the_same_batched_and_alone() -> None:
    """One padded MiniLM forward over requests of different lengths pools each candidate as the single pass does."""
    from raytool.filler.encoder import SpanEncoder
    from raytool.filler.spans import extract

    torch.set_num_threads(1)
    encoder = SpanEncoder()
    texts = ["Book 3 seats from Paris to Lima on 2024-05-01.", "Pay it.", "Find the 'blue whale' facts for Oslo " * 4]
    cands = [extract(t).items for t in texts]
    alone = [encoder.spans(t, c) for t, c in zip(texts, cands, strict=True)]
    for single, batched in zip(alone, encoder.spans_many(texts, cands), strict=True):
        assert single.shape == batched.shape and np.abs(single).sum() > 0
        np.testing.assert_allclose(batched, single, atol=1e-4)


def test_the_encoder_runs_in_int8_only_when_asked_and_stays_close_to_float32(tmp_path) -> None:
    """A MiniLM filler checkpoint loads with the encoder in float32 (int8 costs parameter F1 on some data,
    docs/filler.md); `int8_encoder=True` quantizes its linear layers, and its candidate vectors stay close."""
    from raytool.filler.checkpoint import save_scorer
    from raytool.filler.encoder import SpanEncoder
    from raytool.filler.spans import extract

    torch.set_num_threads(1)
    save_scorer(FillerScorer(hidden=8), {"encoder": "minilm"}, tmp_path / "f")
    quantized = torch.ao.nn.quantized.dynamic.Linear
    exact = ArgumentFiller.load(tmp_path / "f", bf16_encoder=False).encoder
    int8 = ArgumentFiller.load(tmp_path / "f", int8_encoder=True).encoder
    assert isinstance(exact, SpanEncoder) and isinstance(int8, SpanEncoder)
    for layer in ("attention.self.query", "intermediate.dense", "output.dense"):
        assert isinstance(int8.model.encoder.layer[0].get_submodule(layer), quantized)
        assert not isinstance(exact.model.encoder.layer[0].get_submodule(layer), quantized)
    text = "Book 3 seats from Paris to Lima on 2024-05-01 for the 'blue whale' tour."
    cands = extract(text).items
    a, b = int8.spans(text, cands), exact.spans(text, cands)
    context = slice(0, a.shape[1] // 2)
    cos = (a[:, context] * b[:, context]).sum(1) / np.linalg.norm(a[:, context], axis=1)
    cos /= np.linalg.norm(b[:, context], axis=1)
    assert cos.min() > 0.8 and cos.mean() > 0.9, cos  # contextual halves: int8 moves them (0.88-0.96 here)
    np.testing.assert_array_equal(a[:, context.stop :], b[:, context.stop :])  # own-text halves: a table lookup
    assert not np.array_equal(a[:, context], b[:, context])  # really another forward


def test_the_encoder_runs_in_bf16_where_the_cpu_computes_it_and_gives_float32_vectors_close_to_float32(
    tmp_path, monkeypatch
) -> None:
    """`bf16_encoder=None` (the default) follows the CPU's flags; an explicit choice wins; int8 wins over bf16.
    The vectors come back in float32, the contextual halves within bf16's rounding of float32's, the own-text
    halves (a table lookup) unchanged, and the cached description vectors too."""
    from raytool.filler import encoder as encoder_module
    from raytool.filler.checkpoint import save_scorer
    from raytool.filler.spans import extract

    torch.set_num_threads(1)
    save_scorer(FillerScorer(hidden=8), {"encoder": "minilm"}, tmp_path / "f")
    for flags, expected in ((True, torch.bfloat16), (False, torch.float32)):
        monkeypatch.setattr(encoder_module, "cpu_has_bf16", lambda flags=flags: flags)
        auto = ArgumentFiller.load(tmp_path / "f", use_reader=False).encoder
        assert auto.bf16 == flags and auto.model.embeddings.word_embeddings.weight.dtype == expected
    monkeypatch.setattr(encoder_module, "cpu_has_bf16", lambda: False)
    bf16 = ArgumentFiller.load(tmp_path / "f", bf16_encoder=True).encoder
    exact = ArgumentFiller.load(tmp_path / "f", bf16_encoder=False).encoder
    assert bf16.bf16 and not exact.bf16
    assert not ArgumentFiller.load(tmp_path / "f", int8_encoder=True, bf16_encoder=True).encoder.bf16
    text = "Book 3 seats from Paris to Lima on 2024-05-01 for the 'blue whale' tour."
    cands = extract(text).items
    a, b = bf16.spans(text, cands), exact.spans(text, cands)
    assert a.dtype == np.float32 and a.shape == b.shape
    context = slice(0, a.shape[1] // 2)
    cos = (a[:, context] * b[:, context]).sum(1) / np.linalg.norm(a[:, context], axis=1)
    cos /= np.linalg.norm(b[:, context], axis=1)
    assert cos.min() > 0.99, cos  # bf16 keeps 8 bits of mantissa: 0.999+ here
    assert not np.array_equal(a[:, context], b[:, context])  # really a bf16 forward
    np.testing.assert_array_equal(a[:, context.stop :], b[:, context.stop :])
    descriptions = ["origin (string): the city the flight leaves from", "seats (integer): how many"]
    d_bf16, d_exact = bf16.texts(descriptions), exact.texts(descriptions)
    assert d_bf16.dtype == np.float32 and float((d_bf16 * d_exact).sum(1).min()) > 0.99


def test_a_checkpoint_trained_on_other_features_is_refused(tmp_path) -> None:
    import json

    from raytool.filler.checkpoint import META_FILE, is_current, load_scorer, save_scorer

    save_scorer(FillerScorer(hidden=8), {"encoder": "hashing"}, tmp_path / "ckpt")
    assert is_current(tmp_path / "ckpt") and not is_current(tmp_path / "none")
    scorer, meta = load_scorer(tmp_path / "ckpt")
    assert scorer.hidden == 8 and meta["encoder"] == "hashing"
    record = json.loads((tmp_path / "ckpt" / META_FILE).read_text())
    record["features"] = record["features"][:-1]  # a checkpoint of the version before ref_recent
    (tmp_path / "ckpt" / META_FILE).write_text(json.dumps(record))
    assert not is_current(tmp_path / "ckpt")  # the main job trains such a checkpoint again instead of skipping
    with pytest.raises(ValueError, match=r"filler.json: field 'features'.*retrain"):
        load_scorer(tmp_path / "ckpt")


def test_training_uses_its_threads_and_gives_the_callers_back(tmp_path) -> None:
    """The main job trains the filler in its driver: the stages after it must not inherit the filler's setting."""
    from raytool.filler.train import FillerTrainConfig, train_filler
    from raytool.tools.dataset import ToolDataset

    seen = []
    torch.set_num_threads(2)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ToolDataset, "load", lambda path: seen.append(torch.get_num_threads()) or ToolDataset({}, []))
            with pytest.raises(ValueError, match="no task"):
                train_filler([tmp_path], tmp_path / "out", FillerTrainConfig(threads=1), "hashing")
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_a_name_in_capitals_is_read_whole_unless_another_value_uses_its_words() -> None:
    """ "Ion Battery" of "Ion Battery Works' ticker" is read on to "Ion Battery Works"; "Toyota" stays "Toyota" where
    "Prius" is the model's value; a code ("A100"), an enum and a value at the run's end are left as chosen."""

    def spans(request: str) -> list[Option]:
        words = [(m.start(), m.end()) for m in re.finditer(r"[\w-]+", request)]
        return [Option("absent")] + [
            _value(request[a:b], a) for i, (a, _) in enumerate(words) for _, b in words[i : i + 4] if b >= a
        ]

    request = "What's Ion Battery Works' ticker?"
    options = [spans(request)]
    chosen = next(k for k, o in enumerate(options[0]) if o.kind == "value" and o.candidate.text == "Ion Battery")
    probs = [np.eye(len(options[0]))[chosen]]
    props = {"company": {"type": "string"}}
    assert decide(["company"], props, ["company"], options, probs, request).arguments == {
        "company": "Ion Battery Works"
    }
    assert decide(["company"], {"company": {"type": "string", "enum": ["Ion Battery"]}}, [], options, probs,
                  request).arguments == {"company": "Ion Battery"}  # fmt: skip

    request = "Quote a Toyota Prius for me"
    options = [spans(request), spans(request)]
    make = next(k for k, o in enumerate(options[0]) if o.kind == "value" and o.candidate.text == "Toyota")
    model = next(k for k, o in enumerate(options[1]) if o.kind == "value" and o.candidate.text == "Prius")
    probs = [np.eye(len(options[0]))[make] * 0.9, np.eye(len(options[1]))[model] * 0.8]
    props = {"make": {"type": "string"}, "model": {"type": "string"}}
    assert decide(["make", "model"], props, [], options, probs, request).arguments == {
        "make": "Toyota",
        "model": "Prius",
    }
    one = [options[0]]
    assert decide(["make"], {"make": {"type": "string"}}, [], one, probs[:1], request).arguments == {
        "make": "Toyota Prius"
    }  # nothing else reads "Prius": the name is read whole

    request = "Add 2 A100 GPUs Today"
    options = [spans(request)]
    code = next(k for k, o in enumerate(options[0]) if o.kind == "value" and o.candidate.text == "A100")
    probs = [np.eye(len(options[0]))[code]]
    assert decide(["gpu"], {"gpu": {"type": "string"}}, [], options, probs, request).arguments == {"gpu": "A100"}


def test_the_beginning_of_a_quoted_text_is_read_to_the_closing_quote() -> None:
    """ "Dream Big" of the campaign name 'Dream Big, Achieve Bigger' (quoted) is read on to the closing quote; a value
    in the middle of the quotes, a value when another parameter's value lies inside them, an enum, and a rest of
    nothing but the quote's full stop ('author.') are left as chosen."""

    def options_for(request: str, texts: list[str]) -> list[Option]:
        inner = re.search(r"'([^']+)'", request)
        quoted = Candidate(inner.group(1), inner.start(1), inner.end(1), "quoted", len(inner.group(1).split()))
        return [Option("absent"), Option("value", candidate=quoted)] + [_value(t, request.index(t)) for t in texts]

    def pick(options: list[Option], text: str) -> np.ndarray:
        k = next(k for k, o in enumerate(options) if o.kind == "value" and o.candidate.kind == "span"
                 and o.candidate.text == text)  # fmt: skip
        return np.eye(len(options))[k]

    request = "Create a campaign called 'Dream Big, Achieve Bigger' on LinkedIn"
    options = [options_for(request, ["Dream Big", "Achieve Bigger", "LinkedIn"])]
    string = {"name": {"type": "string"}}
    assert decide(["name"], string, [], options, [pick(options[0], "Dream Big")], request).arguments == {
        "name": "Dream Big, Achieve Bigger"
    }
    assert decide(["name"], string, [], options, [pick(options[0], "Achieve Bigger")], request).arguments == {
        "name": "Achieve Bigger"
    }  # not the quote's beginning
    enum = {"name": {"type": "string", "enum": ["Dream Big"]}}
    assert decide(["name"], enum, [], options, [pick(options[0], "Dream Big")], request).arguments == {
        "name": "Dream Big"
    }
    two = [options[0], options_for(request, ["Dream Big", "Achieve Bigger", "LinkedIn"])]
    probs = [pick(two[0], "Dream Big") * 0.9, pick(two[1], "Achieve Bigger") * 0.8]
    props = {"name": {"type": "string"}, "slogan": {"type": "string"}}
    assert decide(["name", "slogan"], props, [], two, probs, request).arguments == {
        "name": "Dream Big",
        "slogan": "Achieve Bigger",
    }  # another value lies inside the quotes

    request = "Retrieve metadata of type 'author.' please"
    options = [options_for(request, ["author"])]
    assert decide(
        ["kind"], {"kind": {"type": "string"}}, [], options, [pick(options[0], "author")], request
    ).arguments == {"kind": "author"}
