"""The proposer's top-K candidates for every task of a dataset, as the decider env's `file:` candidate source.

The decider chooses among the proposer's candidates (the method's data flow: proposer -> top-p -> decider), so
its env ranks each task's pool with the trained `ToolProposer` once, here, and reads the result through
`candidate_source="file:<path>"` (`raytool.envs.features`). Scores are the proposer's calibrated probabilities.
"""

from __future__ import annotations

import json
from pathlib import Path

from raytool.paths import cache_dir
from raytool.tools.dataset import ToolDataset
from raytool.tools.files import atomic_write_text

CANDIDATES_FILE = "candidates.jsonl"


def candidate_source(tasks: Path) -> str:
    """`file:<tasks>/candidates.jsonl` when the proposer's candidates were written there, else `bm25`."""
    path = Path(tasks) / CANDIDATES_FILE
    return f"file:{path}" if path.exists() else "bm25"


def decider_env_config(tasks: Path, top_p: int = 5, max_steps: int = 8) -> dict:
    """The `ToolDeciderEnv` config of a task dir: its candidate source, the shared feature cache."""
    return {
        "tasks": str(tasks),
        "top_p": top_p,
        "max_steps": max_steps,
        "candidate_source": candidate_source(tasks),
        "feature_cache": str(cache_dir() / "features"),
    }


def rank_candidates(
    proposer, dataset: ToolDataset, k: int = 16, batch: int = 64, pools: list[list[str]] | None = None
) -> list[dict]:
    """Rank each task's pool (or the whole catalogue; `pools[i]` instead when given) with `proposer`: one
    `{"task_id", "names", "scores"}` record per task, in task order (a rankings file's lines)."""
    specs = list(dataset.tools.values())
    names = [s.name for s in specs]
    index = proposer.index(specs)
    records = []
    for start in range(0, len(dataset.tasks), batch):
        tasks = dataset.tasks[start : start + batch]
        if pools is not None:
            chunk = pools[start : start + batch]
        else:
            chunk = [list(t.tools) if t.tools else names for t in tasks]
        for task, proposal in zip(tasks, proposer.rank([t.query for t in tasks], index, k=k, pools=chunk), strict=True):
            records.append(
                {"task_id": task.id, "names": proposal.names, "scores": [round(float(p), 6) for p in proposal.probs]}
            )
    return records


def write_candidates(
    proposer, dataset: ToolDataset, out: Path, k: int = 16, batch: int = 64, pools: list[list[str]] | None = None
) -> Path:
    """`rank_candidates` written as a rankings file (one JSONL line per task, atomically). Returns `out`."""
    records = rank_candidates(proposer, dataset, k, batch, pools)
    atomic_write_text(Path(out), "".join(json.dumps(record) + "\n" for record in records))
    return Path(out)
