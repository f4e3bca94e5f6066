"""BM25, hand-written (`raytool.envs.retrieval.BM25Retriever`) vs bm25s (the maintained library), side by side in
one run on the same tokens: retrieval quality and speed on the shared benchmarks.

    RAYTOOL_DATA_DIR=../shared/data python benchmarks/bm25.py [--repeats 5] [--queries 500]

Both score `name: description` with the project's tokenizer (camelCase / snake_case split, stop words dropped) and
Okapi BM25 with k1 = 1.5, b = 0.75 (bm25s: method `lucene`, the same IDF; its scores leave out the constant factor
k1 + 1 of the classic formula, so they are multiplied by it here). bm25s is not a project dependency (the
measurement kept the hand-written one, docs/proposer.md): `pip install bm25s==0.3.16` first. Per dataset: Recall@1/5
over each task's pool (its candidate list, else the catalogue) for both, the largest difference between their score
vectors, the time to build the index over the catalogue and the queries per second (median of `--repeats`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from raytool.envs.retrieval import BM25Retriever, tokenize, tool_text, top_k
from raytool.paths import shared_data_dir
from raytool.proposer.metrics import recall_at_k
from raytool.tables import format_table
from raytool.tools.shared import import_shared

K1 = 1.5


class Bm25sRetriever:
    """`BM25Retriever`'s interface over bm25s."""

    def __init__(self, tools) -> None:
        import bm25s

        self.names = [t.name for t in tools]
        self.model = bm25s.BM25(k1=K1, b=0.75, method="lucene")
        self.model.index([tokenize(tool_text(t)) for t in tools], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        tokens = [t for t in tokenize(query) if t in self.model.vocab_dict]
        return (self.model.get_scores(tokens) * (K1 + 1)).astype(np.float32)


def ranked(retriever, tasks, names: list[str], k: int) -> list[list[str]]:
    index = {n: i for i, n in enumerate(names)}
    out = []
    for task in tasks:
        raw = retriever.scores(task.query)
        pool = np.array([index[n] for n in task.tools]) if task.tools else np.arange(len(names))
        out.append([names[i] for i in pool[top_k(raw[pool], k)]])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--queries", type=int, default=500, help="tasks per dataset (the first N)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        datasets = import_shared(shared_data_dir(), Path(tmp))
    rows = []
    for name in ("seal_tools_test", "metatool_single", "toolalpaca", "toolbench_g1"):
        dataset = datasets[name]
        tools, tasks = list(dataset.tools.values()), dataset.tasks[: args.queries]
        names = [t.name for t in tools]
        gold = [t.tool_names for t in tasks]
        figures = {}
        for label, kind in (("hand-written", BM25Retriever), ("bm25s", Bm25sRetriever)):
            builds, rates = [], []
            for _ in range(args.repeats):
                start = time.perf_counter()
                retriever = kind(tools)
                builds.append(time.perf_counter() - start)
                start = time.perf_counter()
                top = ranked(retriever, tasks, names, 5)
                rates.append(len(tasks) / (time.perf_counter() - start))
            figures[label] = (retriever, top, statistics.median(builds), statistics.median(rates))
        gap = max(float(np.abs(figures["hand-written"][0].scores(t.query) - figures["bm25s"][0].scores(t.query)).max())
                  for t in tasks)  # fmt: skip
        for label, (_, top, build, rate) in figures.items():
            recalls = [f"{recall_at_k(top, gold, k):.3f}" for k in (1, 5)]
            rows.append([name, len(tools), len(tasks), label, *recalls, f"{build * 1000:.1f}", f"{rate:,.0f}",
                         f"{gap:.1e}"])  # fmt: skip
    print(f"median of {args.repeats} repeats; max |score difference| between the two over the queries")
    print(format_table(["dataset", "tools", "queries", "BM25", "Recall@1", "Recall@5", "index ms", "queries/s",
                        "max |diff|"], rows))  # fmt: skip


if __name__ == "__main__":
    main()
