"""A content-addressed cache of teacher outputs: key = sha256(model, kind, input, settings) -> JSON value.

Each entry is one small file `cache/ab/<rest of the hash>.json`, written atomically, so concurrent workers and
killed runs never corrupt it. Re-running a job (or a shard that was in flight when a run died) pays only for
prompts the cache has not seen.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from raytool.teacher.backend import Sampling, TeacherBackend
from raytool.tools.files import atomic_write_text


class PromptCache:
    """See the module docstring. `hits` and `misses` count lookups."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.hits = self.misses = 0

    def key(self, *parts: Any) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

    def get(self, key: str) -> Any | None:
        path = self.root / key[:2] / f"{key[2:]}.json"
        if path.exists():
            self.hits += 1
            return json.loads(path.read_text())["value"]
        self.misses += 1
        return None

    def put(self, key: str, value: Any) -> None:
        atomic_write_text(self.root / key[:2] / f"{key[2:]}.json", json.dumps({"value": value}))

    def through(self, keys: Sequence[str], compute: Callable[[list[int]], list[Any]]) -> list[Any]:
        """Cached values for `keys`; `compute(indices of the misses)` fills and stores the rest."""
        values = [self.get(k) for k in keys]
        missing = [i for i, v in enumerate(values) if v is None]
        if missing:
            for i, value in zip(missing, compute(missing), strict=True):
                self.put(keys[i], value)
                values[i] = value
        return values


def cached_generate(
    teacher: TeacherBackend, cache: PromptCache, prompts: Sequence[str], sampling: Sampling
) -> list[str]:
    keys = [cache.key(teacher.model_name, "generate", p, sampling) for p in prompts]
    return cache.through(keys, lambda idx: teacher.generate([prompts[i] for i in idx], sampling))


def cached_scores(
    teacher: TeacherBackend, cache: PromptCache, prompts: Sequence[str], candidates: Sequence[Sequence[str]]
) -> list[list[float]]:
    """Summed log-likelihood of each candidate of each prompt, through the cache (one entry per prompt)."""
    keys = [cache.key(teacher.model_name, "score", p, list(c)) for p, c in zip(prompts, candidates, strict=True)]

    def compute(idx: list[int]) -> list[list[float]]:
        return teacher.score([prompts[i] for i in idx], [candidates[i] for i in idx]).summed

    return cache.through(keys, compute)
