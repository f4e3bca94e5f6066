"""The decider's candidate rankings: one ranking per task, or (a proxy's job of several planned sub-tasks) each
sub-task ranked on its own and merged round-robin."""

from __future__ import annotations

from raytool.decider.candidates import rank_candidates
from raytool.proposer.proposer import Proposal
from raytool.tools.dataset import ToolDataset
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

NAMES = ("book_hotel", "get_weather", "rent_car", "get_budget", "search_flights")
# what a proposer ranks for each text: the joined text puts both wanted tools below a distractor
RANKED = {
    "book hotel HT-1 for tr-101": ["book_hotel", "get_budget", "rent_car"],
    "the weather on the check-in day": ["get_weather", "search_flights", "book_hotel"],
    "book hotel HT-1 for tr-101 the weather on the check-in day": ["get_budget", "book_hotel", "search_flights"],
}


class Ranks:
    """A test double of `ToolProposer`: fixed rankings per text, probabilities 0.9, 0.5, 0.1, ..."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def index(self, specs):
        return None

    def rank(self, queries, index, k, pools):
        self.queries += queries
        out = []
        for query, pool in zip(queries, pools, strict=True):
            names = [n for n in RANKED[query] if n in pool][:k]
            out.append(Proposal(names, [0.9 - 0.4 * r for r in range(len(names))], [0.0] * len(names)))
        return out


def _dataset(queries: list[str]) -> ToolDataset:
    tools = {n: ToolSpec(n, n.replace("_", " ")) for n in NAMES}
    return ToolDataset(tools, [Task(id=f"t{i}", query=q, calls=()) for i, q in enumerate(queries)])


def test_a_job_of_several_parts_ranks_each_and_merges_them_round_robin() -> None:
    joined = "book hotel HT-1 for tr-101 the weather on the check-in day"
    parts = ["book hotel HT-1 for tr-101", "the weather on the check-in day"]
    proposer = Ranks()
    [record] = rank_candidates(proposer, _dataset([joined]), k=4, pools=[list(NAMES)], parts=[parts])
    assert proposer.queries == parts  # the parts, not the joined text
    # firsts in the parts' order, then seconds; book_hotel keeps its first place and score, k cuts the rest
    assert record["names"] == ["book_hotel", "get_weather", "get_budget", "search_flights"]
    assert record["scores"] == [0.9, 0.9, 0.5, 0.5]
    assert record["parts"] == 2  # the env's STOP floor reads it
    # each part's own ranking, for the env's part focus (part i's candidates first while at part i)
    assert record["part_names"] == [RANKED[parts[0]], RANKED[parts[1]]]
    assert record["part_scores"] == [[0.9, 0.5, 0.1], [0.9, 0.5, 0.1]]


def test_a_task_with_one_part_or_none_is_ranked_as_its_text() -> None:
    joined = "book hotel HT-1 for tr-101 the weather on the check-in day"
    plain = rank_candidates(Ranks(), _dataset([joined]), k=3, pools=[list(NAMES)])
    one = rank_candidates(Ranks(), _dataset([joined]), k=3, pools=[list(NAMES)], parts=[[joined]])
    assert plain == one
    assert "parts" not in plain[0] and "part_names" not in plain[0]  # no floor, no focus for a single text
    assert plain[0]["names"] == ["get_budget", "book_hotel", "search_flights"]


def test_parts_follow_each_task_in_a_batch_and_respect_its_pool() -> None:
    queries = ["book hotel HT-1 for tr-101", "book hotel HT-1 for tr-101 the weather on the check-in day"]
    parts = [[], ["book hotel HT-1 for tr-101", "the weather on the check-in day"]]
    pools = [list(NAMES), ["get_weather", "book_hotel", "search_flights"]]
    records = rank_candidates(Ranks(), _dataset(queries), k=5, batch=1, pools=pools, parts=parts)
    assert [r["task_id"] for r in records] == ["t0", "t1"]
    assert records[0]["names"] == ["book_hotel", "get_budget", "rent_car"]
    assert records[1]["names"] == ["book_hotel", "get_weather", "search_flights"]  # get_budget is not in its pool
