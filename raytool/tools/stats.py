"""Summary statistics of a `ToolDataset` (what `raytool data stats DIR` prints)."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from raytool.tables import format_table
from raytool.tools.dataset import ImportReport, ToolDataset

STATS_HEADERS = (
    "dataset",
    "format",
    "tools",
    "tasks",
    "calls/task",
    "min-max",
    "multi-call",
    "with refs",
    "domains",
    "skipped",
)


def dataset_stats(ds: ToolDataset) -> dict[str, Any]:
    """Counts of a dataset: tools, tasks, calls per task, tasks with result references, domains, skips."""
    calls = [len(t.calls) for t in ds.tasks] or [0]
    domains = Counter(t.domain for t in ds.tasks if t.domain) or Counter(
        s.domain for s in ds.tools.values() if s.domain
    )
    return {
        "format": ds.info.get("format", ""),
        "tools": len(ds.tools),
        "tasks": len(ds.tasks),
        "calls_mean": statistics.fmean(calls),
        "calls_min": min(calls),
        "calls_max": max(calls),
        "multi_call": sum(c > 1 for c in calls),
        "with_refs": sum(any(c.depends_on for c in t.calls) for t in ds.tasks),
        "domains": len(domains),
        "top_domains": domains.most_common(3),
        "skipped": sum(ds.report.skipped.values()),
    }


def stats_table(named: dict[str, ToolDataset]) -> str:
    """One row per dataset, then each dataset's import notes (e.g. MetaTool's name-resolution rules)."""
    rows = []
    for name, ds in named.items():
        s = dataset_stats(ds)
        span = f"{s['calls_min']}-{s['calls_max']}"
        counts = [s["tools"], s["tasks"], round(s["calls_mean"], 2), span, s["multi_call"], s["with_refs"]]
        rows.append([name, s["format"], *counts, s["domains"], s["skipped"]])
    lines = [format_table(STATS_HEADERS, rows)]
    for name, ds in named.items():
        lines += [f"{name}: {line}" for line in report_lines(ds.report)]
    return "\n".join(lines)


def report_lines(report: ImportReport) -> list[str]:
    """An import's notes (quirks and conventions, counted) and skips by reason, one line per group."""
    lines = [f"{group}: " + ", ".join(f"{k} {v}" for k, v in counts.items()) for group, counts in report.notes.items()]
    if report.skipped:
        lines.append("skipped by reason: " + ", ".join(f"{k} {v}" for k, v in report.skipped.items()))
    return lines
