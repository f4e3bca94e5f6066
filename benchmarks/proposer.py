"""Proposer benchmark: accuracy on Seal-Tools (in-domain and held-out fields), MetaTool, the alpha ablation,
and speed over the 4,076-tool catalogue.

    python benchmarks/proposer.py [--parts indomain,heldout,metatool,ablation,speed] [--retrain]

Checkpoints are trained once into $RAYTOOL_CACHE/bench/proposer/<name> (re-used unless --retrain), with the
default `ProposerConfig` (the embedded default) unless a part says otherwise:

  indomain  train on Seal-Tools dev (700 tasks), evaluate on test_in_domain (700) against all 4,076 tools
  heldout   hold out 40% of the tools by field (`raytool.proposer.splits`), train on dev+test tasks of the
            other fields, evaluate on tasks whose tools are all held out, against all 4,076 tools
  metatool  the indomain checkpoint, untouched, on MetaTool: single-tool top-1 accuracy (Complete@1) over
            199 tools, and the multi-tool queries' Complete@2 (transfer across benchmarks)
  metatool_trained  a proposer trained on 3,000 MetaTool single-tool rows (1 epoch), tested on 3,000 other
            rows and on the multi-tool queries
  ablation  alpha = 0 vs alpha = 0.5 (rationale head on the teacher's rationales from `distill synth`)
  speed     query latency p50/p99 over 4,076 tools (one query, and batches of 32), index build time (cold and
            cached), the process's peak RSS and the index's size
Results go to $RAYTOOL_CACHE/bench/proposer/results.json as well.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import time
from pathlib import Path

import numpy as np

from raytool.evaluation.proposer import evaluate, load_eval_data, results_table
from raytool.paths import cache_dir, shared_data_dir
from raytool.proposer.config import ProposerConfig
from raytool.proposer.data import load_records
from raytool.proposer.proposer import ToolProposer
from raytool.proposer.splits import field_split
from raytool.proposer.train import prepare_data, train_proposer
from raytool.tables import format_table
from raytool.tools.dataset import ToolDataset

ROOT = cache_dir() / "bench" / "proposer"
SYNTH = cache_dir() / "synth_seal_dev"
KS = (1, 5, 10)
METATOOL_ROWS = 3000


def seal(split: str) -> ToolDataset:
    return load_eval_data(shared_data_dir() / "seal_tools" / f"{split}.jsonl", "seal_tools")


def checkpoint(name: str, tasks, catalogue, config: ProposerConfig, retrain: bool, records=None) -> Path:
    out = ROOT / name
    if retrain and out.exists():
        shutil.rmtree(out)
    if not out.exists():
        start = time.perf_counter()
        train_proposer(prepare_data(tasks, catalogue, config, records), config, out)
        print(f"[bench] trained {name} in {time.perf_counter() - start:.0f}s")
    return out


def part_indomain(retrain: bool) -> dict:
    dev, test = seal("dev"), seal("test_in_domain")
    ckpt = checkpoint("seal_dev", dev.tasks, dev.tools, ProposerConfig(), retrain)
    result = evaluate(test, KS, ToolProposer.load(ckpt))
    print("\nSeal-Tools test_in_domain (700 queries) against all 4,076 tools; trained on dev only")
    print(results_table(result))
    return result | {"checkpoint": str(ckpt), "train": json.loads((ckpt / "proposer.json").read_text())["metrics"]}


def part_heldout(retrain: bool) -> dict:
    dev, test = seal("dev"), seal("test_in_domain")
    split = field_split(dev.tasks + test.tasks, dev.tools, held_out_fraction=0.4, seed=0)
    ckpt = checkpoint("seal_heldout_fields", split.train, dev.tools, ProposerConfig(), retrain)
    data = ToolDataset(dev.tools, split.test)
    result = evaluate(data, KS, ToolProposer.load(ckpt))
    print(f"\nHeld-out fields: {len(split.held_out_fields)} fields / {split.held_out_tools:,} unseen tools; "
          f"trained on {len(split.train)} tasks, tested on {len(split.test)} (pool: all 4,076 tools)")  # fmt: skip
    print(results_table(result))
    return result | {"held_out_fields": split.held_out_fields, "train_tasks": len(split.train)}


def part_metatool(retrain: bool) -> dict:
    proposer = ToolProposer.load(ROOT / "seal_dev")
    out = {}
    for name, src, ks in (
        ("single", "all_clean_data.dev.csv", (1, 5)),
        ("multi", "multi_tool_query_golden.dev.json", (2, 5)),
    ):
        data = load_eval_data(shared_data_dir() / "metatool" / src, "metatool")
        out[name] = evaluate(data, ks, proposer)
        print(f"\nMetaTool {name}-tool ({len(data.tasks):,} queries, {len(data.tools)} tools), Seal-trained proposer")
        print(results_table(out[name]))
    return out


def part_metatool_trained(retrain: bool) -> dict:
    """A proposer trained on MetaTool itself: 3,000 single-tool rows for training, 3,000 other rows for test."""
    single = load_eval_data(shared_data_dir() / "metatool" / "all_clean_data.dev.csv", "metatool")
    multi = load_eval_data(shared_data_dir() / "metatool" / "multi_tool_query_golden.dev.json", "metatool")
    rows = random.Random(0).sample(single.tasks, len(single.tasks))
    test = rows[:METATOOL_ROWS]
    seen = {t.query.strip().lower() for t in test}  # a few queries repeat with another tool: none crosses over
    train = [t for t in rows[METATOOL_ROWS:] if t.query.strip().lower() not in seen][:METATOOL_ROWS]
    ckpt = checkpoint("metatool", train, single.tools, ProposerConfig(epochs=1), retrain)
    proposer, out = ToolProposer.load(ckpt), {}
    for name, data, ks in (("single", ToolDataset(single.tools, test), (1, 5)), ("multi", multi, (2, 5))):
        out[name] = evaluate(data, ks, proposer)
        print(f"\nMetaTool {name}-tool ({len(data.tasks):,} queries), proposer trained on {len(train):,} other rows")
        print(results_table(out[name]))
    return out


def part_ablation(retrain: bool) -> dict:
    dev, test = seal("dev"), seal("test_in_domain")
    records = load_records([SYNTH]) if SYNTH.exists() else {}
    with_rationale = sum(1 for r in records.values() if r.get("gold_rationale_ok") and r.get("gold_rationale"))
    rows, out = [], {}
    for alpha in (0.0, 0.5):
        name = "seal_dev" if alpha == 0 else f"seal_dev_alpha{alpha}"  # alpha = 0 ignores rationales: same run
        ckpt = checkpoint(name, dev.tasks, dev.tools, ProposerConfig(alpha=alpha), retrain and alpha > 0, records)
        proposer = ToolProposer.load(ckpt)
        fitted = proposer.meta.lexical_weight
        for weight in (None, 0.0, 0.3):  # as fitted on validation, then both models at the same fusion weights
            result = evaluate(test, KS, proposer, baselines=(), lexical_weight=weight)
            m = result["methods"]["proposer"]
            shown = f"{fitted} (fitted)" if weight is None else str(weight)
            rows.append([alpha, shown, m["recall@1"], m["recall@5"], m["complete@5"], m["complete@10"]])
            out[f"{alpha}/{shown}"] = result
    print(f"\nAlpha ablation on test_in_domain (teacher rationales for {with_rationale} dev tasks)")
    print(format_table(["alpha", "lexical weight", "Recall@1", "Recall@5", "Complete@5", "Complete@10"], rows))
    return out


def part_speed(retrain: bool) -> dict:
    import torch

    torch.set_num_threads(2)
    test = seal("test_in_domain")
    proposer = ToolProposer.load(ROOT / "seal_dev")
    specs = list(test.tools.values())
    start = time.perf_counter()
    proposer.index(specs, cache=False)
    cold = time.perf_counter() - start
    index = proposer.index(specs)  # fills the cache if empty
    start = time.perf_counter()
    index = proposer.index(specs)
    warm = time.perf_counter() - start
    queries = [t.query for t in test.tasks]
    single = []
    for q in queries[:200]:
        t0 = time.perf_counter()
        proposer.propose(q, index, k=5)
        single.append(time.perf_counter() - t0)
    batched = []
    for b in range(0, 320, 32):
        t0 = time.perf_counter()
        proposer.rank(queries[b : b + 32], index, k=5)
        batched.append((time.perf_counter() - t0) / 32)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {"tools": len(specs), "index_cold_s": cold, "index_cached_s": warm,
           "single_p50_ms": 1e3 * np.percentile(single, 50), "single_p99_ms": 1e3 * np.percentile(single, 99),
           "batch32_per_query_p50_ms": 1e3 * np.percentile(batched, 50),
           "batch32_per_query_p99_ms": 1e3 * np.percentile(batched, 99),
           "index_mb": index.vectors.nbytes / 2**20, "peak_rss_mb": rss}  # fmt: skip
    print("\nSpeed over the Seal-Tools catalogue (2 CPU threads)")
    print(format_table(list(row), [list(row.values())]))
    return row


PARTS = {"indomain": part_indomain, "heldout": part_heldout, "metatool": part_metatool,
         "metatool_trained": part_metatool_trained, "ablation": part_ablation, "speed": part_speed}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--retrain", action="store_true")
    args = parser.parse_args()
    path = ROOT / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    for name in args.parts.split(","):
        results[name] = PARTS[name](args.retrain)
        ROOT.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
