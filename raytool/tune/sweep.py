"""Run a decider sweep with `tune.Tuner` (or resume one with `Tuner.restore`) and report it.

    storage/name/                 Tune's experiment folder: one folder per trial (params.json, progress.csv,
                                  result.json, TensorBoard events, checkpoints), experiment state for restore
    storage/name/report/summary.md   the results table (one row per trial, best first; with seeds swept, also one
                                  row per setting averaged over its seeds)
    storage/name/report/heatmap.png  the metric over lambda1 x lambda2 (other settings averaged out): all trials at
                                  the last iteration they all reached, and the longest-running ones at the end
    storage/name/report/best.yaml    the best trial's settings as a `decider:` section: `raytool train --config`
    storage/name/report/results.json every trial's settings, status, iterations and last metrics

The best trial is the best by the metric among the trials that ran the most iterations (ASHA's survivors): a trial
stopped early was only measured early, so it is listed but not chosen. Ties go to the higher held-out reward.
"""

from __future__ import annotations

import json
import math
import shutil
import signal
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from raytool.paths import cache_dir
from raytool.tables import format_table
from raytool.tools.files import atomic_write_text
from raytool.tune.space import SweepConfig
from raytool.tune.trainable import TrialSetup, decider_trial, trial_resources

REPORT_METRICS = ("success", "reward", "calls", "train_success", "js_to_llm")


class SweepInterrupted(RuntimeError):
    """The sweep stopped before every trial finished (Ctrl+C or SIGUSR1); `--resume` continues it."""


def storage_dir(sweep: SweepConfig) -> str:
    """Where Tune keeps experiments: the sweep's `storage` (a local folder, resolved, or a URI such as
    s3://bucket/path on clusters), else $RAYTOOL_CACHE/tune."""
    storage = sweep.storage or str(cache_dir() / "tune")
    return storage.rstrip("/") if "://" in storage else str(Path(storage).expanduser().resolve())


def experiment_dir(sweep: SweepConfig) -> str:
    """The sweep's experiment folder: `storage_dir/name`."""
    return f"{storage_dir(sweep)}/{sweep.name}"


def trial_setup(sweep: SweepConfig) -> TrialSetup:
    """The decider envs and F_P of the sweep's `data:` section (default: the main job's artifacts); the envs are
    built once here so the shared feature cache exists before trials start."""
    from raytool.decider.candidates import decider_env_config
    from raytool.envs.decider_env import ToolDeciderEnv

    root = cache_dir() / "run"
    data = sweep.data
    paths = {
        "tasks": Path(data.get("tasks") or root / "envs" / "decider_train"),
        "test_tasks": Path(data.get("test_tasks") or root / "envs" / "decider_test"),
        "fp": Path(data.get("fp") or root / "fp"),
    }
    for key, path in paths.items():
        marker = path / ("fp.json" if key == "fp" else "tasks.jsonl")
        if not marker.exists():
            raise FileNotFoundError(
                f"{sweep.path}: data.{key}: {marker} not found (run `raytool train` first: its stages 5-7 write "
                f"the decider tasks and F_P under {root}, or point data.{key} at your own)"
            )
    shape = (int(data.get("top_p", 5)), int(data.get("max_steps", 8)))
    env, test_env = decider_env_config(paths["tasks"], *shape), decider_env_config(paths["test_tasks"], *shape)
    for config in (env, test_env):  # fills the shared feature cache here, once, instead of in every trial
        ToolDeciderEnv(config)
    return TrialSetup(sweep, env, test_env, str(paths["fp"]))


def run_sweep(
    sweep: SweepConfig, resume: bool = False, fresh: bool = False, log: Callable[[str], None] = print,
    connect: Callable[[], None] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Run (or with `resume`, restore and finish) the sweep; writes and returns the report (module docstring).
    `connect` starts or joins Ray once the data and the experiment folder have been checked."""
    from ray import tune

    exp = experiment_dir(sweep)
    setup = trial_setup(sweep)
    local = "://" not in exp
    if resume and not tune.Tuner.can_restore(exp):
        raise FileNotFoundError(f"{exp}: no sweep to resume (start it without --resume)")
    if not resume and local and Path(exp).exists() and not fresh:
        raise FileExistsError(f"{exp} exists: --resume continues that sweep, --fresh deletes it first")
    if connect:
        connect()
    trainable = tune.with_resources(tune.with_parameters(decider_trial, setup=setup), trial_resources(setup))
    if resume:
        log(f"[tune] resuming {exp}")
        tuner = tune.Tuner.restore(exp, trainable=trainable, resume_unfinished=True, resume_errored=True)
    else:
        if local and Path(exp).exists():
            shutil.rmtree(exp)
        dims = ", ".join(f"{k} ({d.kind})" for k, d in sweep.dimensions.items())
        log(f"[tune] sweep {sweep.name}: {dims}; search {sweep.algorithm}, scheduler "
            f"{sweep.scheduler.get('type', 'asha')}, metric {sweep.metric} ({sweep.mode}) -> {exp}")  # fmt: skip
        tuner = tune.Tuner(trainable, param_space=sweep.param_space(), tune_config=sweep.tune_config(),
                           run_config=sweep.run_config_obj(storage_dir(sweep)))  # fmt: skip
    grid, interrupted = _fit(tuner)
    if interrupted:
        raise SweepInterrupted(f"{exp}: stopped before every trial finished; `raytool tune --config {sweep.path} "
                               "--resume` continues it")  # fmt: skip
    rows = trial_rows(grid, sweep)
    return write_report(rows, sweep, exp, log)


def _fit(tuner) -> tuple[Any, bool]:
    """`tuner.fit()` and whether it was interrupted. Tune's Ctrl+C / SIGUSR1 handler ends the sweep gracefully and
    puts back the SIGINT handler it found (ray 2.60, tune.py `_setup_signal_catching`): finding ours installed
    again afterwards means it fired. Off the main thread Tune installs none, and neither do we."""
    if threading.current_thread() is not threading.main_thread():
        return tuner.fit(), False

    def ours(sig, frame):
        raise KeyboardInterrupt

    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, ours)
    try:
        grid = tuner.fit()
        return grid, signal.getsignal(signal.SIGINT) is ours
    finally:
        signal.signal(signal.SIGINT, previous)


def trial_rows(grid, sweep: SweepConfig) -> list[dict[str, Any]]:
    """One dict per trial: id, status (Tune's: TERMINATED, ERROR, PENDING, ...), swept values, iterations, last
    reported value of each metric. Statuses and the configs of never-started trials come from the grid's trials
    (`ResultGrid._experiment_analysis`, Ray 2.60: `Result` carries neither)."""
    rows = []
    for trial, result in zip(grid._experiment_analysis.trials, grid, strict=True):
        metrics = result.metrics or {}
        frame = result.metrics_dataframe
        row = {
            "trial": trial.trial_id,
            "status": trial.status,
            "config": {k: trial.config.get(k) for k in sweep.space},
            "iterations": int(metrics.get("training_iteration", 0) or 0),
        }
        for name in (*REPORT_METRICS, sweep.metric):
            series = frame[name].dropna() if frame is not None and name in frame else []
            row[name] = float(series.iloc[-1]) if len(series) else math.nan
        if frame is not None and sweep.metric in frame:  # the metric as reported at every iteration
            row["curve"] = {int(i): float(v) for i, v in zip(frame["training_iteration"], frame[sweep.metric],
                                                             strict=True) if v == v}  # fmt: skip
        rows.append(row)
    rows.sort(key=lambda r: (-r["iterations"], _rank(r[sweep.metric], sweep.mode)))
    return rows


def _finite(value: float, mode: str) -> float:
    return value if value == value else (-math.inf if mode == "max" else math.inf)


def _rank(value: float, mode: str) -> float:
    """Sort key putting the best value first (NaN last)."""
    return -_finite(value, mode) if mode == "max" else _finite(value, mode)


def _reach(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
    """The trials that reported, the last iteration all of them reached, and the most any reached."""
    ran = [r for r in rows if r["iterations"] > 0]
    return ran, min(r["iterations"] for r in ran), max(r["iterations"] for r in ran)


def best_row(rows: list[dict[str, Any]], sweep: SweepConfig) -> dict[str, Any]:
    """The best trial among those that ran the most iterations (module docstring)."""
    done = [r for r in rows if r["status"] == "TERMINATED" and r[sweep.metric] == r[sweep.metric]]
    if not done:
        raise RuntimeError(f"{sweep.path}: no trial finished with the metric {sweep.metric!r}")
    most = max(r["iterations"] for r in done)
    sign = 1 if sweep.mode == "max" else -1
    tie = "reward" if sweep.metric != "reward" else "success"  # ties (common with few held-out tasks) by the other
    # then by trial id: the same best trial however the rows are ordered (a run and its restore list them differently)
    return min((r for r in done if r["iterations"] == most),
               key=lambda r: (-sign * r[sweep.metric], -_finite(r[tie], "max"), r["trial"]))  # fmt: skip


def results_table(rows: list[dict[str, Any]], sweep: SweepConfig) -> str:
    keys = list(sweep.dimensions) or list(sweep.space)
    headers = ["trial", "status", *keys, "iter", *REPORT_METRICS]
    return format_table(headers, [[r["trial"], r["status"], *(r["config"][k] for k in keys), r["iterations"],
                                   *(r[m] for m in REPORT_METRICS)] for r in rows])  # fmt: skip


def settings_table(rows: list[dict[str, Any]], sweep: SweepConfig) -> str | None:
    """When `seed` is swept: one row per setting of the other keys, the metric averaged over its seeds at the last
    iteration every trial reached, and over the seeds that ran the most iterations at the end."""
    if "seed" not in sweep.dimensions:
        return None
    ran, common, most = _reach(rows)
    keys = [k for k in sweep.dimensions if k != "seed"]
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in ran:
        groups.setdefault(tuple(row["config"][k] for k in keys), []).append(row)
    lines = []
    for setting, members in groups.items():
        early = [m.get("curve", {}).get(common, math.nan) for m in members]
        late = [m[sweep.metric] for m in members if m["iterations"] == most]
        lines.append([*setting, len(members), _mean(early), len(late), _mean(late)])
    lines.sort(key=lambda line: _rank(line[-3], sweep.mode))
    headers = [*keys, "trials", f"{sweep.metric} @ {common}", f"ran {most}", f"{sweep.metric} @ {most}"]
    return format_table(headers, lines)


def _mean(values: list[float]) -> float:
    kept = [v for v in values if v == v]
    return sum(kept) / len(kept) if kept else math.nan


def best_config_text(row: dict[str, Any], sweep: SweepConfig, exp: str) -> str:
    """best.yaml: the best trial's whole `DeciderRunConfig` as a `decider:` section."""
    run = asdict(sweep.trial_run(row["config"]))
    head = (
        f"# best trial {row['trial']} of sweep {sweep.name} ({exp}): {sweep.metric} {row[sweep.metric]:.4g} after "
        f"{row['iterations']} iterations\n# use: raytool train --config best.yaml  (or raytool decider train "
        "--config best.yaml ...)\n"
    )
    return head + yaml.safe_dump({"decider": run}, sort_keys=False)


def write_report(rows: list[dict[str, Any]], sweep: SweepConfig, exp: str, log: Callable[[str], None] = print):
    """summary.md, heatmap.png, best.yaml and results.json under `exp/report` (local experiment folders)."""
    from raytool.tune.heatmap import heatmap

    best = best_row(rows, sweep)
    table = results_table(rows, sweep)
    grouped = settings_table(rows, sweep)
    if grouped:
        table += f"\n\nBy setting (mean over seeds):\n\n{grouped}"
    report = Path(exp) / "report" if "://" not in exp else cache_dir() / "tune-reports" / sweep.name
    report.mkdir(parents=True, exist_ok=True)
    atomic_write_text(report / "summary.md", f"# Sweep {sweep.name}\n\n{table}\n")
    atomic_write_text(report / "best.yaml", best_config_text(best, sweep, exp))
    summary = {"name": sweep.name, "experiment": exp, "metric": sweep.metric, "mode": sweep.mode, "best": best,
               "trials": rows}  # fmt: skip
    atomic_write_text(report / "results.json", json.dumps(summary, indent=2, default=str) + "\n")
    heatmap(report / "heatmap.png", heatmap_panels(rows, sweep))
    log(table)
    log(f"[tune] best: trial {best['trial']} {best['config']} {sweep.metric} {best[sweep.metric]:.4g} "
        f"({best['iterations']} iterations)")  # fmt: skip
    log(f"[tune] wrote {report / 'summary.md'}, {report / 'heatmap.png'}, {report / 'best.yaml'}")
    return summary


def heatmap_panels(rows: list[dict[str, Any]], sweep: SweepConfig) -> list[dict[str, Any]]:
    """The metric over lambda1 x lambda2 at the last iteration every trial reached (all trials, like for like), and
    at the end for the trials that ran the most iterations (ASHA's survivors), when that is later."""
    from raytool.decider.config import DeciderConfig

    ran, common, most = _reach(rows)
    defaults = DeciderConfig()  # an RLlib config: built once, not per trial and axis
    xs, ys = ([_setting(r, key, sweep, defaults) for r in ran] for key in ("lambda1", "lambda2"))
    panels = [{"title": f"{sweep.metric} at iteration {common} (all {len(ran)} trials)", "xs": xs, "ys": ys,
               "values": [r.get("curve", {}).get(common, math.nan) for r in ran]}]  # fmt: skip
    if most > common:
        survivors = [r[sweep.metric] if r["iterations"] == most else math.nan for r in ran]
        count = sum(v == v for v in survivors)
        panels.append({"title": f"{sweep.metric} at iteration {most} ({count} trials ran it)", "xs": xs, "ys": ys,
                       "values": survivors})  # fmt: skip
    return panels


def _setting(row: dict[str, Any], key: str, sweep: SweepConfig, defaults) -> float:
    """A trial's value of a training field: swept or fixed in the space, the `decider:` section's, or the default."""
    value = sweep.trial_run(row["config"]).training.get(key)
    return float(getattr(defaults, key) if value is None else value)
