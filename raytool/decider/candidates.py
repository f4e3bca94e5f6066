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


def write_candidates(
    proposer, dataset: ToolDataset, out: Path, k: int = 16, batch: int = 64, pools: list[list[str]] | None = None
) -> Path:
    """Rank each task's pool (or the whole catalogue; `pools[i]` instead when given) with `proposer`; one JSONL
    line per task. Returns `out`."""
    specs = list(dataset.tools.values())
    names = [s.name for s in specs]
    index = proposer.index(specs)
    lines = []
    for start in range(0, len(dataset.tasks), batch):
        tasks = dataset.tasks[start : start + batch]
        if pools is not None:
            chunk = pools[start : start + batch]
        else:
            chunk = [list(t.tools) if t.tools else names for t in tasks]
        for task, proposal in zip(tasks, proposer.rank([t.query for t in tasks], index, k=k, pools=chunk), strict=True):
            record = {
                "task_id": task.id,
                "names": proposal.names,
                "scores": [round(float(p), 6) for p in proposal.probs],
            }
            lines.append(json.dumps(record))
    atomic_write_text(Path(out), "\n".join(lines) + "\n")
    return Path(out)
