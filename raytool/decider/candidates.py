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
    proposer,
    dataset: ToolDataset,
    k: int = 16,
    batch: int = 64,
    pools: list[list[str]] | None = None,
    parts: list[list[str]] | None = None,
) -> list[dict]:
    """Rank each task's pool (or the whole catalogue; `pools[i]` instead when given) with `proposer`: one
    `{"task_id", "names", "scores"}` record per task, in task order (a rankings file's lines).

    `parts[i]`, when given with two or more texts, are task i's sub-tasks in order (a proxy's job of several
    planned sub-tasks): each is ranked on its own and the rankings are merged round-robin (every part's first,
    then every part's second, ...; a tool keeps its first place and the score it had there), so the tools the
    parts ask for come first and in the parts' order instead of competing for the top of one ranking of the
    joined text. Such a task's record also carries `"parts"`, their number: the decider env does not let it STOP
    before it has made that many calls, and `"part_names"` / `"part_scores"`, each part's own ranking: while the
    job is at part i (i calls made) the env offers part i's candidates first (`ToolDeciderEnv`), and `"part_texts"`,
    the parts themselves: a tool's argument values are read from the part that asks for it."""
    specs = list(dataset.tools.values())
    names = [s.name for s in specs]
    index = proposer.index(specs)
    queries, owners = [], []  # one ranked text per task, or one per part of a task with parts
    for i, task in enumerate(dataset.tasks):
        texts = parts[i] if parts is not None and len(parts[i]) > 1 else [task.query]
        queries += texts
        owners += [i] * len(texts)
    task_pools = pools if pools is not None else [list(t.tools) if t.tools else names for t in dataset.tasks]
    proposals = []
    for start in range(0, len(queries), batch):
        chunk = [task_pools[i] for i in owners[start : start + batch]]
        proposals += proposer.rank(queries[start : start + batch], index, k=k, pools=chunk)
    by_task: list[list] = [[] for _ in dataset.tasks]
    for owner, proposal in zip(owners, proposals, strict=True):
        by_task[owner].append(proposal)
    records = []
    for i, (task, ranked) in enumerate(zip(dataset.tasks, by_task, strict=True)):
        merged: dict[str, float] = {}
        for rank in range(max(len(p.names) for p in ranked)):
            for proposal in ranked:
                if rank < len(proposal.names) and proposal.names[rank] not in merged:
                    merged[proposal.names[rank]] = float(proposal.probs[rank])
        chosen = list(merged.items())[:k]
        scores = [round(p, 6) for _, p in chosen]
        record = {"task_id": task.id, "names": [n for n, _ in chosen], "scores": scores}
        if len(ranked) > 1:
            record |= {
                "parts": len(ranked),
                "part_names": [list(p.names[:k]) for p in ranked],
                "part_scores": [[round(float(s), 6) for s in p.probs[:k]] for p in ranked],
                "part_texts": list(parts[i]),
            }
        records.append(record)
    return records


def write_candidates(
    proposer,
    dataset: ToolDataset,
    out: Path,
    k: int = 16,
    batch: int = 64,
    pools: list[list[str]] | None = None,
    parts: list[list[str]] | None = None,
) -> Path:
    """`rank_candidates` written as a rankings file (one JSONL line per task, atomically). Returns `out`."""
    records = rank_candidates(proposer, dataset, k, batch, pools, parts)
    atomic_write_text(Path(out), "".join(json.dumps(record) + "\n" for record in records))
    return Path(out)
