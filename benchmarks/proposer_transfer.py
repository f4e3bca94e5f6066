"""Does one proposer transfer? Trained on the union of the shipped benchmarks, and leave-one-benchmark-out.

    python benchmarks/proposer_transfer.py [--variants union,lobo] [--train-limit N] [--epochs E] [--retrain]
                                           [--threads T] [--existing] [--whole]

Training and held-out parts (fixed seeds; a held-out part is never trained on by any variant):

    seal_tools   dev (700 tasks) / test_in_domain (700), pool: all 4,076 tools
    metatool     single-tool rows of all_clean_data.dev.csv: 3,000 held out, up to 3,000 others for training
                 (no query in both), pool: its 199 tools
    toolbench    G1_instruction.json (StableToolBench): queries split 60/40, pool: each query's api_list
    toolalpaca   eval_simulated.json: APIs split 7/3 (API-disjoint), pool: each API's functions

Variants: `union` (all four training parts; early stopping and the lexical weight on the trainer's own validation
share of them, each benchmark's share weighing the same; each benchmark's held-out part is ranked with the lexical
weight fitted on that benchmark's own validation tasks, `CheckpointMeta.source_weights`) and `lobo` (one proposer
per benchmark trained on the other three, evaluated on the one it never saw, with the weight fitted on all three:
the left-out benchmark is a source it has no weight of its own for: by default its weight is read from that
benchmark's unlabelled queries, `raytool.proposer.adaptation`, and the overall weight is shown beside it; a checkpoint
trained before the validation reference was recorded gets it added, `record_ratios`); beside them, on every
held-out part, the main job's Seal-Tools proposer (`seal-only`), BM25 and the untrained MiniLM encoder (`minilm`).
`--whole`: a second table ranks each left-out benchmark whole (training and held-out parts: the proposer that left
it out saw neither), beside BM25 and MiniLM on the same queries.
Table: Complete@5 (MetaTool single: Complete@1, its official top-1) per benchmark and method; target (issue 19):
the union and the left-out proposers ahead of BM25 and MiniLM on every benchmark, and Seal-Tools Complete@5 of the
union no worse than the Seal-only proposer's 0.894. Checkpoints and results.json in $RAYTOOL_CACHE/bench/
proposer_transfer/ (re-used unless --retrain). `--train-limit` / `--epochs` / `--max-minutes` shrink a run (a
smoke test of the script, not a result).
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import shutil
import time
from pathlib import Path

from raytool.evaluation.proposer import evaluate, load_eval_data
from raytool.paths import cache_dir, shared_data_dir
from raytool.proposer.config import ProposerConfig
from raytool.proposer.data import split_tasks
from raytool.proposer.proposer import ToolProposer
from raytool.proposer.train import TrainData, prepare_data, train_proposer, validation_pool, validation_ratios
from raytool.tables import format_table
from raytool.tools.dataset import ToolDataset

ROOT = cache_dir() / "bench" / "proposer_transfer"
BENCHMARKS = ("seal_tools", "metatool", "toolbench", "toolalpaca")
METATOOL_ROWS = 3000


def splits() -> dict[str, tuple[ToolDataset, ToolDataset]]:
    """(training part, held-out part) per benchmark (module docstring)."""
    data = shared_data_dir()
    seal_dev = load_eval_data(data / "seal_tools" / "dev.jsonl", "seal_tools", log=lambda _: None)
    seal_test = load_eval_data(data / "seal_tools" / "test_in_domain.jsonl", "seal_tools", log=lambda _: None)
    meta = load_eval_data(data / "metatool" / "all_clean_data.dev.csv", "metatool", log=lambda _: None)
    rows = random.Random(0).sample(meta.tasks, len(meta.tasks))
    meta_test = rows[:METATOOL_ROWS]
    seen = {t.query.strip().lower() for t in meta_test}
    meta_train = [t for t in rows[METATOOL_ROWS:] if t.query.strip().lower() not in seen][:METATOOL_ROWS]
    g1 = load_eval_data(data / "stabletoolbench" / "G1_instruction.json", "toolbench", log=lambda _: None)
    g1_rows = random.Random(0).sample(g1.tasks, len(g1.tasks))
    cut = round(0.6 * len(g1_rows))
    alpaca = load_eval_data(data / "toolalpaca" / "eval_simulated.json", "toolalpaca", log=lambda _: None)
    apis = sorted({t.id.rsplit("-", 1)[0] for t in alpaca.tasks})
    held_apis = set(random.Random(0).sample(apis, 3))
    return {
        "seal_tools": (seal_dev, seal_test),
        "metatool": (ToolDataset(meta.tools, meta_train), ToolDataset(meta.tools, meta_test)),
        "toolbench": (ToolDataset(g1.tools, g1_rows[:cut]), ToolDataset(g1.tools, g1_rows[cut:])),
        "toolalpaca": (
            ToolDataset(alpaca.tools, [t for t in alpaca.tasks if t.id.rsplit("-", 1)[0] not in held_apis]),
            ToolDataset(alpaca.tools, [t for t in alpaca.tasks if t.id.rsplit("-", 1)[0] in held_apis]),
        ),
    }


def union(parts: list[ToolDataset], limit: int | None = None) -> tuple[dict, list]:
    """(catalogue, tasks) of `parts` together: the catalogues merged (first name wins), the first `limit` tasks of
    each (all by default), each keeping its own pool."""
    catalogue: dict = {}
    tasks = []
    for part in parts:
        for tool_name, spec in part.tools.items():
            catalogue.setdefault(tool_name, spec)
        tasks += part.tasks[:limit] if limit else part.tasks
    return catalogue, tasks


def train(name: str, parts: list[ToolDataset], config: ProposerConfig, limit: int | None, retrain: bool,
          root: Path = ROOT, existing: bool = False) -> Path | None:  # fmt: skip
    """A proposer on the `union` of `parts`; `existing`: train nothing, None where no checkpoint is there yet."""
    out = root / name
    if retrain and out.exists():
        shutil.rmtree(out)
    if not (out / "proposer.json").exists():
        if existing:
            return None
        catalogue, tasks = union(parts, limit)
        start = time.perf_counter()
        train_proposer(prepare_data(tasks, catalogue, config, []), config, out)
        print(f"[bench] {name}: {len(tasks):,} tasks over {len(catalogue):,} tools in "
              f"{time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
    return out


def record_ratios(ckpt: Path, parts: list[ToolDataset], config: ProposerConfig) -> None:
    """Add the per-source agreement ratios (`train.validation_ratios`, on the training run's own validation tasks
    and pool) to a checkpoint written before training recorded them; nothing else in it changes."""
    record = json.loads((ckpt / "proposer.json").read_text())
    if record["ranking"].get("source_ratios"):
        return
    catalogue, tasks = union(parts)
    _, val = split_tasks(tasks, config.val_fraction, config.seed)  # as `prepare_data` split them for training
    pool = validation_pool(TrainData([], val, catalogue), config.seed)
    proposer = ToolProposer.load(ckpt)
    index = proposer.index([catalogue[n] for n in pool], cache=False)
    queries, sources = [t.query for t in val], [t.source for t in val]
    record["ranking"]["source_ratios"] = validation_ratios(proposer.score(queries, index), index, queries, sources,
                                                           catalogue)  # fmt: skip
    (ckpt / "proposer.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"[bench] {ckpt.name}: recorded source ratios {record['ranking']['source_ratios']}", flush=True)


def score(result: dict, method: str, benchmark: str) -> float:
    key = "complete@1" if benchmark == "metatool" else "complete@5"
    return float(result["methods"][method][key])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", default="union,lobo")
    parser.add_argument("--train-limit", type=int, help="tasks per benchmark for training (smoke runs)")
    parser.add_argument("--test-limit", type=int, help="held-out tasks per benchmark (smoke runs)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-minutes", type=float, help="cap each training run (smoke runs)")
    reuse = parser.add_mutually_exclusive_group()
    reuse.add_argument("--retrain", action="store_true")
    reuse.add_argument("--existing", action="store_true", help="train nothing: evaluate the checkpoints already there")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (1 leaves a core to other work)")
    parser.add_argument("--whole", action="store_true",
                        help="also rank each left-out benchmark whole (its training and held-out parts)")  # fmt: skip
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    config = ProposerConfig(epochs=args.epochs, max_minutes=args.max_minutes)
    smoke = bool(args.train_limit or args.test_limit or args.max_minutes)
    root = ROOT / "smoke" if smoke else ROOT  # a shrunk run never leaves checkpoints a real run would re-use
    data = splits()
    models: dict[str, dict[str, Path]] = {b: {} for b in BENCHMARKS}  # benchmark -> {method: checkpoint}
    variants = args.variants.split(",")
    fit = functools.partial(train, config=config, limit=args.train_limit, retrain=args.retrain, root=root,
                            existing=args.existing)  # fmt: skip
    if "union" in variants and (union := fit("union", [data[b][0] for b in BENCHMARKS])):
        for b in BENCHMARKS:
            models[b]["union"] = union
    if "lobo" in variants:
        for left in BENCHMARKS:
            if ckpt := fit(f"lobo-{left}", [data[b][0] for b in BENCHMARKS if b != left]):
                if not args.train_limit:  # a smoke run's parts differ from its training run's
                    record_ratios(ckpt, [data[b][0] for b in BENCHMARKS if b != left], config)
                models[left]["left out"] = ckpt
    seal_only = cache_dir() / "run" / "proposer"
    results, rows = {}, []
    for b in BENCHMARKS:
        test = data[b][1]
        if args.test_limit:
            test = ToolDataset(test.tools, test.tasks[: args.test_limit])
        methods = dict(models[b]) | ({"seal-only": seal_only} if (seal_only / "proposer.json").exists() else {})
        results[b], row = rank(b, test, methods)
        columns = ("union", "union, one weight", "left out", "left out, one weight", "seal-only", "bm25", "minilm")
        rows.append([b, len(test.tasks), *(f"{row[m]:.3f}" if m in row else "-" for m in columns)])
    headers = ["held-out part", "tasks", "union", "union, one weight", "left out (LOBO)", "LOBO, one weight",
               "seal-only", "BM25", "MiniLM"]  # fmt: skip
    print(format_table(headers, rows))
    print("Complete@5 (MetaTool single: Complete@1); `union`: each benchmark ranked with its own fitted lexical")
    print("weight; `one weight`: the checkpoint's overall one; `left out`: the proposer trained on the other three")
    print("benchmarks, its weight for the one it never saw read from that benchmark's unlabelled queries")
    print("(`raytool.proposer.adaptation`)")
    if args.whole and any("left out" in models[b] for b in BENCHMARKS):
        results["whole"] = whole_table(data, models, args.test_limit)
    root.mkdir(parents=True, exist_ok=True)
    (root / "results.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"wrote {root / 'results.json'}" + (" (a smoke run: not a result)" if smoke else ""))


def rank(benchmark: str, test: ToolDataset, methods: dict[str, Path]) -> tuple[dict, dict[str, float]]:
    """BM25, MiniLM and each checkpoint of `methods` (name -> directory) on `test`; `union` and `left out` also
    with their one overall lexical weight. Returns (results for results.json, score per column)."""
    quiet = lambda _: None  # noqa: E731
    results = {"baselines": evaluate(test, (1, 5), None, ("bm25", "minilm_zero_shot"), log=quiet)}
    row = {"bm25": score(results["baselines"], "bm25", benchmark),
           "minilm": score(results["baselines"], "minilm_zero_shot", benchmark)}  # fmt: skip
    for method, ckpt in methods.items():
        proposer = ToolProposer.load(ckpt)
        results[method] = evaluate(test, (1, 5), proposer, (), log=quiet)
        row[method] = score(results[method], "proposer", benchmark)
        if method in ("union", "left out"):  # beside it, the same checkpoint with its one overall weight
            one = evaluate(test, (1, 5), proposer, (), log=quiet, lexical_weight=proposer.meta.lexical_weight)
            results[f"{method}, one weight"] = one
            row[f"{method}, one weight"] = score(one, "proposer", benchmark)
        if adapted := results[method]["methods"]["proposer"].get("adapted_weights"):
            print(f"[bench] {benchmark} / {method}: lexical weight adapted from the queries: {adapted}", flush=True)
    return results, row


def whole_table(data: dict, models: dict, limit: int | None) -> dict:
    """Each left-out proposer on its benchmark whole (`--whole`): it was trained on none of that benchmark, so its
    training part is as unseen as its held-out part, and ranking both measures the transfer on 2.5x (G1: 163 queries
    instead of 65) to 2x the queries; BM25 and MiniLM on the same queries. Printed as a table, returned for
    results.json."""
    results, rows = {}, []
    for b in BENCHMARKS:
        if "left out" not in models[b]:
            continue
        train_part, test_part = data[b]
        test = ToolDataset(test_part.tools, (train_part.tasks + test_part.tasks)[:limit])
        results[b], row = rank(b, test, {"left out": models[b]["left out"]})
        columns = ("left out", "left out, one weight", "bm25", "minilm")
        rows.append([b, len(test.tasks), *(f"{row[m]:.3f}" for m in columns)])
    print(format_table(["left out, whole", "tasks", "left out (LOBO)", "LOBO, one weight", "BM25", "MiniLM"], rows))
    print("The left-out benchmark whole: its training part (which no left-out proposer saw) and its held-out part")
    return results


if __name__ == "__main__":
    main()
