"""The filler's training examples: how long encoding the requests takes (the scorer's inputs, `filler.data`), one
request at a time against batched, float32 against bf16, side by side in one run.

    python benchmarks/filler_training.py [--data DIR ...] [--tasks 200] [--repeats 3]

`request_examples` over the first `--tasks` tasks of each dataset directory (default: the main job's Seal-Tools
dev and level-4 suite tasks), the encoder's text cache emptied before every pass. Rows: one request per MiniLM
forward (`ENCODE_CHUNK = ENCODE_BATCH = 1`: each request and its tools' parameter texts encoded on their own, as
before the batched path) in float32; the batched path (`ENCODE_CHUNK` requests, forwards of `ENCODE_BATCH`
requests of similar length, all parameter texts in batches of 64) in float32, and in bf16 where the CPU computes it
natively (`hardware.cpu_has_bf16`; the main job's default). Prints the median seconds over `--repeats` passes,
ms per request and the ratio to the first row; two torch threads, as the main job trains.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np


def main() -> None:
    import torch

    from raytool.filler import data as filler_data
    from raytool.filler.encoder import SpanEncoder
    from raytool.hardware import cpu_has_bf16
    from raytool.paths import cache_dir
    from raytool.tools.dataset import ToolDataset

    run = cache_dir() / "run"
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", nargs="+", default=[str(run / "datasets" / "seal_tools_dev"),
                                                      str(run / "envs" / "filler_l4_p50")])  # fmt: skip
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    sets = [ToolDataset.load(d) for d in args.data]
    requests = sum(min(len(s.tasks), args.tasks) for s in sets)
    chunk, batch = filler_data.ENCODE_CHUNK, filler_data.ENCODE_BATCH
    variants = [("one request per forward, float32", 1, 1, False), ("batched, float32", chunk, batch, False)]
    if cpu_has_bf16():
        variants.append(("batched, bf16 (the default here)", chunk, batch, True))
    rows, base = [], None
    for name, per_chunk, per_batch, bf16 in variants:
        encoder = SpanEncoder(bf16=bf16)
        filler_data.ENCODE_CHUNK, filler_data.ENCODE_BATCH = per_chunk, per_batch
        times = []
        for _ in range(args.repeats):
            encoder._cache.clear()
            start = time.perf_counter()
            made = sum(len(filler_data.request_examples(s.tasks[: args.tasks], s.tools, encoder, Counter()))
                       for s in sets)  # fmt: skip
            times.append(time.perf_counter() - start)
        seconds = float(np.median(times))
        base = base or seconds
        rows.append(f"| {name} | {made} | {seconds:.2f} | {1000 * seconds / requests:.1f} | {base / seconds:.2f}x |")
    filler_data.ENCODE_CHUNK, filler_data.ENCODE_BATCH = chunk, batch
    print("| encoding | examples | s (median) | ms / request | speed-up |\n|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(f"{requests} requests from {', '.join(args.data)}; median of {args.repeats} passes; two threads")


if __name__ == "__main__":
    main()
