"""Sweep files (`tune_configs/*.yaml`) -> `SweepConfig`, and from it the Ray Tune objects of the decider sweep.

A sweep file, every section optional except `space` (unknown keys are errors naming the file and the key):

    name: decider-guidance        # experiment folder under `storage`
    storage: null                 # default $RAYTOOL_CACHE/tune
    data:                         # the decider's task sets and F_P (default: the main job's, $RAYTOOL_CACHE/run)
      tasks: null                 #   training tasks with candidates.jsonl (run/envs/decider_train)
      test_tasks: null            #   held-out tasks: the sweep's metric is the greedy decider's success on them
      fp: null                    #   the F_P checkpoint (run/fp)
      top_p: 5
      max_steps: 8
    decider: {iterations: 20, num_env_runners: 1, ...}   # fixed DeciderRunConfig fields of every trial
    space:                        # what is swept: DeciderConfig.training fields, hidden, rollout_fragment_length, seed
      lambda1: {grid: [0.0, 0.1, 0.5]}
      sigma: {uniform: [0.1, 0.6]}
      actor_lr: {loguniform: [3.0e-4, 3.0e-3]}
      hidden: {choice: [32, 64]}
      seed: 0                     # a plain value is fixed
    search: {algorithm: grid, num_samples: 1, seed: 0, max_concurrent: 1, initial_points: 4}
    scheduler: {type: asha, grace_period: 5, reduction_factor: 2, max_t: 20, brackets: 1}
    metric: success               # one of METRICS
    mode: max
    eval_every: 5                 # iterations between held-out evaluations (and the last one)
    resources: {trial_cpus: 0.5}  # the trial's own process; each env runner adds its CPUs and runner_resources
    stop: {training_iteration: 20}
    failure: {max_failures: 2}
    checkpoint: {num_to_keep: 2}
    loggers: [csv, json, tensorboard]   # `mlflow` added when the package is installed (or listed: then required)

Samplers: `grid`, `choice` (lists), `uniform`, `loguniform` ([low, high]), `randint` ([low, high), integers).
Search algorithms: `grid` (every swept key a grid; num_samples repeats it), `random` (Tune's variant generator:
grids crossed, samplers drawn num_samples times), `bayes` (raytool's Gaussian-process search, no grids), or any
searcher name `ray.tune.create_searcher` knows whose library is installed (optuna, hyperopt, ...).
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from raytool.config import ConfigError, shown, unknown_key
from raytool.decider.config import GUIDANCE_FIELDS
from raytool.decider.train import DeciderRunConfig

METRICS = ("success", "reward", "calls", "train_success", "train_reward", "js_to_llm", "kendall_tau_b")
SAMPLERS = ("grid", "choice", "uniform", "loguniform", "randint")
RUN_FIELDS = ("hidden", "rollout_fragment_length", "seed")  # env runners stay in `decider:`: they size the trial
LOGGERS = ("csv", "json", "tensorboard", "mlflow")
OWN_SEARCHERS = ("grid", "random", "bayes")
SECTIONS = {
    "name": None, "storage": None, "data": ("tasks", "test_tasks", "fp", "top_p", "max_steps"),
    "decider": tuple(DeciderRunConfig.__dataclass_fields__), "space": None,
    "search": ("algorithm", "num_samples", "seed", "max_concurrent", "initial_points"),
    "scheduler": ("type", "grace_period", "reduction_factor", "max_t", "brackets"), "metric": None, "mode": None,
    "eval_every": None, "resources": ("trial_cpus", "custom"), "stop": None, "failure": ("max_failures",),
    "checkpoint": ("num_to_keep",), "loggers": None,
}  # fmt: skip


class SweepFileError(ConfigError):
    """A sweep file that cannot be used; the message names the file and the field (`raytool.config`'s shape)."""


@dataclass(frozen=True)
class Dimension:
    """One swept setting: `kind` in SAMPLERS and its `values` (a list) or [low, high] bounds."""

    kind: str
    values: tuple[Any, ...]

    def domain(self):
        """The Tune search-space object (`tune.grid_search`, `tune.uniform`, ...)."""
        from ray import tune

        if self.kind == "grid":
            return tune.grid_search(list(self.values))
        if self.kind == "choice":
            return tune.choice(list(self.values))
        return {"uniform": tune.uniform, "loguniform": tune.loguniform, "randint": tune.randint}[self.kind](
            *self.values
        )

    def from_unit(self, u: float) -> Any:
        """The value at position `u` in [0, 1) of this dimension (for model-based search)."""
        u = min(max(float(u), 0.0), 1.0 - 1e-12)
        low, high = (self.values[0], self.values[-1]) if self.kind in ("uniform", "loguniform", "randint") else (0, 0)
        if self.kind == "uniform":
            return low + u * (high - low)
        if self.kind == "loguniform":
            return math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
        if self.kind == "randint":
            return int(low + math.floor(u * (high - low)))
        return self.values[int(u * len(self.values))]


@dataclass(frozen=True)
class SweepConfig:
    """A parsed sweep file (module docstring); `path` is where it came from (for messages)."""

    space: dict[str, Any]
    name: str = "decider-sweep"
    storage: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    decider: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Any] = field(default_factory=dict)
    scheduler: dict[str, Any] = field(default_factory=dict)
    metric: str = "success"
    mode: str = "max"
    eval_every: int = 5
    resources: dict[str, Any] = field(default_factory=dict)
    stop: dict[str, Any] = field(default_factory=dict)
    failure: dict[str, Any] = field(default_factory=dict)
    checkpoint: dict[str, Any] = field(default_factory=dict)
    loggers: tuple[str, ...] | None = None
    path: str = "<dict>"

    @property
    def dimensions(self) -> dict[str, Dimension]:
        """The swept keys (plain values excluded)."""
        return {k: v for k, v in self.space.items() if isinstance(v, Dimension)}

    @property
    def algorithm(self) -> str:
        return self.search.get("algorithm", "grid")

    def run_config(self) -> DeciderRunConfig:
        """The fixed part of every trial's `DeciderRunConfig`."""
        return DeciderRunConfig.from_dict(self.decider, self.path)

    def trial_run(self, sampled: dict[str, Any]) -> DeciderRunConfig:
        """One trial's `DeciderRunConfig`: the fixed `decider:` section with the sampled values laid over it."""
        record = dict(self.decider)
        training = dict(record.get("training") or {})
        for key, value in sampled.items():
            if key in GUIDANCE_FIELDS:
                training[key] = value
            else:
                record[key] = value
        record["training"] = training
        return DeciderRunConfig.from_dict(record)

    def param_space(self) -> dict[str, Any]:
        """Tune's `param_space`: every space key (a domain for swept keys; `bayes` and external searchers get
        their dimensions through `search_alg` instead, so only the fixed keys here)."""
        if self.algorithm in ("grid", "random"):
            return {k: v.domain() if isinstance(v, Dimension) else v for k, v in self.space.items()}
        return {k: v for k, v in self.space.items() if not isinstance(v, Dimension)}

    def search_alg(self):
        """Tune's variant generator (`grid`, `random`; seeded), else the configured searcher, concurrency-limited."""
        from ray import tune
        from ray.tune.search import ConcurrencyLimiter

        seed = int(self.search.get("seed", 0))
        if self.algorithm in ("grid", "random"):
            from ray.tune.search.basic_variant import BasicVariantGenerator

            return BasicVariantGenerator(random_state=seed, max_concurrent=int(self.search.get("max_concurrent", 1)))
        if self.algorithm == "bayes":
            from raytool.tune.searcher import GaussianProcessSearch

            searcher = GaussianProcessSearch(
                self.dimensions, self.metric, self.mode, initial_points=int(self.search.get("initial_points", 4)),
                seed=seed,
            )  # fmt: skip
        else:
            space = {k: v.domain() for k, v in self.dimensions.items()}
            searcher = tune.create_searcher(self.algorithm, metric=self.metric, mode=self.mode, space=space)
        return ConcurrencyLimiter(searcher, max_concurrent=int(self.search.get("max_concurrent", 1)))

    def scheduler_obj(self):
        """ASHA over training iterations (or FIFO)."""
        from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

        settings = dict(self.scheduler)
        if settings.pop("type", "asha") == "fifo":
            return FIFOScheduler()
        max_t = int(settings.pop("max_t", self.run_config().iterations))
        settings.setdefault("grace_period", self.eval_every)  # rungs on evaluations (see trainable.py)
        return ASHAScheduler(time_attr="training_iteration", max_t=max_t, **settings)

    def tune_config(self):
        from ray import tune

        return tune.TuneConfig(
            metric=self.metric, mode=self.mode, num_samples=int(self.search.get("num_samples", 1)),
            search_alg=self.search_alg(), scheduler=self.scheduler_obj(),
        )  # fmt: skip

    def run_config_obj(self, storage: str):
        """`tune.RunConfig`: name, storage (a resolved local folder or a URI, `sweep.storage_dir`), stop, retries
        (`max_failures`), checkpoints kept, loggers."""
        from ray import tune

        keep = self.checkpoint.get("num_to_keep", 2)
        return tune.RunConfig(
            name=self.name, storage_path=storage, stop=dict(self.stop) or None,
            failure_config=tune.FailureConfig(max_failures=int(self.failure.get("max_failures", 2))),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=keep), callbacks=self.logger_callbacks(storage),
            verbose=1,
        )  # fmt: skip

    def logger_names(self) -> tuple[str, ...]:
        if self.loggers is not None:
            return self.loggers
        names = ("csv", "json", "tensorboard")
        return names + (("mlflow",) if importlib.util.find_spec("mlflow") else ())

    def logger_callbacks(self, storage: str) -> list:
        from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback, TBXLoggerCallback

        made = {"csv": CSVLoggerCallback, "json": JsonLoggerCallback, "tensorboard": TBXLoggerCallback}
        callbacks = []
        for name in self.logger_names():
            if name == "mlflow":
                from ray.air.integrations.mlflow import MLflowLoggerCallback

                uri = f"{storage}/mlruns" if "://" in storage else (Path(storage) / "mlruns").as_uri()
                callbacks.append(MLflowLoggerCallback(tracking_uri=uri, experiment_name=self.name))
            else:
                callbacks.append(made[name]())
        return callbacks


def load_sweep(path: str | Path) -> SweepConfig:
    """Read and check a sweep file (module docstring); errors are `SweepFileError`s naming the file and field."""
    path = Path(path)
    try:
        record = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise SweepFileError(f"{path}: no such sweep file") from None
    except yaml.YAMLError as err:
        raise SweepFileError(f"{path}: not valid YAML: {err}") from None
    return sweep_from_dict(record, str(path))


def sweep_from_dict(record: Any, where: str = "<dict>") -> SweepConfig:
    """`load_sweep` for an already-parsed mapping."""

    def fail(field_name: str, message: str) -> SweepFileError:
        return SweepFileError(f"{where}: {field_name}: {message}")

    if not isinstance(record, dict):
        raise fail("<top>", f"a sweep file is a mapping, got {type(record).__name__}")
    for key, value in record.items():
        if key not in SECTIONS:
            raise SweepFileError(str(unknown_key(where, "", key, list(SECTIONS))))
        known = SECTIONS[key]
        if known is not None:
            if not isinstance(value, dict):
                raise fail(key, f"expected a mapping, got {type(value).__name__}")
            for sub in value:
                if sub not in known:
                    raise SweepFileError(str(unknown_key(where, key, sub, known)))
    if not isinstance(record.get("space"), dict) or not record["space"]:
        raise fail("space", "a non-empty mapping of settings to sweep is required")
    space = {key: _dimension(key, value, fail) for key, value in record["space"].items()}
    metric, mode = record.get("metric", "success"), record.get("mode", "max")
    if metric not in METRICS:
        raise fail("metric", f"{metric!r} is not reported by the trials (one of {', '.join(METRICS)})")
    if mode not in ("max", "min"):
        raise fail("mode", f"must be max or min, got {mode!r}")
    loggers = record.get("loggers")
    if loggers is not None:
        if not isinstance(loggers, list) or any(name not in LOGGERS for name in loggers):
            raise fail("loggers", f"a list drawn from {', '.join(LOGGERS)}, got {loggers!r}")
        if "mlflow" in loggers and not importlib.util.find_spec("mlflow"):
            raise fail("loggers", "mlflow is listed but not installed (pip install mlflow, or drop it)")
        loggers = tuple(loggers)
    eval_every = record.get("eval_every", 5)
    if not isinstance(eval_every, int) or eval_every < 1:
        raise fail("eval_every", f"expected a positive integer, got {shown(eval_every)}")
    stop = record.get("stop") or {}
    if not isinstance(stop, dict) or any(not isinstance(v, (int, float)) for v in stop.values()):
        raise fail("stop", f"expected a mapping of reported metric -> number, got {shown(stop)}")
    config = SweepConfig(
        space=space, name=str(record.get("name", "decider-sweep")), storage=record.get("storage"),
        data=dict(record.get("data") or {}), decider=dict(record.get("decider") or {}),
        search=dict(record.get("search") or {}), scheduler=dict(record.get("scheduler") or {}), metric=metric,
        mode=mode, eval_every=eval_every, resources=dict(record.get("resources") or {}), stop=stop,
        failure=dict(record.get("failure") or {}), checkpoint=dict(record.get("checkpoint") or {}), loggers=loggers,
        path=where,
    )  # fmt: skip
    _check(config, fail)
    return config


def _dimension(key: str, value: Any, fail) -> Any:
    if key not in GUIDANCE_FIELDS and key not in RUN_FIELDS:
        raise fail(f"space.{key}", f"not a decider setting (training: {', '.join(GUIDANCE_FIELDS)}; run: "
                                   f"{', '.join(RUN_FIELDS)})")  # fmt: skip
    if not isinstance(value, dict):
        return value
    if len(value) != 1 or next(iter(value)) not in SAMPLERS:
        raise fail(f"space.{key}", f"a plain value or one sampler of {', '.join(SAMPLERS)}, got {value!r}")
    kind, args = next(iter(value.items()))
    if not isinstance(args, list) or not args:
        raise fail(f"space.{key}.{kind}", f"a non-empty list, got {args!r}")
    if kind in ("uniform", "loguniform", "randint"):
        if len(args) != 2 or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
            raise fail(f"space.{key}.{kind}", f"[low, high] numbers, got {args!r}")
        if not args[0] < args[1] or (kind == "loguniform" and args[0] <= 0):
            raise fail(f"space.{key}.{kind}", f"needs low < high{' and low > 0' * (kind == 'loguniform')}: {args!r}")
        if kind == "randint" and not all(isinstance(a, int) for a in args):
            raise fail(f"space.{key}.{kind}", f"integer bounds, got {args!r}")
    return Dimension(kind, tuple(args))


def _check(config: SweepConfig, fail) -> None:
    """Cross-field checks, and every value run through the same validation a trial's config gets."""
    try:
        run = config.run_config()
    except ConfigError as err:  # already names the file and the key path
        raise SweepFileError(str(err)) from None
    except (TypeError, ValueError) as err:
        raise fail("decider", str(err)) from None
    dims = config.dimensions
    algorithm = config.algorithm
    grids = [k for k, d in dims.items() if d.kind == "grid"]
    if algorithm == "grid" and len(grids) != len(dims):
        others = sorted(set(dims) - set(grids))
        raise fail("search.algorithm", f"grid needs every swept key as a grid; {', '.join(others)} are not "
                                       "(use random, bayes or a Tune searcher)")  # fmt: skip
    if algorithm not in OWN_SEARCHERS:
        from ray.tune.search import SEARCH_ALG_IMPORT

        if algorithm not in SEARCH_ALG_IMPORT:
            raise fail("search.algorithm", f"unknown {algorithm!r} (grid, random, bayes, or one of "
                                           f"{', '.join(sorted(SEARCH_ALG_IMPORT))})")  # fmt: skip
    if algorithm not in ("grid", "random") and grids:
        raise fail("search.algorithm", f"{algorithm} does not take grid dimensions ({', '.join(grids)})")
    for key in ("num_samples", "max_concurrent", "initial_points"):
        value = config.search.get(key, 1)
        if not isinstance(value, int) or value < 1:
            raise fail(f"search.{key}", f"expected a positive integer, got {shown(value)}")
    kind = config.scheduler.get("type", "asha")
    if kind not in ("asha", "fifo"):
        raise fail("scheduler.type", f"asha or fifo, got {kind!r}")
    max_t = config.scheduler.get("max_t", run.iterations)
    if not isinstance(max_t, int) or max_t < 1 or max_t > run.iterations:
        bounds = f"[1, decider.iterations = {run.iterations}]"
        raise fail("scheduler.max_t", f"expected an integer in {bounds}, got {shown(max_t)}")
    grace = config.scheduler.get("grace_period", config.eval_every)
    if kind == "asha" and (not isinstance(grace, int) or grace % config.eval_every):
        raise fail("scheduler.grace_period", f"a multiple of eval_every ({config.eval_every}) so ASHA compares fresh "
                                             f"evaluations, got {grace!r}")  # fmt: skip
    trial_cpus = config.resources.get("trial_cpus", 0.5)
    if not isinstance(trial_cpus, (int, float)) or trial_cpus <= 0:
        raise fail("resources.trial_cpus", f"expected a positive number, got {shown(trial_cpus)}")
    if not isinstance(config.resources.get("custom", {}), dict):
        raise fail("resources.custom", "a mapping of Ray custom resource -> amount")
    for corner in (0.0, 1.0 - 1e-9):  # the sampled extremes pass DeciderConfig's own validation
        try:
            _validate_trial(config, {k: d.from_unit(corner) for k, d in dims.items()})
        except (TypeError, ValueError) as err:
            raise fail("space", f"a sampled config is invalid: {err}") from None
    if not isinstance(config.failure.get("max_failures", 2), int):
        raise fail("failure.max_failures", "an integer (-1: retry forever)")


def _validate_trial(config: SweepConfig, sampled: dict[str, Any]) -> None:
    from raytool.decider.config import DeciderConfig

    fixed = {k: v for k, v in config.space.items() if not isinstance(v, Dimension)}
    DeciderConfig().training(**config.trial_run({**fixed, **sampled}).training).check_guidance()
