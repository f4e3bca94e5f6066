"""`raytool eval calls`: from the request alone to the ordered list of complete calls, scored with Seal-Tools'
official metrics (`seal_metrics.py`: Format ACC, Tool P/R/F1, Parameter P/R/F1), methods side by side.

    raytool eval calls --data PATH --format FORMAT [--tools PATH] [--candidates pool|given] --out DIR

Settings: `pool` = the whole catalogue (the proxies' real job); `given` = the benchmark's own candidate tools per
query (Seal-Tools: the 5 `api_list` tools of `for_finetune/<split>.json`, `--given FILE`; otherwise the task's own
`tools` list). Methods:

    proposer+filler   the proposer ranks the candidates; every tool with calibrated P(needed) >= `theta` (0.5) is
                      called, best first (none above: no call); the filler writes each call's arguments from the
                      request, earlier calls available as references
    proxies           the proxy model (`agent.proxy.ProxyModel`: the proposer's candidates, of which only those
                      reaching `theta` may be called (its relevance gate, the same theta as proposer+filler's; none:
                      no call), the trained decider choosing one or STOP at each step with the filler's values),
                      its tools then filled as proposer+filler's are (earlier calls available as references); all
                      requests go to it as one batch of jobs, each timed on its own (its share of the batch's
                      set-up included) plus its fill
    teacher           the teacher alone writes the JSON call list (names and arguments) from the same candidates,
                      one generation per request: the benchmark's own prompt (`given`), or that prompt over the
                      proposer's top 5 (`pool`); all requests go to the engine as one batch, so its latency is the
                      batch's time per request
    oracle-tools      ORACLE: the gold tool sequence, arguments from the filler (isolates the filler; never a headline);
                      run after proposer+filler, it reuses that method's fills where a call and the calls before it
                      are the same (the filler is deterministic: same request and tools, same arguments), so its
                      latency is not measured (reported as shared)

Per method: the official metrics, the same split by single- / multi-call query, parameter recall per gold
parameter type, the share of calls with a required value reported missing, and latency per request (p50/p99).
With irrelevant requests (`--irrelevant`: chit-chat, and another benchmark's queries, which no tool of this
catalogue answers; BFCL's "irrelevance" category is the public analogue): the share answered with no call.
Out: DIR/summary.md, summary.json, DIR/<method>/predictions.jsonl (task id, calls in the benchmark's shape).
"""

from __future__ import annotations

import ast
import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from raytool.evaluation.seal_metrics import seal_calls, seal_scores
from raytool.tools.call import ToolCall
from raytool.tools.dataset import ToolDataset
from raytool.tools.errors import RecordError
from raytool.tools.files import atomic_write_text
from raytool.tools.task import Task

ORACLE = "oracle-tools"


def given_prompts(path: str | Path) -> dict[str, str]:
    """Task id -> the benchmark's own prompt (Seal-Tools `for_finetune`: the first human turn)."""
    records = json.loads(Path(path).read_text(encoding="utf-8"))
    return {str(r["id"]): next(t["value"] for t in r["conversations"] if t.get("from") == "human") for r in records}


def seal_prompt(query: str, specs: Sequence) -> str:
    """Seal-Tools' own prompt format over `specs` (for candidates the benchmark does not list, e.g. the pool's)."""
    tools = []
    for spec in specs:
        props = spec.properties
        tools.append({"api_name": spec.name, "api_description": spec.description, "parameters": {
            k: {"type": (v or {}).get("type", "string"), "description": (v or {}).get("description", "")}
            for k, v in props.items()}, "required": spec.required,
            "responses": (spec.returns or {}).get("properties", {})})  # fmt: skip
    return (
        "Please chooose the needed apis and return api_calling list according to the task_instruction.\n"
        'Output format: [{"api": "", "parameters": {"": ""}, "responses": ["API_call_0","API_call_1"]},'
        '{"api": "", "parameters": {"": ""}, "responses": ["API_call_2"]}]\n'
        "Responses can be used as parameter value. The number of responses depends on information in api_list.\n\n"
        f"Input:\napi_list = {tools!r}\ntask_instruction = {query}\n"
    )


def parse_call_list(text: str) -> list[dict] | None:
    """The first JSON (or Python-literal) list in a model's output, as calls {"api", "parameters"}; None if none."""
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end <= start:
        return None
    chunk = text[start : end + 1]
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(chunk)
        except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
            continue
        if isinstance(value, list) and all(isinstance(c, dict) for c in value):
            return [{"api": c.get("api"), "parameters": c.get("parameters") or {}} for c in value if c.get("api")]
    return None


class TeacherCalls:
    """teacher (module docstring): `prepare` generates every request's call list in one batch."""

    name = "teacher"

    def __init__(self, teacher, prompt: Callable[[Task], str], max_tokens: int = 384) -> None:
        self.teacher, self.prompt, self.max_tokens = teacher, prompt, max_tokens
        self.outputs: dict[str, list[dict] | None] = {}
        self.batch_seconds = 0.0
        self.failed = 0  # prompts the engine refused (counted as outputs that do not parse)

    def prepare(self, tasks: Sequence[Task]) -> None:
        from raytool.teacher.backend import Sampling

        start = time.perf_counter()
        prompts = self.teacher.chat([[{"role": "user", "content": self.prompt(t)}] for t in tasks])
        sampling = Sampling(max_tokens=self.max_tokens)
        try:
            texts = self.teacher.generate(prompts, sampling)
        except Exception:  # e.g. a prompt past the engine's context: one by one, a failing one yields no output
            texts = [self._one(prompt, sampling) for prompt in prompts]
        self.outputs = {t.id: parse_call_list(text) for t, text in zip(tasks, texts, strict=True)}
        self.batch_seconds = time.perf_counter() - start

    def _one(self, prompt: str, sampling) -> str:
        try:
            return self.teacher.generate([prompt], sampling)[0]
        except Exception:
            self.failed += 1
            return ""

    def predict(self, task: Task) -> list[dict] | None:
        return self.outputs.get(task.id)


def given_candidates(path: str | Path) -> dict[str, list[str]]:
    """Task id -> the candidate tool names the benchmark's own prompt lists (Seal-Tools `for_finetune` files:
    `api_list = [...]` in the first human turn, a Python literal)."""
    path = Path(path)
    records = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for i, record in enumerate(records):
        try:
            prompt = next(t["value"] for t in record["conversations"] if t.get("from") == "human")
            literal = prompt.split("api_list = ", 1)[1].split("\n", 1)[0]
            out[str(record["id"])] = [tool["api_name"] for tool in ast.literal_eval(literal)]
        except (KeyError, IndexError, StopIteration, ValueError, SyntaxError, TypeError) as error:
            raise RecordError(str(path), f"index {i}", "conversations", f"no readable api_list: {error}") from None
    return out


class ProposerFiller:
    """proposer+filler (module docstring). `candidates(task)` gives the tool names to rank."""

    name = "proposer+filler"

    def __init__(self, proposer, filler, tools: dict, candidates: Callable[[Task], Sequence[str]], theta=0.5):
        self.proposer, self.filler, self.tools, self.candidates, self.theta = proposer, filler, tools, candidates, theta
        self.catalogue_index = proposer.index(list(tools.values()))  # once; a query is ranked within its candidates
        self.counts: dict[str, int] = {}
        self.kept: dict[tuple, Any] = {}  # (request, tool names up to a call) -> its Fill, for `OracleTools`

    def propose(self, task: Task, candidates: Callable[[Task], Sequence[str]] | None = None):
        names = list((candidates or self.candidates)(task))
        pool = None if len(names) == len(self.tools) else [names]
        k = min(5, len(names))  # the task's source: a union proposer's own lexical weight for its benchmark
        return self.proposer.rank([task.query], self.catalogue_index, k=k, pools=pool, sources=[task.source])[0]

    def fit_theta(self, tasks: Sequence[Task], candidates: Callable[[Task], Sequence[str]]) -> float:
        """The threshold with the best Tool F1 (Seal-Tools' rules) on `tasks` (a dev split, never the test set)."""
        proposals = [self.propose(t, candidates) for t in tasks]
        golds = [[{"api": c.name, "parameters": {}} for c in t.calls] for t in tasks]
        best = (-1.0, self.theta)
        for theta in np.round(np.arange(0.05, 0.96, 0.05), 2):
            preds = [[{"api": n, "parameters": {}} for n in called(q, theta)] for q in proposals]
            best = max(best, (seal_scores(preds, golds)["tool"]["f1"], float(theta)))
        self.theta = best[1]
        return self.theta

    def predict(self, task: Task) -> list[ToolCall]:
        chosen = called(self.propose(task), self.theta)
        return fill_calls(self.filler, task.query, [self.tools[n] for n in chosen], self.counts, kept=self.kept)


def called(proposal, theta: float) -> list[str]:
    """The proposal's tools with P(needed) >= theta, best first (none: no call)."""
    return [n for n, p in zip(proposal.names, proposal.probs, strict=True) if p >= theta]


class ProxyCalls:
    """proxies (module docstring): `proxy` a `ProxyModel` (its filler the argument source while it decides),
    `candidates(task)` the tool names a request's job may use."""

    name = "proxies"

    def __init__(self, proxy, filler, tools: dict, candidates: Callable[[Task], Sequence[str]]) -> None:
        self.proxy, self.filler, self.tools, self.candidates = proxy, filler, tools, candidates
        self.counts: dict[str, int] = {}
        self.chosen: dict[str, list[str]] = {}
        self.prepared_seconds: dict[str, float] = {}  # per request: its job's time on the proxy

    def prepare(self, tasks: Sequence[Task]) -> None:
        from raytool.envs.reward import REPEATED

        # each job is the request alone: no gold calls
        jobs = [{"task": Task(t.id, t.query, (), source=t.source).to_dict(), "pool": list(self.candidates(t))}
                for t in tasks]  # fmt: skip
        names = sorted({n for job in jobs for n in job["pool"]})
        results = self.proxy.solve(jobs, [self.tools[n].to_dict() for n in names])
        self.chosen = {r["id"]: [c["name"] for c in r["calls"] if c["status"] != REPEATED] for r in results}
        self.prepared_seconds = {r["id"]: r["end"] - r["start"] + r["setup_s"] for r in results}

    def predict(self, task: Task) -> list[ToolCall]:
        specs = [self.tools[n] for n in self.chosen[task.id]]
        return fill_calls(self.filler, task.query, specs, self.counts)


class OracleTools:
    """ORACLE: the gold tools in order, the filler's arguments. `reuse`: a `ProposerFiller` run before it with the
    same filler, whose fills are taken where the request and the tool names up to a call are the same (module
    docstring); its latency is then not this method's own (`shared_latency`)."""

    name = ORACLE

    def __init__(self, filler, tools: dict, reuse: ProposerFiller | None = None) -> None:
        if reuse is not None and reuse.filler is not filler:
            raise ValueError("OracleTools can reuse the fills of a ProposerFiller with the same filler only")
        self.filler, self.tools = filler, tools
        self.counts: dict[str, int] = {}
        self.reuse = reuse

    @property
    def shared_latency(self) -> bool:
        return self.reuse is not None

    def predict(self, task: Task) -> list[ToolCall]:
        kept = None if self.reuse is None else self.reuse.kept
        specs = [self.tools[c.name] for c in task.calls]
        return fill_calls(self.filler, task.query, specs, self.counts, kept=kept, reuse=True)


def fill_calls(filler, query: str, specs: Sequence, counts: dict | None = None, kept: dict | None = None,
               reuse: bool = False) -> list[ToolCall]:  # fmt: skip
    """The filler's complete calls for `specs`; `counts` tallies calls and calls with a required value missing.
    `kept`: fills by (query, tool names up to the call), written to, or with `reuse` read from: the longest run of
    first calls found there is not filled again (`ArgumentFiller.fill_plan`'s `known`)."""
    keys = [(query, tuple(s.name for s in specs[: i + 1])) for i in range(len(specs))]
    known = []
    if kept is not None and reuse:
        for key in keys:
            if key not in kept:
                break
            known.append(kept[key])
    fills = filler.fill_plan(query, specs, known)
    if kept is not None and not reuse:
        kept.update(zip(keys, fills, strict=True))
    calls = []
    for spec, fill in zip(specs, fills, strict=True):
        calls.append(ToolCall.with_inferred_deps(spec.name, fill.arguments))
        if counts is not None:
            counts["calls"] = counts.get("calls", 0) + 1
            counts["missing"] = counts.get("missing", 0) + int(bool(fill.missing))
    return calls


CHIT_CHAT = (
    "hi there!", "thanks, that's all", "🙂", "how are you today?", "tell me a joke", "ok", "what's your name?",
    "good morning", "lol", "can you hear me?", "I love rainy days.", "bye!", "hmm", "who won the game last night?",
    "asdfgh", "nice", "what do you think about art?", "sorry, wrong window", "?", "that was helpful",
)  # fmt: skip


def irrelevant_tasks(queries: Sequence[str]) -> list[Task]:
    """Requests no tool answers, as tasks without gold calls (ids `irrelevant-<i>`)."""
    return [Task(f"irrelevant-{i}", q, ()) for i, q in enumerate(queries) if q.strip()]


def evaluate_calls(
    methods: Sequence, dataset: ToolDataset, out_dir: str | Path, log=print, irrelevant: Sequence[Task] = (),
    import_report=None,
) -> dict[str, Any]:  # fmt: skip
    """Run every method on every task (and on `irrelevant` requests); write the outputs (module docstring) and
    return the summary. `import_report`: the input's `ImportReport` (its counted quirks and skips are reported)."""
    out_dir = Path(out_dir)
    golds = [seal_calls(t.calls) for t in dataset.tasks]
    summary: dict[str, Any] = {"tasks": len(dataset.tasks), "methods": {}}
    if import_report is not None:
        summary["import_report"] = import_report.to_dict()
    for method in methods:
        predictions, seconds = [], []
        if hasattr(method, "prepare"):  # batch methods: the batch's time per request
            method.prepare(dataset.tasks)
        for task in dataset.tasks:
            start = time.perf_counter()
            calls = method.predict(task)
            seconds.append(time.perf_counter() - start + getattr(method, "prepared_seconds", {}).get(task.id, 0.0))
            shaped = calls is None or not calls or isinstance(calls[0], dict)
            predictions.append(calls if shaped else seal_calls(calls))
        if hasattr(method, "batch_seconds"):
            seconds = [method.batch_seconds / max(len(dataset.tasks), 1)] * len(dataset.tasks)
        result = seal_scores(predictions, golds)
        single = [i for i, t in enumerate(dataset.tasks) if len(t.calls) == 1]
        multi = [i for i, t in enumerate(dataset.tasks) if len(t.calls) > 1]
        for label, rows in (("single", single), ("multi", multi)):
            if rows:
                part = seal_scores([predictions[i] for i in rows], [golds[i] for i in rows])
                result[label] = {"tasks": len(rows), "tool_f1": part["tool"]["f1"], "param_f1": part["parameter"]["f1"]}
        result["param_recall_by_type"] = recall_by_type(dataset, predictions, golds)
        result["latency_ms"] = {
            "p50": 1000 * float(np.median(seconds)),
            "p99": 1000 * float(np.percentile(seconds, 99)),
        }
        if getattr(method, "shared_latency", False):  # fills taken from another method's run: not its own time
            result["latency_ms"] = {"p50": None, "p99": None, "shared": True}
        result["oracle"] = method.name == ORACLE
        counts = getattr(method, "counts", {})  # before the irrelevant requests add theirs
        result["calls_missing_a_value"] = counts.get("missing", 0) / max(counts.get("calls", 0), 1)
        if irrelevant:
            if hasattr(method, "prepare"):
                method.prepare(irrelevant)
            silent = [not method.predict(task) for task in irrelevant]
            result["irrelevant"] = {"requests": len(irrelevant), "no_call": sum(silent) / len(silent)}
        summary["methods"][method.name] = result
        lines = (
            json.dumps({"id": t.id, "calls": p}, ensure_ascii=False)
            for t, p in zip(dataset.tasks, predictions, strict=True)
        )
        atomic_write_text(out_dir / method.name / "predictions.jsonl", "\n".join(lines) + "\n")
        log(f"[eval calls] {method.name}: tool F1 {result['tool']['f1']:.3f}, parameter F1 "
            f"{result['parameter']['f1']:.3f}, p50 / p99 ms {_latency(result['latency_ms'])}")  # fmt: skip
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    atomic_write_text(out_dir / "summary.md", summary_table(summary) + "\n")
    return summary


def recall_by_type(
    dataset: ToolDataset, predictions: Sequence[list | None], golds: Sequence[list[dict]]
) -> dict[str, dict[str, float]]:
    """Per gold parameter type: gold count and the share the prediction got right (official matching rules);
    `golds`: the tasks' calls in the benchmark's shape (`seal_calls`)."""
    hits: dict[str, list[float]] = defaultdict(list)
    for task, pred, shaped in zip(dataset.tasks, predictions, golds, strict=True):
        pred = pred or []
        for gold_call, gold in zip(task.calls, shaped, strict=True):
            props = dataset.tools[gold_call.name].properties if gold_call.name in dataset.tools else {}
            match = next((p for p in pred if p.get("api") == gold["api"]), None)
            for name, value in gold["parameters"].items():
                kind = "reference" if str(value).startswith("API_call_") else str(props.get(name, {}).get("type"))
                ok = match is not None and name in match["parameters"] and str(match["parameters"][name]) == str(value)
                hits[kind].append(float(ok))
    return {k: {"gold": len(v), "recall": float(np.mean(v))} for k, v in sorted(hits.items())}


def summary_table(summary: dict[str, Any]) -> str:
    rows = [
        "| method | Format ACC | Tool P | Tool R | Tool F1 | Param P | Param R | Param F1 | single: tool / param F1 | "
        "multi: tool / param F1 | p50 / p99 ms | irrelevant: no call |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in summary["methods"].items():
        label = f"{name} (oracle)" if r.get("oracle") else name
        parts = [f"{r.get(k, {}).get('tool_f1', float('nan')):.3f} / {r.get(k, {}).get('param_f1', float('nan')):.3f}"
                 for k in ("single", "multi")]  # fmt: skip
        rows.append(
            f"| {label} | {r['format_acc']:.3f} | {r['tool']['precision']:.3f} | {r['tool']['recall']:.3f} | "
            f"{r['tool']['f1']:.3f} | {r['parameter']['precision']:.3f} | {r['parameter']['recall']:.3f} | "
            f"{r['parameter']['f1']:.3f} | {parts[0]} | {parts[1]} | "
            f"{_latency(r['latency_ms'])} | "
            f"{r['irrelevant']['no_call'] if 'irrelevant' in r else float('nan'):.3f} |"
        )
    text = "\n".join(rows) + f"\n\n{summary['tasks']} tasks; oracle rows use gold tools (never a headline)."
    return text + "".join(f"\nInput: {line}" for line in _input_lines(summary.get("import_report")))


def _latency(latency: dict) -> str:
    """p50 / p99 ms, or "shared" for a method that reused another's fills (`OracleTools`)."""
    if latency.get("shared"):
        return "shared"
    return f"{latency['p50']:.1f} / {latency['p99']:.1f}"


def _input_lines(report: dict | None) -> list[str]:
    """The input's counted quirks and skips (`raytool.tools.stats.report_lines`), from a summary's dict."""
    from raytool.tools.dataset import ImportReport
    from raytool.tools.stats import report_lines

    return report_lines(ImportReport.from_dict(report)) if report else []
