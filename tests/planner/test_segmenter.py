"""The distilled segmenter: tag decoding and targets by hand, the planner's use of it, and a learning test."""

from __future__ import annotations

import numpy as np
import pytest

from raytool.planner.planner import PlannerConfig, plan_episode, segmenter_plan
from raytool.planner.segmenter import Segment, at_sentence_ends, decode_tags, joined, strongest
from raytool.planner.segmenter_train import SegmenterTrainConfig, piece_tags

O, B, I = 0, 1, 2  # noqa: E741  (the tag names)


def test_decode_tags_joins_b_i_runs_and_starts_a_run_at_a_stray_i() -> None:
    offsets = np.array([[0, 4], [5, 8], [9, 10], [10, 14], [15, 18], [19, 22]])
    assert decode_tags([B, I, O, O, B, I], offsets) == [(0, 8), (15, 22)]
    assert decode_tags([O, I, I, I, O, B], offsets) == [(5, 14), (19, 22)]
    assert decode_tags([O] * 6, offsets) == []


def test_decode_tags_reads_whole_words() -> None:
    """A piece that continues a word ("auto-schedule", "BR176-2025-04-03") takes its word's first piece's tag: no
    sub-task starts or ends inside a word."""
    text = "vega-robotics needs it, then auto-schedule it"
    offsets = np.array([[0, 4], [4, 5], [5, 13], [14, 19], [20, 22], [22, 23], [24, 28], [29, 33], [33, 34],
                        [34, 42], [43, 45]])  # fmt: skip
    # the tagger starts a sub-task at "robotics" and at "schedule", and leaves "-" out
    tags = [B, O, B, I, I, O, O, B, O, B, I]
    assert [text[a:b] for a, b in decode_tags(tags, offsets)] == ["vega-robotics needs it,", "auto-schedule it"]


def test_a_sub_task_depends_on_its_strongest_link_above_the_threshold() -> None:
    scores = [0.9, 0.95, 0.2, 0.6]
    assert strongest(scores, 0.5, 1) == (1,)  # the best, not the nearest (3) nor the first (0)
    assert strongest(scores, 0.5, 2) == (0, 1)  # the two best, in text order
    assert strongest(scores, 0.5, 0) == (0, 1, 3)  # no limit: every pair above the threshold
    assert strongest(scores, 0.96, 1) == ()
    assert strongest([], 0.5, 1) == ()


def test_neighbouring_spans_without_a_connector_between_them_are_one_sub_task() -> None:
    text = "File a demand and schedule it automatically using the balanced strategy, then accept the quote."
    spans = [(0, 13), (18, 26), (44, 72), (78, 88), (89, 95)]  # "schedule" | "using ..."; "accept the" | "quote."
    assert [text[a:b] for a, b in joined(text, spans)] == [
        "File a demand", "schedule it automatically using the balanced strategy,", "accept the quote."
    ]  # fmt: skip
    kept = [(0, 13), (18, 27), (28, 34)]  # "and" between the first two; the comma ends the second span
    assert joined("File a demand and schedule, it now", kept) == kept
    assert joined("Pay it; show it", [(0, 6), (8, 15)]) == [(0, 6), (8, 15)]
    assert joined(text, []) == []


def test_a_sentence_end_inside_a_span_is_a_boundary() -> None:
    text = "What's Orbit Mining's ticker? Buy 12 shares of it in account ac-1001. Pay 3.5 to py-01."
    parts = [text[a:b] for a, b in at_sentence_ends(text, [(0, len(text))])]
    assert parts == ["What's Orbit Mining's ticker?", "Buy 12 shares of it in account ac-1001.", "Pay 3.5 to py-01."]
    kept = [(0, 29), (30, 70)]  # already apart; "3.5" and "ac-1001." at the end are no sentence ends inside a span
    assert at_sentence_ends(text, kept) == kept
    joined_on = "Cancel that booking. Separately, pay 3.5 to py-01."
    assert at_sentence_ends(joined_on, [(0, 31), (33, 51)]) == [(0, 20), (33, 51)]  # "Separately" cut off is dropped
    topic = "Pay it. On the compute side, submit it."
    assert at_sentence_ends(topic, [(0, 7), (23, 27), (29, 39)]) == [(0, 7), (29, 39)]  # a tagged "side" too
    note = "Pay it. On another note, submit it."
    assert at_sentence_ends(note, [(0, 7), (19, 23), (25, 35)]) == [(0, 7), (25, 35)]  # the end of a connector
    wise = "Pay it. Money-wise: submit it."
    assert at_sentence_ends(wise, [(0, 7), (8, 18), (20, 30)]) == [(0, 7), (20, 30)]  # a topic ("Money-wise")
    kept = "Pay it. Then note the total."
    assert at_sentence_ends(kept, [(0, 7), (13, 28)]) == [(0, 7), (13, 28)]  # "note the total" is no connector


def test_piece_tags_mark_the_first_piece_of_each_span() -> None:
    offsets = np.array([[0, 4], [5, 8], [8, 9], [10, 14], [15, 18]])
    assert piece_tags(offsets, ((0, 9), (15, 18))).tolist() == [B, I, I, O, B]


class FixedSegmenter:
    def __init__(self, segments):
        self.segments = segments

    def segment(self, texts):
        return [self.segments for _ in texts]


class WordRouter:
    """A stand-in router over the domains "cpn", "finance", "travel": a text's vote for a domain is the share of the
    domain names in it that are this one (like the proposer's probabilities, a text's votes sum to 1 at most;
    `word` = 0 / -1: only its first / last word counts); ties to the first domain."""

    domains = ["cpn", "finance", "travel"]
    specs = ()
    word: int | None = None

    def route(self, texts):
        return [self.best(v) for v in self.votes(texts)]

    def best(self, votes):
        return max(self.domains, key=lambda d: votes[d])

    def votes(self, texts):
        words = [t.split() if self.word is None else [t.split()[self.word]] for t in texts]
        counts = [{d: w.count(d) for d in self.domains} for w in words]
        return [{d: c[d] / max(sum(c.values()), 1) for d in self.domains} for c in counts]


class FirstWordRouter(WordRouter):
    word = 0


class LastWordRouter(WordRouter):
    word = -1


def test_segmenter_plan_takes_model_dependencies_unless_a_step_is_named() -> None:
    query = "cpn file a demand, cpn then show it. travel book a room after step 1"
    segments = [
        Segment("cpn file a demand", 0, 17),
        Segment("cpn then show it", 19, 35, (0,)),
        Segment("travel book a room after step 1", 37, 68, (1,)),  # the model says 2; the text says step 1
    ]
    plan = segmenter_plan(query, FixedSegmenter(segments), FirstWordRouter())
    assert plan.source == "segmenter"
    assert [(s.id, s.domain, s.depends_on) for s in plan.subtasks] == [(1, "cpn", ()), (2, "cpn", (1,)),
                                                                        (3, "travel", (1,))]  # fmt: skip
    assert [job.subtasks for job in plan.jobs] == [(1, 2), (3,)]


def test_the_planner_uses_the_segmenter_in_auto_mode_without_asking_the_teacher() -> None:
    segments = [Segment("cpn a", 0, 5), Segment("travel b", 7, 15)]
    episode = plan_episode("cpn a, travel b", {"cpn": "", "travel": ""}, FirstWordRouter(), PlannerConfig(),
                           FixedSegmenter(segments))  # fmt: skip
    with pytest.raises(StopIteration) as stop:
        next(episode)  # no teacher request is yielded
    assert stop.value.value.source == "segmenter"
    empty = plan_episode("cpn a. travel b.", {"cpn": "", "travel": ""}, FirstWordRouter(), PlannerConfig(),
                         FixedSegmenter([]))  # fmt: skip
    with pytest.raises(StopIteration) as stop:
        next(empty)
    assert stop.value.value.source == "rule" and stop.value.value.failure == "segmenter_found_nothing"


def _fixed_head(tags: list[int], confidence: float, pair_logit: float):
    """A stand-in head: these tag logits (`confidence` for the tag given, 0 for the others) and one pair logit."""
    import torch

    class FixedHead(torch.nn.Module):
        def forward(self, x):
            logits = torch.zeros(1, x.shape[1], 3)
            logits[0, torch.arange(len(tags)), torch.tensor(tags)] = confidence
            return logits, torch.zeros(1, x.shape[1], 4)

        def pair_logits(self, earlier, later, features):
            return torch.full((len(earlier),), pair_logit)

    return FixedHead()


def test_several_heads_vote_with_their_averaged_probabilities() -> None:
    """A segmenter of two heads averages their tag probabilities and pair scores: a sure split with a sure link
    (5, +4) and an unsure single sub-task with a sure "no link" (1, -6) give two sub-tasks and no link, which
    neither head alone gives."""
    from raytool.planner.segmenter import Segmenter

    text = "pay it and show it"
    offsets = np.array([[0, 3], [4, 6], [7, 10], [11, 15], [16, 18]])
    vectors = np.zeros((5, 4), np.float32)
    split = _fixed_head([B, I, O, B, I], 5.0, 4.0)
    whole = _fixed_head([B, I, I, I, I], 1.0, -6.0)

    def read(*heads):
        return [(s.text, s.depends_on) for s in Segmenter(list(heads), encoder=object())._one(text, vectors, offsets)]

    assert read(split) == [("pay it", ()), ("show it", (0,))]
    assert read(whole) == [("pay it and show it", ())]
    assert read(split, whole) == [("pay it", ()), ("show it", ())]  # sigmoid mean (0.982 + 0.002) / 2 < 0.5
    assert read(split, split) == read(split)


def test_a_segmenter_needs_at_least_one_head() -> None:
    with pytest.raises(ValueError, match="heads must be at least 1"):
        SegmenterTrainConfig(heads=0)


def test_a_checkpoint_of_one_head_or_several_loads(tmp_path) -> None:
    """`segmenter.pt` holds a list of state dicts; a single state dict (checkpoints before several heads) is a
    one-head segmenter."""
    import json

    import torch

    from raytool.planner.segmenter import CHECKPOINT, META, Segmenter, build_head

    torch.manual_seed(0)
    heads = [build_head(8, 4), build_head(8, 4)]
    (tmp_path / META).write_text(json.dumps({"dim": 8, "hidden": 4}))
    torch.save([h.state_dict() for h in heads], tmp_path / CHECKPOINT)
    loaded = Segmenter.load(tmp_path, encoder=object())
    assert len(loaded.heads) == 2
    x = torch.randn(1, 3, 8)
    for mine, theirs in zip(heads, loaded.heads, strict=True):
        assert torch.equal(mine(x)[0], theirs(x)[0])
    torch.save(heads[1].state_dict(), tmp_path / CHECKPOINT)
    (one,) = Segmenter.load(tmp_path, encoder=object()).heads
    assert torch.equal(one(x)[0], heads[1](x)[0])


def test_a_batch_loss_is_the_mean_of_its_requests_own_losses() -> None:
    """Requests of different lengths padded and packed through the GRU together give each the states it gets alone
    (padding never reaches the backward direction), so the batch loss and its gradients are the mean of the
    requests' own."""
    import torch

    from raytool.planner.segmenter import build_head
    from raytool.planner.segmenter_train import Example, batch_loss, request_loss

    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    head = build_head(dim=8, hidden=4)
    examples, encoded = [], []
    for n_words, spans, deps in ((5, ((0, 9), (12, 24)), ((), (0,))), (9, ((0, 40),), ((),)),
                                 (7, ((0, 9), (12, 20), (22, 34)), ((), (0,), (1,)))):  # fmt: skip
        text = " ".join(["word"] * n_words)
        offsets = np.array([[5 * k, 5 * k + 4] for k in range(n_words)], dtype=np.int64)
        examples.append(Example("t", text, spans, deps))
        encoded.append((rng.normal(size=(n_words, 8)).astype(np.float32), offsets))

    def grads(loss):
        head.zero_grad()
        loss.backward()
        return [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in head.parameters()]

    together = batch_loss(head, examples, encoded)
    together_grads = grads(together)
    alone = [batch_loss(head, [e], [v]) for e, v in zip(examples, encoded, strict=True)]
    alone_grads = [grads(loss) for loss in alone]
    assert float(together) == pytest.approx(float(torch.stack(alone).mean()), abs=1e-5)
    for k, grad in enumerate(together_grads):
        assert torch.allclose(grad, sum(g[k] for g in alone_grads) / len(alone), atol=1e-5)
    # and one request alone is its loss from the head run on it unpadded
    logits, states = head(torch.from_numpy(encoded[2][0])[None])
    assert float(alone[2]) == pytest.approx(float(request_loss(head, examples[2], logits[0], states[0], encoded[2][1])))


@pytest.mark.slow
def test_the_segmenter_learns_to_split_varied_requests(tmp_path) -> None:
    """A small run (levels 2 and 4, 40 tasks each, 6 epochs as the default) on the real encoder: held-out exact span
    F1 and dependency accuracy well above what a one-segment or sentence split gives on varied phrasing."""
    import torch

    from raytool.planner.segmenter import Segmenter
    from raytool.planner.segmenter_train import train_segmenter

    torch.set_num_threads(1)
    config = SegmenterTrainConfig(levels=(2, 4), tasks_per_level=40, epochs=6, holdout=0.25, heads=2)
    meta = train_segmenter(tmp_path / "seg", config, log=lambda _: None)
    metrics = meta["metrics"]
    # measured: span F1 0.95-0.99, dependency accuracy 0.80-0.92 (a copy-the-previous rule: ~0.55)
    assert metrics["span_f1"] >= 0.85
    assert metrics["dependency_accuracy"] >= 0.7
    segmenter = Segmenter.load(tmp_path / "seg")
    parts = segmenter.segment(["Rent car CR-LHR-1 for traveller tr-102 from 2025-06-22 for 8 days, and after that "
                               "reserve a room at hotel HT-YYZ-1 for the same traveller from that day for 13 nights. "
                               "Also, pay 3888.47 from account ac-1007 to payee py-06."])[0]  # fmt: skip
    assert len(parts) == 3 and parts[2].text.startswith("pay 3888.47")
    assert parts[1].text.startswith("reserve a room") and parts[1].depends_on == (0,)
    chain = segmenter.segment(
        [
            "File a demand for tenant uni-lyon sized for a small inference workload running 40 "
            "hours, then set the priority of that demand to low, and then show that demand."
        ]
    )[0]
    assert len(chain) == 3 and all(len(part.depends_on) <= 1 for part in chain)  # one link each, the strongest
    # whether this small model also leaves the last part unlinked flips between training streams and epochs (3-8
    # tried); the full segmenter's dependency accuracy is measured by benchmarks/planner.py


def test_segmenter_plan_drops_cross_domain_links_and_links_a_bare_back_reference() -> None:
    segments = [
        Segment("cpn file a demand", 0, 17),
        Segment("travel book a room", 19, 37, (0,)),  # the model links across domains: dropped
        Segment("cpn then cancel it", 39, 57),  # refers back ("it") with no link: the nearest earlier cpn sub-task
        Segment("travel show the weather", 59, 82),  # no reference, no link
    ]
    plan = segmenter_plan("...", FixedSegmenter(segments), FirstWordRouter())
    assert [s.depends_on for s in plan.subtasks] == [(), (), (1,), ()]


def test_a_pronoun_sub_task_is_routed_with_the_text_it_refers_to() -> None:
    segments = [
        Segment("file a demand cpn", 0, 17),
        Segment("book a room travel", 19, 37),
        Segment("show it", 39, 46, (0,)),  # routed on "show it file a demand cpn"
        Segment("list them", 48, 57),  # no link: with the sub-task before it
        Segment("show the weather travel", 59, 82),  # no pronoun: its own text
        Segment("cancel that booking", 84, 103),  # a described reference ("that booking") too
    ]
    plan = segmenter_plan("...", FixedSegmenter(segments), LastWordRouter())
    assert [s.domain for s in plan.subtasks] == ["cpn", "travel", "cpn", "cpn", "travel", "travel"]
    assert [s.depends_on for s in plan.subtasks] == [(), (), (1,), (3,), (), (5,)]


def test_a_referring_sub_task_that_names_its_own_domain_keeps_it() -> None:
    """The sub-task's own votes count beside its context's: "how loaded is site cpn ... does it draw" after a finance
    sub-task stays cpn (routed on its text and the context's together it would be finance), while "show it" has no
    votes of its own and follows the context."""
    segments = [
        Segment("show finance fundamentals finance", 0, 33),
        Segment("how loaded is site cpn and what does it draw", 35, 79),
        Segment("show it", 81, 88, (0,)),
    ]
    plan = segmenter_plan("...", FixedSegmenter(segments), WordRouter())
    assert [s.domain for s in plan.subtasks] == ["finance", "cpn", "finance"]
    assert [s.depends_on for s in plan.subtasks] == [(), (), (1,)]


def test_a_second_action_joined_by_and_is_its_own_sub_task() -> None:
    from raytool.planner.planner import action_words, split_at_actions
    from raytool.tools.spec import ToolSpec

    specs = [
        ToolSpec("accept_loan", "Accept a loan quote.", {"type": "object", "properties": {"quote_id": {}}}),
        ToolSpec(
            "quote_loan",
            "Quote a loan.",
            {
                "type": "object",
                "properties": {
                    "add_insurance": {"type": "boolean"},
                    "side": {"type": "string", "enum": ["buy", "sell"]},
                },
            },
        ),  # fmt: skip
        ToolSpec("getSiteLoad", "How loaded a site is.", {"type": "object", "properties": {}}),
    ]
    verbs = action_words(specs)
    assert {"accept", "get", "show"} <= verbs and not {"add", "buy", "side", "quote"} & verbs  # quote: of quote_id
    query = "Quote customer cu-106 a loan of 20383.48 and accept it. Then show the site load, add insurance and buy it"
    first, second = query.index(" Then"), query.index("show")
    segments = [Segment(query[:first], 0, first), Segment(query[second:], second, len(query), (0,))]
    out = split_at_actions(query, segments, verbs)
    assert [s.text for s in out] == ["Quote customer cu-106 a loan of 20383.48", "accept it.",
                                     "show the site load, add insurance and buy it"]  # fmt: skip
    assert [s.depends_on for s in out] == [(), (0,), (1,)]  # "it" needs the quote; the link goes to the last piece
    assert split_at_actions("get the status and schedule of it", [Segment("get the status and schedule of it", 0, 33)],
                            {"get", "schedule"})[0].end == 33  # "schedule of": a noun  # fmt: skip
    one = [Segment("how loaded is site X and what power does it draw", 0, 48)]
    assert split_at_actions(one[0].text, one, verbs) == one  # "and what ...": a question inside one call


def test_training_examples_number_sub_tasks_in_the_order_the_text_writes_them() -> None:
    from raytool.planner.segmenter_train import in_text_order

    # calls 0 -> 1 (one chain) and 2 (another), written as: call 2, call 0, call 1
    example = in_text_order("t", "c two. Also, c zero, then c one.", [(13, 19), (26, 31), (0, 5)], [(), (0,), ()])
    assert example.spans == ((0, 5), (13, 19), (26, 31))
    assert example.depends_on == ((), (), (1,))  # call 1 needs call 0, now sub-task 1; it is sub-task 2
