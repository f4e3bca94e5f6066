"""Teacher throughput through the vLLM actor pool: batched versus one request at a time, same model and machine.

    python benchmarks/teacher.py [--actors 1] [--prompts 64] [--candidates 5] [--repeats 3] [--dtypes auto]
                                 [--context-words 0] [--tool-names] [--block-sizes 0]

Scoring: `prompts` short prompts x `candidates` continuations, sent all at once (the client batches them
onto the actors) versus one prompt per call, waiting for each. Generation: `prompts` chat prompts, 32 new tokens
each, batched versus one at a time. Also reports engine start time and each engine process's peak memory.
Medians of `repeats` runs. `--dtypes bfloat16,float32` runs it all once per weights dtype, one pool after the
other in the same run, and prints the batched rates side by side (bf16 is emulated on CPUs without AVX512-BF16/AMX).
`--context-words N` puts N words of tool descriptions, different for every prompt, before each scoring prompt: the
prompt-heavy shape of the job's teacher stages (a next-tool prompt lists its candidates' documents), where the
prompt's forward pass, not the candidates, sets the rate. `--tool-names` makes the candidates tool names of several
tokens (" get_paris_city_record\\n", as `candidate_continuations` writes them): each candidate's every prefix is a
request of its own that shares the prompt, so prefix caching, and its block size, decide the rate.
`--block-sizes 128,32` compares KV-cache block sizes side by side (`TeacherConfig.block_size`; 0: the default, 32 on
CPU), crossed with `--dtypes`; `--reserved-cpus=-1,0` the cores vLLM-CPU keeps off the
forward's threads (`TeacherConfig.reserved_cpus`; -1: vLLM's own, one on x86; auto, the default: 0 on at most 4
cores). Close to the job's own shape (stage 6's decider states: prompts of about 450 tokens, six candidates):

    python benchmarks/teacher.py --prompts 32 --context-words 250 --tool-names --block-sizes 128,32 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

from raytool.tables import format_table

SUBJECTS = ["France", "Japan", "Brazil", "Kenya", "Canada", "Norway", "Egypt", "Chile"]


def main() -> None:
    import ray

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actors", type=int, default=1)
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--candidates", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtypes", default="auto", help="comma-separated weights dtypes, compared side by side")
    parser.add_argument("--context-words", type=int, default=0, help="words of tool documents before each prompt")
    parser.add_argument("--tool-names", action="store_true", help="candidates are multi-token tool names")
    parser.add_argument("--block-sizes", default="0", help="comma-separated KV-cache block sizes (0: the default)")
    parser.add_argument("--reserved-cpus", default="auto",
                        help="comma-separated cores vLLM-CPU keeps off the forward (-1: vLLM's own; auto)")  # fmt: skip
    args = parser.parse_args()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    sizes = [int(b) for b in args.block_sizes.split(",")]
    reserved = [None if r == "auto" else int(r) for r in args.reserved_cpus.split(",")]
    batched = {
        f"{dtype}, block {size or 'default'}, reserved {_reserved(cpus)}": measure(args, dtype, size, cpus)
        for dtype in args.dtypes.split(",")
        for size in sizes
        for cpus in reserved
    }
    ray.shutdown()
    if len(batched) > 1:
        base = next(iter(batched))
        rows = []
        for op in batched[base]:
            rates = [b[op] for b in batched.values()]
            rows.append([op, *(f"{r:.1f}" for r in rates), *(f"{r / rates[0]:.2f}x" for r in rates[1:])])
        others = list(batched)[1:]  # each against the first (the first against itself would read 1.00x)
        print(format_table(["batched", *batched, *(f"{d} / {base}" for d in others)], rows))


def _reserved(cpus: int | None) -> str:
    return "auto" if cpus is None else "vLLM's own" if cpus < 0 else str(cpus)


def measure(args, dtype: str, block_size: int = 0, reserved_cpus: int | None = None) -> dict[str, float]:
    """The tables for one weights dtype, block size and reserved-core count; returns the batched rates (candidates/s,
    new tokens/s)."""
    from raytool.teacher.backend import Sampling, TeacherConfig
    from raytool.teacher.vllm_backend import VLLMTeacher, resolve_dtype

    start = time.perf_counter()
    config = TeacherConfig(num_actors=args.actors, num_cpus=2 / args.actors, batch_size=256, dtype=dtype,
                           block_size=block_size, reserved_cpus=reserved_cpus)  # fmt: skip
    teacher = VLLMTeacher(config)
    started = time.perf_counter() - start
    prompts = [
        context(i, args.context_words) + f"Question {i}: the capital of {SUBJECTS[i % len(SUBJECTS)]} is"
        for i in range(args.prompts)
    ]
    cities = ["Paris", "Tokyo", "Nairobi", "Oslo", "Cairo", "Lima", "Rome", "Bern"][: args.candidates]
    names = [f" get_{c.lower()}_city_record\n" if args.tool_names else f" {c}" for c in cities]
    options = [names] * len(prompts)
    chats = teacher.chat([[{"role": "user", "content": f"Tell me one fact about {s}."}] for s in prompts])
    sampling = Sampling(max_tokens=32)
    teacher.score(prompts[:2], options[:2])  # warm-up
    rows = []

    def timed(fn) -> float:
        runs = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - t)
        return statistics.median(runs)

    pairs = args.prompts * args.candidates
    batched = timed(lambda: teacher.score(prompts, options))
    single = timed(lambda: [teacher.score([p], [o]) for p, o in zip(prompts, options, strict=True)])
    rows.append(["score, one prompt per call (candidates/s)", pairs / single, pairs / batched, single / batched])
    few = prompts[:16]
    single_pair = timed(lambda: [teacher.score([p], [[c]]) for p in few for c in options[0]])
    one_pair = len(few) * args.candidates / single_pair
    rows.append(["score, one candidate per call (candidates/s)", one_pair, pairs / batched, pairs / batched / one_pair])
    tokens = args.prompts * sampling.max_tokens
    batched_gen = timed(lambda: teacher.generate(chats, sampling))
    single_gen = timed(lambda: [teacher.generate([c], sampling) for c in chats])
    rows.append(
        ["generate (new tokens/s, upper bound)", tokens / single_gen, tokens / batched_gen, single_gen / batched_gen]
    )
    info = teacher.info()
    teacher.close()
    print(f"weights dtype: {resolve_dtype(dtype, 0)} ({dtype}), KV-cache block {info[0]['block_size']} tokens")
    print(format_table(["operation", "one at a time", f"batched ({args.actors} actor(s))", "speed-up"], rows))
    print(format_table(["engine", "start s", "peak RSS MiB"],
                       [[i, e["start_seconds"], e["peak_rss_mib"]] for i, e in enumerate(info)]))  # fmt: skip
    shape = f"{args.prompts} prompts x {args.candidates} candidates" + (
        f", {args.context_words} words of context per scoring prompt" if args.context_words else ""
    )
    print(f"pool start (actors ready, driver side): {started:.1f} s; {shape}")
    return {"score (candidates/s)": pairs / batched, "generate (new tokens/s)": tokens / batched_gen}


def context(i: int, words: int) -> str:
    """About `words` words of tool documents for prompt `i` (distinct per prompt: no shared prefix to cache)."""
    if words <= 0:
        return ""
    lines, n, k = [], 0, 0
    while n < words:
        line = f"- tool_{i}_{k}: returns the {SUBJECTS[(i + k) % len(SUBJECTS)]} record {i * 100 + k} for a query."
        lines.append(line)
        n += len(line.split())
        k += 1
    return "Tools:\n" + "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
