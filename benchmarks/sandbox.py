"""Per-call overhead of the two tool executors: in-process (`InlineExecutor`) vs the sandboxed child process
(`ProcessSandbox`), on the suites' real tools.

    python benchmarks/sandbox.py [--calls 2000] [--repeats 3]

Each repeat replays, on a fresh episode of world seed 0, the first gold calls of verified level-1 tasks that execute
in that world (the others are left out; the share of calls that returned ok is printed: writes change the world,
so a replayed call can fail); the table gives the median over repeats of each executor's median per-call time,
and the ratio measured side by side in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.sandbox import InlineExecutor, ProcessSandbox
from raytool.envs.suites import SUITE_NAMES
from raytool.tables import format_table


def per_call_us(executor, suites, calls) -> tuple[float, float]:
    """(median us per call, share of calls that returned ok) over one fresh episode."""
    executor.reset(suites, world_seed=0)
    times, ok = [], 0
    for name, arguments in calls:
        start = time.perf_counter()
        result = executor.call(name, arguments)
        times.append(time.perf_counter() - start)
        ok += result.observation()["ok"]
    return statistics.median(times) * 1e6, ok / len(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    tasks = build_tasks(BuildConfig(tuple(SUITE_NAMES), level=1, num_tasks=40, seed=0), log=lambda _: None).tasks
    inline = InlineExecutor()
    inline.reset(SUITE_NAMES, world_seed=0)
    first = [(t.calls[0].name, t.calls[0].arguments) for t in tasks if t.calls]
    first = [(name, arguments) for name, arguments in first if inline.call(name, arguments).observation()["ok"]]
    calls = (first * (args.calls // len(first) + 1))[: args.calls]
    medians: dict[str, list[float]] = {"inline": [], "process": []}
    ok: dict[str, list[float]] = {"inline": [], "process": []}
    with ProcessSandbox(timeout_s=2.0) as sandbox:
        for _ in range(args.repeats):
            for label, executor in (("inline", inline), ("process", sandbox)):
                us, share = per_call_us(executor, SUITE_NAMES, calls)
                medians[label].append(us)
                ok[label].append(share)
    inline_us, process_us = (statistics.median(medians[k]) for k in ("inline", "process"))
    rows = [["inline (in-process)", f"{inline_us:.0f}", "1.0x", f"{min(ok['inline']):.2f}"],
            ["process (sandboxed child)", f"{process_us:.0f}", f"{process_us / inline_us:.1f}x",
             f"{min(ok['process']):.2f}"]]  # fmt: skip
    print(
        f"{len(calls)} calls per repeat ({len(first)} distinct), {args.repeats} repeats, median of per-repeat medians"
    )
    print(format_table(["executor", "us per call", "vs inline", "ok share"], rows))


if __name__ == "__main__":
    main()
