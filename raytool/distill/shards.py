"""Sharded, resumable JSONL output: a job over N items writes `shards/shard-00000.jsonl`, ... in `out_dir`.

A shard is written to a temporary file, flushed, fsynced and renamed, so it either exists whole or not at all:
a `kill -9` mid-run loses at most the shards in flight, and a re-run skips the shards that exist. The job's
`job.json` records what the shards were cut from (item ids, shard size); resuming with different input is an
error instead of a silent mix.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from raytool.tools.files import atomic_write_text

SHARDS = "shards"
JOB_FILE = "job.json"


def run_sharded(
    out_dir: Path,
    ids: Sequence[str],
    shard_size: int,
    process: Callable[[list[int]], list[dict[str, Any]]],
    workers: int = 1,
    job: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Run `process(item indices) -> records` per pending shard, `workers` shards at a time; all records back."""
    out_dir = Path(out_dir)
    shard_dir = out_dir / SHARDS
    shard_dir.mkdir(parents=True, exist_ok=True)
    _check_job(out_dir, ids, shard_size, job or {})
    cuts = [list(range(start, min(start + shard_size, len(ids)))) for start in range(0, len(ids), shard_size)]
    pending = [i for i in range(len(cuts)) if not shard_path(out_dir, i).exists()]
    if len(pending) < len(cuts):
        log(f"[distill] resuming: {len(cuts) - len(pending)}/{len(cuts)} shards already done")
    start, done_items = time.perf_counter(), 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(process, cuts[i]): i for i in pending}
        for finished, future in enumerate(as_completed(futures), start=1):
            i = futures[future]
            write_shard(shard_path(out_dir, i), future.result())
            done_items += len(cuts[i])
            rate = done_items / (time.perf_counter() - start)
            eta = sum(len(cuts[j]) for j in pending) / rate - (time.perf_counter() - start) if rate else 0.0
            progress = f"{finished}/{len(pending)} this run, {rate:.2f} items/s, eta {max(eta, 0):.0f}s"
            log(f"[distill] shard {i} done ({progress})")
    return read_shards(out_dir)


def shard_path(out_dir: Path, index: int) -> Path:
    return Path(out_dir) / SHARDS / f"shard-{index:05d}.jsonl"


def write_shard(path: Path, records: list[dict[str, Any]]) -> None:
    """All records or nothing: temp file, fsync, rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_shards(out_dir: Path) -> list[dict[str, Any]]:
    """Every record of every finished shard, in shard order."""
    records = []
    for path in sorted((Path(out_dir) / SHARDS).glob("shard-*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            records += [json.loads(line) for line in fh if line.strip()]
    return records


def _check_job(out_dir: Path, ids: Sequence[str], shard_size: int, job: dict[str, Any]) -> None:
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    record = dict(job, items=len(ids), items_sha=digest, shard_size=shard_size)
    path = out_dir / JOB_FILE
    if path.exists():
        previous = json.loads(path.read_text())
        keys = ("items_sha", "shard_size", *job)
        changed = [k for k in keys if previous.get(k) != record.get(k)]
        if changed:
            raise ValueError(
                f"{out_dir} holds a job with different {', '.join(changed)}; use another --out or delete it"
            )
    else:
        atomic_write_text(path, json.dumps(record, indent=2) + "\n")
