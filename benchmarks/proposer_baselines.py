"""Untrained tool-retrieval baselines on Seal-Tools test_in_domain against the full 4,076-tool pool.

    python benchmarks/proposer_baselines.py [--split test_in_domain] [--k 1,5,10]

BM25 over `name: description` and zero-shot all-MiniLM-L6-v2 cosine; Recall@k (share of gold tools in the top
k) and Complete@k (all of a query's gold tools in the top k). The trained proposer must beat both.
"""

from __future__ import annotations

import argparse
import time

from raytool.envs.encoders import MiniLMEncoder
from raytool.evaluation.retrieval import bm25_scores, complete_at_k, embedding_scores, rank_pool, recall_at_k
from raytool.paths import shared_data_dir
from raytool.tables import format_table
from raytool.tools.importers import import_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="test_in_domain")
    parser.add_argument("--k", default="1,5,10")
    args = parser.parse_args()
    ks = [int(k) for k in args.k.split(",")]
    data = import_dataset("seal_tools", shared_data_dir() / "seal_tools" / f"{args.split}.jsonl")
    gold = [t.tool_names for t in data.tasks]
    rows = []
    for name, score in (
        ("BM25", lambda: bm25_scores(data)),
        ("MiniLM zero-shot", lambda: embedding_scores(data, MiniLMEncoder())),
    ):
        start = time.perf_counter()
        ranked = rank_pool(data, score(), max(ks))
        seconds = time.perf_counter() - start
        rows.append(
            [name, *[recall_at_k(ranked, gold, k) for k in ks], *[complete_at_k(ranked, gold, k) for k in ks], seconds]
        )
    headers = ["method", *[f"Recall@{k}" for k in ks], *[f"Complete@{k}" for k in ks], "seconds"]
    print(format_table(headers, rows))
    print(f"Seal-Tools {args.split}: {len(data.tasks)} queries, pool = all {len(data.tools):,} tools")


if __name__ == "__main__":
    main()
