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

RAYTOOL_IMPORT = "raytool.serving.app:build_app"
APP_ARGS = {
    "proposer",
    "decider",
    "filler",
    "domains",
    "proxies",
    "token",
    "router",
    "teacher",
    "planner",
    "catalogues",
}


class ServeConfigError(ValueError):
    """A serve config that cannot be used; the message names the file and the key path."""


def _models_in(annotation: Any) -> list[type]:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def check_model_keys(model: type, data: dict[str, Any], where: str) -> None:
    """Every key of `data` (and of its nested mappings) is a field of the pydantic `model`; nested mappings that
    Serve keeps as plain dicts (autoscaling_config) are validated against their model too."""
    from ray.serve.config import AutoscalingConfig

    fields = model.model_fields
    known = sorted(set(fields) | {f.alias for f in fields.values() if f.alias})
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ServeConfigError(f"{where}: unknown key {unknown[0]!r} for {model.__name__} (known: {', '.join(known)})")
    for key, value in data.items():
        if key == "autoscaling_config" and isinstance(value, dict):
            check_model_keys(AutoscalingConfig, value, f"{where}.{key}")
            AutoscalingConfig.model_validate(value)
            continue
        models = _models_in(fields[key].annotation) if key in fields else []
        if len(models) != 1:
            continue
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, dict):
                check_model_keys(models[0], item, f"{where}.{key}" + (f"[{i}]" if isinstance(value, list) else ""))


def check_serve_config(record: Any, where: str):
    """The parsed `ServeDeploySchema` of `record` (a dict), or a ServeConfigError naming `where` and the key."""
    from pydantic import ValidationError
    from ray.serve.schema import ServeDeploySchema

    if not isinstance(record, dict):
        raise ServeConfigError(f"{where}: a Serve config is a mapping, got {type(record).__name__}")
    try:
        config = ServeDeploySchema.model_validate(record)
    except ValidationError as err:
        first = err.errors()[0]
        raise ServeConfigError(f"{where}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    check_model_keys(ServeDeploySchema, record, where)
    for i, app in enumerate(record["applications"]):
        if app.get("import_path") == RAYTOOL_IMPORT:
            check_app_args(app.get("args") or {}, f"{where}.applications[{i}].args")
            made = app_deployments(app.get("args") or {})
            for j, deployment in enumerate(app.get("deployments") or []):
                if deployment.get("name") not in made:  # Serve would fail the deploy: "does not exist"
                    raise ServeConfigError(f"{where}.applications[{i}].deployments[{j}].name: "
                                           f"{deployment.get('name')!r} is not one of the app's deployments "
                                           f"({', '.join(sorted(made))})")  # fmt: skip
    return config


def app_deployments(args: dict[str, Any]) -> set[str]:
    """The deployment names `build_app(args)` creates: `Router`, `ProxyModel-<domain>` per domain, `Planner` with a
    teacher."""
    from raytool.envs.suites import SUITE_NAMES

    domains = args.get("domains") or SUITE_NAMES
    return {"Router", *(f"ProxyModel-{d}" for d in domains)} | ({"Planner"} if args.get("teacher") else set())


def check_app_args(args: dict[str, Any], where: str) -> None:
    """`build_app`'s args: known keys, both checkpoints, and `teacher` / `planner` records of the right fields."""
    from raytool.planner.planner import PlannerConfig
    from raytool.teacher.backend import TeacherConfig

    if not isinstance(args, dict):
        raise ServeConfigError(f"{where}: a mapping, got {type(args).__name__}")
    unknown = sorted(set(args) - APP_ARGS)
    if unknown:
        raise ServeConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(APP_ARGS))})")
    for key in ("proposer", "decider"):
        if not args.get(key):
            raise ServeConfigError(f"{where}.{key}: required (a checkpoint directory)")
    catalogues = args.get("catalogues") or {}
    if not isinstance(catalogues, dict):
        kind = type(catalogues).__name__
        raise ServeConfigError(f"{where}.catalogues: a mapping of domain -> dataset dir, got {kind}")
    domains = args.get("domains")
    for domain, path in catalogues.items():
        if domains and domain not in domains:
            raise ServeConfigError(f"{where}.catalogues.{domain}: not one of `domains` ({', '.join(domains)})")
        if not (Path(str(path)).expanduser() / "tools.jsonl").is_file():
            raise ServeConfigError(f"{where}.catalogues.{domain}: {path} is not a dataset directory (no tools.jsonl)")
    for key, model, fixed in (("teacher", TeacherConfig, set()), ("planner", PlannerConfig, {"mode"})):
        record = args.get(key) or {}
        if not isinstance(record, dict):
            raise ServeConfigError(f"{where}.{key}: a mapping, got {type(record).__name__}")
        known = set(model.__dataclass_fields__) - fixed
        unknown = sorted(set(record) - known)
        if unknown:
            raise ServeConfigError(f"{where}.{key}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
        try:
            model(**record)
        except (TypeError, ValueError) as err:
            raise ServeConfigError(f"{where}.{key}: {err}") from None


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


def deploy(config, timeout_s: float = 900.0, log=print) -> None:
    """Start Serve with the config's HTTP options, apply its applications and wait until they run (Serve's own
    blocking wait gives up after 60 s, less than a vLLM planner takes to start on a small CPU machine); progress
    every 15 s; a ServeConfigError with Serve's message when an application fails to deploy."""
    import time

    from ray import serve
    from ray.serve._private.api import serve_start  # what `serve run CONFIG` uses (ray 2.60, serve/scripts.py)
    from ray.serve.schema import ApplicationStatus

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
