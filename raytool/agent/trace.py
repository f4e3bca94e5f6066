"""The trace of one `ProxyAgent` request: the plan, every timed event, a timeline and the parallel speed-up.

    print(format_trace(result))

Events (all with wall-clock `start`/`end`): teacher calls (`llm`), proxy decisions (`decision`: the candidates
offered, the one chosen, the tool calls it made and their status). The timeline draws one bar per job, so jobs
of one wave that ran at the same time on different proxies show as overlapping bars. A job's span is its proxy
call: the set-up of its batch (sub-task dataset, the proposer's candidates, the env) and its decisions.
`parallel_speedup` is, per wave, the summed job spans over the wave's span (first start to last end): 1.0 when the
jobs ran one after another, up to the number of jobs when they fully overlapped.
"""

from __future__ import annotations

from typing import Any

from raytool.tables import format_table

_BAR = 48


def job_span(result: dict[str, Any]) -> tuple[float, float]:
    """(start, end) of a job's proxy call: its batch's set-up and its decisions (module docstring)."""
    batch = result.get("batch") or (result["start"], result["end"])
    return float(batch[0]), float(batch[1])


def parallel_speedup(plan, jobs: list[dict[str, Any]]) -> dict[int, float]:
    """Wave -> summed job spans / wall span of the wave, for waves of two or more jobs."""
    waves: dict[int, list[dict[str, Any]]] = {}
    for job, result in zip(plan.jobs, jobs, strict=True):
        waves.setdefault(job.wave, []).append(result)
    out = {}
    for wave, results in waves.items():
        if len(results) > 1:
            spans = [job_span(r) for r in results]
            wall = max(b for _, b in spans) - min(a for a, _ in spans)
            out[wave] = sum(b - a for a, b in spans) / wall if wall > 0 else 1.0
    return out


def trace_events(result) -> list[dict[str, Any]]:
    """Teacher calls and proxy decisions of a request, by start time."""
    events = [dict(e, who="teacher") for e in result.ledger.events if "start" in e]
    for job, outcome in zip(result.plan.jobs, result.jobs, strict=True):
        for event in outcome["events"]:
            events.append(dict(event, who=f"{job.domain} proxy (job {job.id}, pid {outcome['pid']})"))
    return sorted(events, key=lambda e: e["start"])


def format_trace(result) -> str:
    plan, outcome = result.plan, result.outcome
    lines = [f"request: {result.task.query}", f"plan ({plan.source}{': ' + plan.failure if plan.failure else ''}):"]
    for s in plan.subtasks:
        after = f" after {list(s.depends_on)}" if s.depends_on else ""
        lines.append(f"  {s.id}. [{s.domain}] {s.text}{after}")
    for job in plan.jobs:
        lines.append(f"  job {job.id} -> {job.domain} proxy, wave {job.wave}, sub-tasks {list(job.subtasks)}")
    events = trace_events(result)
    t0 = min([e["start"] for e in events] + [job_span(j)[0] for j in result.jobs]) if events or result.jobs else 0.0
    rows = []
    for e in events:
        if e["kind"] == "llm":
            what = f"{e['what']} (batch of {e.get('batch', 1)}, {e.get('tokens', 0)} tokens)"
        else:
            calls = ", ".join(f"{c['name']}:{c['status']}" for c in e["calls"]) or "-"
            what = f"chose {e['chosen']} of {len(e['candidates'])} -> {calls}"
        rows.append([f"{1000 * (e['start'] - t0):.1f}", f"{1000 * (e['end'] - e['start']):.1f}", e["kind"], e["who"],
                     what])  # fmt: skip
    lines += ["", format_table(["t (ms)", "took (ms)", "event", "by", "what"], rows)]
    if result.jobs:
        first = min(job_span(j)[0] for j in result.jobs)
        span = max(max(job_span(j)[1] for j in result.jobs) - first, 1e-9)
        lines += ["", f"proxy jobs from t = {1000 * (first - t0):.0f} ms, over {1000 * span:.0f} ms (a bar is the "
                      "job's proxy call, set-up included):"]  # fmt: skip
        for job, r in zip(plan.jobs, result.jobs, strict=True):
            start, stop = job_span(r)
            a, b = int(_BAR * (start - first) / span), max(int(_BAR * (stop - first) / span), 1)
            bar = " " * a + "#" * max(b - a, 1)
            lines.append(f"  job {job.id} {job.domain:>8} |{bar:<{_BAR}}| {1000 * (stop - start):.0f} ms")
    for wave, speedup in parallel_speedup(plan, result.jobs).items():
        lines.append(f"wave {wave}: {speedup:.2f}x parallel speed-up (summed job time / wave span)")
    calls = outcome.calls
    lines += [
        "",
        f"teacher calls {result.ledger.teacher_calls} ({result.ledger.teacher_tokens} tokens), proxy decisions "
        f"{outcome.decisions}, tool calls {len(calls)} ({sum(c['status'] == 'valid' for c in calls)} ok), "
        f"critical path {1000 * result.wall_s:.0f} ms",
    ]
    if result.task.calls and result.task.source != "query":
        lines.append(f"verified against the task's gold: success {outcome.success}, reward {outcome.reward:.3f}")
    if result.task.source == "query":
        given = {k: v for c in result.task.calls for k, v in (c.arguments or {}).items()}
        lines.append(f"argument values read off the request: {given}")
    return "\n".join(lines)
