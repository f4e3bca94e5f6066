"""The `TeacherBackend` protocol and the settings shared by every backend.

    teacher = make_teacher(TeacherConfig(backend="vllm"))          # or "transformers", "openai"
    texts = teacher.generate(teacher.chat([[{"role": "user", "content": "hi"}]]), Sampling(max_tokens=32))
    scores = teacher.score(["The capital of France is"], [[" Paris", " London"]])
    scores.summed[0]      # (2,) total log-probability of each candidate continuation
    scores.mean[0]        # (2,) per-token mean log-probability

`score` is the workhorse for a weak teacher: the log-likelihood of each candidate continuation given the
prompt, computed from the model's prompt log-probabilities (the prompt's own tokens are not counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

BACKENDS = ("vllm", "transformers", "openai", "synthetic")


@dataclass(frozen=True)
class Sampling:
    """Generation settings (a subset every backend supports).

    max_tokens: tokens to generate at most.
    temperature: 0 is greedy.
    top_p: nucleus sampling mass.
    stop: strings that end generation (not included in the output).
    seed: sampling seed (ignored when greedy).
    json_schema: a JSON Schema (as a JSON string) the output must follow: vLLM's structured outputs (guided
        decoding), the OpenAI backend's `response_format`; "" = free text. The transformers backend ignores it.
    """

    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int = 0
    json_schema: str = ""

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ValueError(f"Sampling.max_tokens must be >= 1, got {self.max_tokens}")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ValueError("Sampling.temperature must be >= 0 and top_p in (0, 1]")


@dataclass(frozen=True)
class CandidateScores:
    """Log-likelihoods of candidate continuations, one list per prompt.

    summed[i][j]: sum of log p(token) over the tokens of candidate j after prompt i.
    mean[i][j]:   the same divided by the candidate's token count (length-normalised).
    tokens[i][j]: that token count.
    """

    summed: list[list[float]]
    mean: list[list[float]]
    tokens: list[list[int]]


@runtime_checkable
class TeacherBackend(Protocol):
    """What every teacher backend provides."""

    model_name: str

    def chat(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str]:
        """Apply the model's chat template to each conversation (ending with a generation prompt)."""
        ...

    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[str]:
        """One completion per prompt (raw prompts: template them with `chat` first)."""
        ...

    def score(self, prompts: Sequence[str], candidates: Sequence[Sequence[str]]) -> CandidateScores:
        """Log-likelihood of each candidate continuation of each prompt."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class TeacherConfig:
    """Which teacher to run and how (YAML `teacher:` section; defaults run the embedded model on CPU).

    backend: `vllm` (engines in Ray actors), `transformers` (in-process), `openai` (HTTP server) or `synthetic` (a
        teacher of controlled quality that only ranks decider states for `distill rank`; `teacher/synthetic.py`).
    model: a model directory or hub id the backend can load; "" = the embedded SmolLM2-135M-Instruct,
        converted once into `$RAYTOOL_CACHE/models/` (nothing is downloaded).
    num_actors: vLLM engine actors in the pool.
    num_cpus / num_gpus: Ray resources per actor (fractional CPUs are fine on small machines).
    tensor_parallel_size: GPUs per engine (vLLM; > 1 uses a placement group of that many GPU bundles).
    max_model_len: context length the engine reserves.
    dtype: weights dtype; `auto` = bfloat16 on GPUs and on CPUs with native bf16 (AVX512-BF16 or AMX), else
        float32: where bf16 is emulated it is slower (the embedded teacher wrote 10 `distill synth` records in 424 s
        in bf16 and 144 s in float32 on an AMD EPYC without AVX-512, same engine and load; `benchmarks/teacher.py`).
    kv_cache_gib: KV cache size for vLLM on CPU (`VLLM_CPU_KVCACHE_SPACE`).
    gpu_memory_utilization: vLLM's share of GPU memory on GPU nodes.
    enforce_eager: skip vLLM's torch.compile warm-up (engine start ~20 s instead of 75-115 s on this CPU
        machine); set false for long GPU jobs where compiled graphs pay off.
    enable_prefix_caching: reuse the KV cache of shared prompt prefixes (system prompt, one-shot example).
    block_size: tokens per KV-cache block; 0 = 32 on CPU, the engine's own on GPUs. A prefix-cache hit reuses whole
        blocks only, and scoring sends every candidate's prefixes (prompt + its first k tokens) as requests that share
        the prompt: with vLLM-CPU's own 128 each of them recomputed up to 127 tokens of it. At 32, 20 of the main
        job's stage-6 decider states (445-token prompts, 6 candidates, 455 prefixes) scored in 23 s against 55 s,
        to the same log-probabilities (`benchmarks/teacher.py --block-sizes 128,32`; 16 fails to start on CPU).
    reserved_cpus: vLLM-CPU's cores kept off the forward pass's threads (`VLLM_CPU_NUM_OF_RESERVED_CPU`); -1 = vLLM's
        own choice (one core on x86, for its scheduler process: on 2 cores the model runs on one thread); 0 = the
        forward on every core; None (the default) = 0 on a machine with at most 4 cores, vLLM's own above
        (`vllm_backend.resolve_reserved_cpus`; on 2 cores 0 scored and generated 1.8x faster, docs/teacher.md).
    resources: extra Ray custom resources per actor (e.g. {"teacher": 1} to land on teacher nodes).
    base_url / api_key / timeout_s / max_retries: the OpenAI-compatible server.
    batch_size: prompts per engine call when the client splits work.
    quality / margin / seed: the synthetic teacher's probability of ranking the gold option first, the log-score
        gap between its ranks, and its draw seed.
    """

    backend: str = "vllm"
    model: str = ""
    num_actors: int = 1
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    tensor_parallel_size: int = 1
    max_model_len: int = 1024
    dtype: str = "auto"
    kv_cache_gib: int = 1
    gpu_memory_utilization: float = 0.85
    enforce_eager: bool = True
    enable_prefix_caching: bool = True
    block_size: int = 0
    reserved_cpus: int | None = None
    resources: dict[str, float] = field(default_factory=dict)
    base_url: str = "http://127.0.0.1:8000/v1"
    api_key: str = ""
    timeout_s: float = 60.0
    max_retries: int = 3
    batch_size: int = 64
    quality: float = 1.0
    margin: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"teacher.backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.num_actors < 1 or self.tensor_parallel_size < 1 or self.batch_size < 1:
            raise ValueError("teacher.num_actors, tensor_parallel_size and batch_size must be >= 1")
        if self.reserved_cpus is not None and self.reserved_cpus < -1:
            raise ValueError(
                f"teacher.reserved_cpus must be >= 0 (-1: vLLM's own, null: auto), got {self.reserved_cpus}"
            )
        if self.block_size < 0:
            raise ValueError(f"teacher.block_size must be >= 0 (0: the default for the device), got {self.block_size}")

    @classmethod
    def from_dict(cls, record: dict[str, Any] | None, where: str = "<teacher config>") -> TeacherConfig:
        """Checked by `raytool.config.settings_from` (errors name `where`, the key path and what was expected)."""
        from raytool.config import settings_from

        return settings_from(cls, record, where, "teacher")

    @classmethod
    def from_file(cls, path: str | Path | None) -> TeacherConfig:
        """A teacher YAML file (its keys bare or under `teacher:`); None = the embedded default."""
        from raytool.config import read_config

        return cls.from_dict(read_config(path, "teacher"), str(path or "<embedded teacher>"))


def make_teacher(config: TeacherConfig) -> TeacherBackend:
    """Build the configured backend (imports its dependencies on demand)."""
    if config.backend == "synthetic":
        from raytool.teacher.synthetic import SyntheticTeacher

        return SyntheticTeacher(config.quality, config.margin, config.seed)
    if config.backend == "vllm":
        from raytool.teacher.vllm_backend import VLLMTeacher

        return VLLMTeacher(config)
    if config.backend == "transformers":
        from raytool.teacher.transformers_backend import TransformersTeacher

        return TransformersTeacher(config)
    from raytool.teacher.openai_backend import OpenAICompatibleTeacher

    return OpenAICompatibleTeacher(config)
