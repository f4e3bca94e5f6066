"""Argument filler latency: per call on real requests, median of repeats, split into the request's one-off encoding
and the per-call scoring.

    python benchmarks/filler.py [--filler DIR] [--data seal_tools_test dataset dir] [--calls 200] [--repeats 3]

Per call of about `--calls` gold calls spread over Seal-Tools test_in_domain (their own tools, earlier calls as
reference options), with the tools' parameter vectors cached (a served catalogue's steady state; a warm-up pass
fills the cache): `first call` = a new request (candidates, one MiniLM forward over the request, one over its
candidates' own texts) plus the call's scoring; `next call` = a further call of the same request (its encoding
reused). Prints p50 / p99 in ms (median over `--repeats` passes) and calls/s, one thread.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    import torch

    from raytool.filler.filler import ArgumentFiller
    from raytool.filler.options import EarlierCall
    from raytool.paths import cache_dir
    from raytool.tools.dataset import ToolDataset

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--filler", default=str(cache_dir() / "run" / "filler"))
    parser.add_argument("--data", default=str(cache_dir() / "run" / "datasets" / "seal_tools_test"))
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    filler = ArgumentFiller.load(args.filler)
    data = ToolDataset.load(args.data)
    jobs = []
    step = max(1, len(data.tasks) * 2 // max(args.calls, 1))  # spread over the file: single- and multi-call requests
    for task in data.tasks[::step]:
        specs = [data.tools[c.name] for c in task.calls]
        for i, spec in enumerate(specs):
            jobs.append((task.query, spec, [EarlierCall(j, s) for j, s in enumerate(specs[:i])], i == 0))
        if len(jobs) >= args.calls:
            break
    for query, spec, earlier, _ in jobs:  # warm-up: weights paged in, the tools' parameter vectors cached
        filler.fill(query, spec, earlier)
    first, after = [], []
    for _ in range(args.repeats):
        cold, warm = [], []
        for query, spec, earlier, is_first in jobs:
            if is_first:
                filler._request = None
            start = time.perf_counter()
            filler.fill(query, spec, earlier)
            (cold if is_first else warm).append(1000 * (time.perf_counter() - start))
        first.append(cold)
        after.append(warm)
    rows = []
    for label, runs in (("first call of a request", first), ("next call, same request", after)):
        if runs and runs[0]:
            p50 = float(np.median([np.percentile(r, 50) for r in runs]))
            p99 = float(np.median([np.percentile(r, 99) for r in runs]))
            rows.append(f"| {label} | {len(runs[0])} | {p50:.1f} | {p99:.1f} | {1000 / p50:.0f} |")
    print("| filler call | calls | p50 ms | p99 ms | calls/s at p50 |\n|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(f"median of {args.repeats} passes; {args.filler}; one thread")


if __name__ == "__main__":
    main()
