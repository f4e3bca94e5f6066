"""Argument filler latency: per call on real requests, median of repeats, split into the request's one-off encoding
and the per-call scoring.

    python benchmarks/filler.py [--filler DIR] [--data seal_tools_test dataset dir] [--calls 200] [--repeats 3]

Per call of about `--calls` gold calls spread over Seal-Tools test_in_domain (their own tools, earlier calls as
reference options), with the tools' parameter vectors cached (a served catalogue's steady state; a warm-up pass
fills the cache): `first call` = a new request (candidates, one MiniLM forward over the request, one over its
candidates' own texts) plus the call's scoring; `next call` = a further call of the same request (its encoding
reused); `every call` = both together, the latency a request's calls see. A checkpoint with a span reader is
measured with it (the inference default: its encoder in bf16 where the CPU computes bf16 natively, else int8; the
other of the two; float32; and int8 with the MiniLM encoder in int8 too, `int8_encoder`) and, in the same run,
without it (the scorer alone). Both encoders run as traced, frozen graphs (`raytool.cpu_inference`) except in the
"eager" row: the default with PyTorch's eager modules, as before them. The frozen encoder runs in bf16 by default
where the CPU computes bf16 natively (AVX512-BF16 / AMX); there the same filler with it in float32 is measured too.
Prints p50 / p99 in ms (median over `--repeats` passes) and calls/s, one thread. Then the batched path
(`fill_batch`): the same calls in batches of `--batches` calls (whole requests, new to the filler), one MiniLM
forward per batch and one scorer pass per group of parameters with similar option counts: ms per batch and per
call, calls/s, measured in the same run.
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
    parser.add_argument("--batches", default="8,32", help="comma-separated batch sizes (calls) for fill_batch")
    args = parser.parse_args()
    torch.set_num_threads(1)
    filler = ArgumentFiller.load(args.filler)  # the inference default (`ArgumentFiller.load`'s `int8=None`)
    data = ToolDataset.load(args.data)
    jobs = []
    step = max(1, len(data.tasks) * 2 // max(args.calls, 1))  # spread over the file: single- and multi-call requests
    for task in data.tasks[::step]:
        specs = [data.tools[c.name] for c in task.calls]
        for i, spec in enumerate(specs):
            jobs.append((task.query, spec, [EarlierCall(j, s) for j, s in enumerate(specs[:i])], i == 0))
        if len(jobs) >= args.calls:
            break
    encoder = "encoder bf16" if filler.encoder.bf16 else "encoder float32"  # the default: bf16 where the CPU has it
    variants = []
    if filler.reader is not None:
        half = filler.reader.encoder.embeddings.word_embeddings.weight.dtype == torch.bfloat16
        reader = "bf16" if half else "int8"
        variants = [(f"scorer + span reader ({reader}), {encoder} (default)", filler),
                    (f"scorer + span reader ({reader}), {encoder}, eager (not frozen)",
                     ArgumentFiller.load(args.filler, frozen=False))]  # fmt: skip
        if half:  # the reader in int8, as on CPUs without native bf16
            variants.append((f"scorer + span reader (int8), {encoder}", ArgumentFiller.load(args.filler, int8=True)))
        if filler.encoder.bf16:  # the same with the encoder in float32, as on CPUs without native bf16
            variants.append(("scorer + span reader (int8), encoder float32",
                             ArgumentFiller.load(args.filler, int8=True, bf16_encoder=False)))  # fmt: skip
        variants += [
            ("scorer + span reader (float32), encoder float32",
             ArgumentFiller.load(args.filler, int8=False, bf16_encoder=False)),
            ("scorer + span reader (int8), encoder int8",
             ArgumentFiller.load(args.filler, int8=True, int8_encoder=True)),
        ]  # fmt: skip
    variants.append((f"scorer only, {encoder}", ArgumentFiller(filler.scorer, filler.encoder)))
    rows = []
    for name, variant in variants:
        rows += per_call_rows(name, variant, jobs, args.repeats)
    print("| filler | call | calls | p50 ms | p99 ms | calls/s at p50 |\n|---|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(f"median of {args.repeats} passes; {args.filler}; one thread; the variants measured in this one run")
    for name, variant in variants:
        print(f"\nbatched, {name}:")
        print(batch_table(variant, jobs, [int(b) for b in args.batches.split(",") if b], args.repeats))


def per_call_rows(name: str, filler, jobs, repeats: int) -> list[str]:
    """p50 / p99 of a request's first call, its further calls and every call (median over `repeats` passes)."""
    for query, spec, earlier, _ in jobs:  # warm-up: weights paged in, the tools' parameter vectors cached
        filler.fill(query, spec, earlier)
    first, after = [], []
    for _ in range(repeats):
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
    every = [cold + warm for cold, warm in zip(first, after, strict=True)]
    for label, runs in (
        ("first call of a request", first), ("next call, same request", after), ("every call, as requests come", every)
    ):  # fmt: skip
        if runs and runs[0]:
            p50 = float(np.median([np.percentile(r, 50) for r in runs]))
            p99 = float(np.median([np.percentile(r, 99) for r in runs]))
            rows.append(f"| {name} | {label} | {len(runs[0])} | {p50:.1f} | {p99:.1f} | {1000 / p50:.0f} |")
    return rows


def batch_table(filler, jobs, sizes: list[int], repeats: int) -> str:
    """`fill_batch` over consecutive batches of `size` calls (a request's calls stay together)."""
    rows = ["| batch (calls) | batches | p50 ms / batch | p99 ms / batch | ms / call | calls/s |",
            "|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for size in sizes:
        batches, current = [], []
        for query, spec, earlier, is_first in jobs:
            if is_first and len(current) >= size:
                batches.append(current)
                current = []
            current.append((query, spec, earlier))
        batches += [current] if current else []
        passes = []
        for _ in range(repeats):
            times, calls = [], 0
            for batch in batches:
                start = time.perf_counter()
                filler.fill_batch(batch)
                times.append(1000 * (time.perf_counter() - start))
                calls += len(batch)
            passes.append((np.percentile(times, 50), np.percentile(times, 99), sum(times) / calls))
        p50, p99, per_call = (float(np.median([p[i] for p in passes])) for i in range(3))
        rows.append(f"| {size} | {len(batches)} | {p50:.1f} | {p99:.1f} | {per_call:.1f} | {1000 / per_call:.0f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
