"""Serve config files (`serve/*.yaml`): Serve's own schema plus a strict key check, and deploying them.

`ServeDeploySchema` accepts misspelled keys silently and keeps `autoscaling_config` a plain dict; `load_serve_config`
rejects unknown keys at every level (naming the file and the key path) and validates autoscaling configs, and
checks raytool applications' `args` (`check_app_args`, which `build_app` runs too). `deploy(config)` is what
`serve run CONFIG` does (`serve_start` + `deploy_apps`): the only path that applies a changed `user_config` (a new
checkpoint) to running replicas in place, without restarting them.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import yaml

from raytool.config import ConfigError, check_keys, config_error, settings_from, shown

RAYTOOL_IMPORT = "raytool.serving.app:build_app"
# Autoscaling reads the ongoing requests that the replicas report, not the router's handle: with Serve's default (ray
# 2.60, the handle reports) the controller's reading under steady load from 8 clients fell to 0 for seconds at a time
# while every request was answered (four runs: 0 from ~10 s on, twice; 0 for 2 s of 5; once steady), and a full-suite
# run never scaled up; with replica reports it stayed above 1, 1.5-6 in two runs (tests/serving/test_autoscaling.py).
# `deploy` sets this in every application's runtime_env unless the config sets it; serve/*.yaml carry it for
# `serve deploy`.
REPLICA_METRICS = {"RAY_SERVE_COLLECT_AUTOSCALING_METRICS_ON_HANDLE": "0"}
APP_ARGS = {
    "proposer",
    "decider",
    "filler",
    "domains",
    "proxies",
    "token",
    "domain_router",
    "teacher",
    "planner",
    "catalogues",
    "theta",
    "need",
}


class ServeConfigError(ConfigError):
    """A serve config that cannot be used; the message names the file and the key path (`raytool.config`'s shape)."""


def _models_in(annotation: Any) -> list[type]:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def check_model_keys(model: type, data: dict[str, Any], where: str, path: str = "") -> None:
    """Every key of `data` (and of its nested mappings) is a field of the pydantic `model`; nested mappings that
    Serve keeps as plain dicts (autoscaling_config) are validated against their model too."""
    from ray.serve.config import AutoscalingConfig

    fields = model.model_fields
    known = sorted(set(fields) | {f.alias for f in fields.values() if f.alias})
    check_keys(data, known, where, path)
    for key, value in data.items():
        if key == "autoscaling_config" and isinstance(value, dict):
            check_model_keys(AutoscalingConfig, value, where, _join(path, key))
            _validated(AutoscalingConfig, value, where, _join(path, key))
            continue
        models = _models_in(fields[key].annotation) if key in fields else []
        if len(models) != 1:
            continue
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, dict):
                check_model_keys(
                    models[0], item, where, _join(path, key) + (f"[{i}]" if isinstance(value, list) else "")
                )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _validated(model: type, record: Any, where: str, path: str = ""):
    """`model.model_validate(record)`, its first error in `raytool.config`'s shape (file: key path: message)."""
    from pydantic import ValidationError

    try:
        return model.model_validate(record)
    except ValidationError as err:
        first = err.errors()[0]
        loc = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
        message = first["msg"]
        if message.startswith("Input should be "):  # a wrong type or value: what was expected, what came
            message = f"expected {message[len('Input should be ') :]}, got {shown(first.get('input'))}"
        raise ServeConfigError(str(config_error(where, _join(path, loc) if loc else path, message))) from None


def _serve_errors(check):
    """`check` raising ServeConfigError for every config error (the shared layer's included)."""
    import functools

    @functools.wraps(check)
    def checked(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except ServeConfigError:
            raise
        except ConfigError as err:
            raise ServeConfigError(str(err)) from None

    return checked


@_serve_errors
def check_serve_config(record: Any, where: str):
    """The parsed `ServeDeploySchema` of `record` (a dict), or a ServeConfigError naming `where` and the key path."""
    from ray.serve.schema import ServeDeploySchema

    if not isinstance(record, dict):
        raise ServeConfigError(
            str(config_error(where, "", f"a Serve config is a mapping, got {type(record).__name__}"))
        )
    config = _validated(ServeDeploySchema, record, where)
    check_model_keys(ServeDeploySchema, record, where)
    for i, app in enumerate(record["applications"]):
        if app.get("import_path") == RAYTOOL_IMPORT:
            check_app_args(app.get("args") or {}, where, f"applications[{i}].args")
            made = app_deployments(app.get("args") or {})
            for j, deployment in enumerate(app.get("deployments") or []):
                if deployment.get("name") not in made:  # Serve would fail the deploy: "does not exist"
                    raise ServeConfigError(str(config_error(
                        where, f"applications[{i}].deployments[{j}].name",
                        f"{deployment.get('name')!r} is not one of the app's deployments ({', '.join(sorted(made))})",
                    )))  # fmt: skip
    return config


def app_deployments(args: dict[str, Any]) -> set[str]:
    """The deployment names `build_app(args)` creates: `Router`, `ProxyModel-<domain>` per domain, `Planner` with a
    teacher."""
    from raytool.envs.suites import SUITE_NAMES

    domains = args.get("domains") or SUITE_NAMES
    return {"Router", *(f"ProxyModel-{d}" for d in domains)} | ({"Planner"} if args.get("teacher") else set())


@_serve_errors
def check_app_args(args: dict[str, Any], where: str, path: str = "args") -> None:
    """`build_app`'s args: known keys, both checkpoints, and `teacher` / `planner` records of the right fields."""
    from raytool.planner.planner import PlannerConfig
    from raytool.teacher.backend import TeacherConfig

    def fail(key: str, message: str) -> ServeConfigError:
        return ServeConfigError(str(config_error(where, _join(path, key) if key else path, message)))

    if not isinstance(args, dict):
        raise fail("", f"a mapping, got {type(args).__name__}")
    check_keys(args, sorted(APP_ARGS), where, path)
    for key in ("proposer", "decider"):
        if not args.get(key):
            raise fail(key, "required (a checkpoint directory)")
    for key, what in (("theta", "the proxies' relevance gate"), ("need", "STOP held for the proposer's sure tools")):
        value = args.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise fail(key, f"a number in [0, 1] ({what}), got {value!r}")
    catalogues = args.get("catalogues") or {}
    if not isinstance(catalogues, dict):
        raise fail("catalogues", f"a mapping of domain -> dataset dir, got {type(catalogues).__name__}")
    domains = args.get("domains")
    for domain, folder in catalogues.items():
        if domains and domain not in domains:
            raise fail(f"catalogues.{domain}", f"not one of `domains` ({', '.join(domains)})")
        if not (Path(str(folder)).expanduser() / "tools.jsonl").is_file():
            raise fail(f"catalogues.{domain}", f"{folder} is not a dataset directory (no tools.jsonl)")
    for key, model, fixed in (("teacher", TeacherConfig, set()), ("planner", PlannerConfig, {"mode"})):
        record = args.get(key) or {}
        if not isinstance(record, dict):
            raise fail(key, f"a mapping, got {type(record).__name__}")
        check_keys(record, sorted(set(model.__dataclass_fields__) - fixed), where, _join(path, key))
        settings_from(model, record, where, _join(path, key))


def load_serve_config(path: str | Path):
    """Read and check a serve config file (module docstring)."""
    path = Path(path)
    try:
        record = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ServeConfigError(f"{path}: no such serve config") from None
    except yaml.YAMLError as err:
        raise ServeConfigError(f"{path}: not valid YAML: {err}") from None
    return check_serve_config(record, str(path))


def with_replica_metrics(config):
    """`config` (a ServeDeploySchema) whose applications' runtime_env carry `REPLICA_METRICS` (a value the config
    sets itself is kept)."""
    apps = []
    for app in config.applications:
        runtime_env = dict(app.runtime_env or {})
        runtime_env["env_vars"] = {**REPLICA_METRICS, **(runtime_env.get("env_vars") or {})}
        apps.append(app.model_copy(update={"runtime_env": runtime_env}))
    return config.model_copy(update={"applications": apps})


def deploy(config, timeout_s: float = 900.0, log=print) -> None:
    """Start Serve with the config's HTTP options, apply its applications and wait until they run (Serve's own
    blocking wait gives up after 60 s, less than a vLLM planner takes to start on a small CPU machine); progress
    every 15 s; a ServeConfigError with Serve's message when an application fails to deploy."""
    import time

    from ray import serve
    from ray.serve._private.api import serve_start  # what `serve run CONFIG` uses (ray 2.60, serve/scripts.py)
    from ray.serve.schema import ApplicationStatus

    config = with_replica_metrics(config)
    client = serve_start(http_options=config.http_options.model_dump(), proxy_location=config.proxy_location)
    client.deploy_apps(config)
    names = sorted(app.name for app in config.applications)
    start = last = time.monotonic()
    while True:
        statuses = serve.status().applications
        states = {name: statuses[name] for name in names if name in statuses}
        if len(states) == len(names) and all(s.status == ApplicationStatus.RUNNING for s in states.values()):
            break
        for name, state in states.items():
            if state.status in (ApplicationStatus.DEPLOY_FAILED, ApplicationStatus.UNHEALTHY):
                why = [state.message] + [f"{d}: {s.message}" for d, s in state.deployments.items() if s.message]
                raise ServeConfigError(f"application {name!r} {state.status.value}: {'; '.join(filter(None, why))}")
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"Serve applications {names} not running after {timeout_s:g} s")
        if time.monotonic() - last >= 15:
            last = time.monotonic()
            waiting = {d: s.status.value for st in states.values() for d, s in st.deployments.items()
                       if s.status.value != "HEALTHY"}  # fmt: skip
            log(f"[serve] deploying ({last - start:.0f} s): {waiting or 'starting'}")
        time.sleep(1.0)
    client.wait_for_proxies_serving(wait_for_applications_running=True)
