"""Validators for the files in clusters/ (test code): each `check_*` raises ValueError naming the file and the fault.

    kind = kind_of(record)                       # ray-up, RayCluster, RayJob, RayService, teacher, train, runtime-env
    nodes = check_ray_up(record, "ray-cluster.yaml")     # {node type: the Ray resources one node advertises}
    fits(request, nodes, where)                  # some node can hold an actor asking for `request`

Roles are Ray custom resources (clusters/README.md): only `teacher`, `rollout` and `proxy` may appear anywhere.
"""

from __future__ import annotations

import copy
import json
import shlex
from pathlib import Path
from typing import Any

import yaml

from raytool.serving.config import check_serve_config as raytool_check_serve_config

ROOT = Path(__file__).resolve().parent.parent
ROLES = frozenset({"teacher", "rollout", "proxy"})
BUILTIN = frozenset({"CPU", "GPU", "memory", "object_store_memory"})
TRAIN_SECTIONS = frozenset({"proposer", "evaluation", "decider_stages", "fp", "decider", "agent"})
KUBERAY_KINDS = ("RayCluster", "RayJob", "RayService")


def kind_of(record: Any) -> str:
    """What a clusters/ file is, from its keys; ValueError for anything else."""
    if not isinstance(record, dict):
        raise ValueError(f"not a mapping: {type(record).__name__}")
    if str(record.get("apiVersion", "")).startswith("ray.io/"):
        if record.get("kind") not in KUBERAY_KINDS:
            raise ValueError(f"unknown KubeRay kind {record.get('kind')!r} (known: {', '.join(KUBERAY_KINDS)})")
        return record["kind"]
    if "provider" in record:
        return "ray-up"
    if "teacher" in record:
        return "teacher"
    if set(record) & TRAIN_SECTIONS:
        return "train"
    if "working_dir" in record or "py_modules" in record:
        return "runtime-env"
    raise ValueError(f"no known kind of clusters/ file (keys: {sorted(record)})")


def roles_of(resources: dict[str, Any], where: str) -> set[str]:
    """The custom resources of a resource dict, which must all be roles."""
    custom = set(resources) - BUILTIN
    unknown = sorted(custom - ROLES)
    if unknown:
        raise ValueError(f"{where}: unknown role {unknown[0]!r} (roles: {', '.join(sorted(ROLES))})")
    return custom


def fits(request: dict[str, float], nodes: dict[str, dict[str, float]], where: str) -> str:
    """The first node type that can hold `request` (every amount at most the node's); ValueError if none."""
    need = {k: v for k, v in request.items() if v}
    for name, have in nodes.items():
        if all(have.get(k, 0) >= v for k, v in need.items()):
            return name
    raise ValueError(f"{where}: no node type can hold {need} (nodes: {nodes})")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _load_yaml_string(text: Any, where: str) -> dict[str, Any]:
    _require(isinstance(text, str), f"{where}: must be a YAML string")
    record = yaml.safe_load(text)
    _require(isinstance(record, dict), f"{where}: must hold a YAML mapping")
    return record


# ---------------------------------------------------------------------------------------------- ray up cluster file


def check_ray_up(record: dict[str, Any], where: str) -> dict[str, dict[str, float]]:
    """Ray's schema and `ray up`'s own config checks, then the roles; returns each node type's resources."""
    import jsonschema
    import ray
    from ray.autoscaler._private.util import prepare_config, validate_config

    schema = json.loads((Path(ray.__file__).parent / "autoscaler" / "ray-schema.json").read_text())
    try:
        jsonschema.validate(record, schema)
        validate_config(prepare_config(copy.deepcopy(record)))  # what `ray up` runs before it touches the cloud
    except (jsonschema.ValidationError, RuntimeError) as err:
        raise ValueError(f"{where}: {getattr(err, 'message', err)}") from None
    docker = record.get("docker", {})
    images = [docker.get(k) for k in ("image", "head_image", "worker_image") if docker.get(k)]
    nodes = {}
    for name, node in record["available_node_types"].items():
        at = f"{where}: node type {name!r}"
        low, high = node.get("min_workers", 0), node.get("max_workers", record.get("max_workers", 0))
        _require(low <= high, f"{at}: min_workers {low} > max_workers {high}")
        roles = roles_of(node["resources"], at)
        gpus = node["resources"].get("GPU", 0)
        if name == record["head_node_type"]:
            _require(not roles, f"{at}: the head must not advertise a role, has {sorted(roles)}")
        _require(not gpus or "teacher" in roles, f"{at}: a GPU node type must advertise `teacher`")
        _require("teacher" not in roles or gpus > 0, f"{at}: `teacher` on a node type without GPUs")
        images += [node["docker"]["worker_image"]] if "worker_image" in node.get("docker", {}) else []
        nodes[name] = {k: float(v) for k, v in node["resources"].items()}
    for image in images:
        _require(ray.__version__ in image, f"{where}: image {image!r} is not Ray {ray.__version__}")
    return nodes


# ------------------------------------------------------------------------------------------------ KubeRay manifests


def _quantity(value: Any) -> float:
    """A Kubernetes CPU / GPU quantity ("8", 8, "500m") as a number."""
    text = str(value)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def _container(group: dict[str, Any], where: str) -> dict[str, Any]:
    containers = ((group.get("template") or {}).get("spec") or {}).get("containers") or []
    _require(bool(containers), f"{where}: template.spec.containers is empty")
    container = containers[0]
    _require(isinstance(container.get("image"), str), f"{where}: containers[0] has no image")
    limits = (container.get("resources") or {}).get("limits") or {}
    _require("cpu" in limits and "memory" in limits, f"{where}: containers[0] needs resources.limits cpu and memory")
    return container


def _node_resources(group: dict[str, Any], where: str) -> dict[str, float]:
    """What one pod of a group advertises to Ray: rayStartParams first, else the container's limits."""
    params = group.get("rayStartParams")
    _require(isinstance(params, dict), f"{where}: rayStartParams must be a mapping")
    bad = sorted(k for k, v in params.items() if not isinstance(v, str))
    _require(not bad, f"{where}: rayStartParams values must be strings, {bad[:1]} is not")
    limits = _container(group, where)["resources"]["limits"]
    resources = {"CPU": _quantity(params.get("num-cpus", limits["cpu"]))}
    resources["GPU"] = _quantity(params.get("num-gpus", limits.get("nvidia.com/gpu", 0)))
    if "resources" in params:  # KubeRay's format: a JSON string inside the string, '"{\"teacher\": 1}"'
        inner = json.loads(params["resources"])
        _require(isinstance(inner, str), f"{where}: rayStartParams.resources must be quoted as '\"{{...}}\"'")
        custom = json.loads(inner)
        _require(isinstance(custom, dict), f"{where}: rayStartParams.resources must be a JSON object")
        resources.update({k: float(v) for k, v in custom.items()})
    return resources


def check_cluster_spec(spec: dict[str, Any], where: str) -> dict[str, dict[str, float]]:
    """A RayCluster spec (also a RayJob's rayClusterSpec and a RayService's rayClusterConfig); returns each worker
    group's per-pod resources."""
    import ray

    _require(isinstance(spec, dict), f"{where}: must be a mapping")
    _require(spec.get("rayVersion") == ray.__version__, f"{where}: rayVersion must be {ray.__version__}")
    head = spec.get("headGroupSpec")
    _require(isinstance(head, dict), f"{where}: headGroupSpec missing")
    images = [_container(head, f"{where}.headGroupSpec")["image"]]
    head_roles = roles_of(_node_resources(head, f"{where}.headGroupSpec"), f"{where}.headGroupSpec")
    _require(not head_roles, f"{where}.headGroupSpec: the head must not advertise a role, has {sorted(head_roles)}")
    groups = {}
    for group in spec.get("workerGroupSpecs") or []:
        name = group.get("groupName")
        at = f"{where}: worker group {name!r}"
        _require(isinstance(name, str) and name not in groups, f"{at}: groupName missing or repeated")
        counts = [group.get(k) for k in ("minReplicas", "replicas", "maxReplicas")]
        _require(all(type(c) is int for c in counts), f"{at}: minReplicas / replicas / maxReplicas must be integers")
        _require(counts == sorted(counts), f"{at}: needs minReplicas <= replicas <= maxReplicas, got {counts}")
        resources = _node_resources(group, at)
        roles = roles_of(resources, at)
        limits = _container(group, at)["resources"]["limits"]
        _require(not limits.get("nvidia.com/gpu") or "teacher" in roles, f"{at}: a GPU group must advertise `teacher`")
        _require("teacher" not in roles or resources["GPU"] > 0, f"{at}: `teacher` on a group without GPUs")
        images.append(_container(group, at)["image"])
        groups[name] = resources
    _require(bool(groups), f"{where}: no workerGroupSpecs")
    for image in images:
        _require(f":{ray.__version__}" in image, f"{where}: image {image!r} is not Ray {ray.__version__}")
    return groups


def _manifest(record: dict[str, Any], where: str) -> dict[str, Any]:
    _require(record.get("apiVersion") == "ray.io/v1", f"{where}: apiVersion must be ray.io/v1")
    _require(isinstance((record.get("metadata") or {}).get("name"), str), f"{where}: metadata.name missing")
    _require(isinstance(record.get("spec"), dict), f"{where}: spec missing")
    return record["spec"]


def check_raycluster(record: dict[str, Any], where: str) -> dict[str, dict[str, float]]:
    return check_cluster_spec(_manifest(record, where), f"{where}: spec")


def check_rayjob(record: dict[str, Any], where: str) -> tuple[dict[str, dict[str, float]], list[dict[str, float]]]:
    """A RayJob; returns its groups and the role requests of the raytool configs its entrypoint names."""
    spec = _manifest(record, where)
    entrypoint = spec.get("entrypoint")
    _require(isinstance(entrypoint, str) and entrypoint.strip(), f"{where}: spec.entrypoint must be a command")
    runtime_env = _load_yaml_string(spec.get("runtimeEnvYAML"), f"{where}: runtimeEnvYAML")
    check_runtime_env(runtime_env, f"{where}: runtimeEnvYAML", local=False)
    for key, kind in (("shutdownAfterJobFinishes", bool), ("ttlSecondsAfterFinished", int)):
        _require(key not in spec or type(spec[key]) is kind, f"{where}: spec.{key} must be {kind.__name__}")
    groups = check_cluster_spec(spec.get("rayClusterSpec"), f"{where}: spec.rayClusterSpec")
    words = shlex.split(entrypoint)
    requests = []
    for flag, check in (("--config", check_train_file), ("--teacher", check_teacher_file)):
        if flag in words:
            path = ROOT / words[words.index(flag) + 1]  # relative to the working dir: the repository's root
            _require(path.is_file(), f"{where}: the entrypoint's {flag} {path.relative_to(ROOT)} does not exist")
            requests += check(path)
    return groups, requests


# ---------------------------------------------------------------------------------------------------- Ray Serve


def check_serve_config(config: dict[str, Any], where: str) -> list[dict[str, float]]:
    """Serve's own schema plus the strict key check; returns each deployment's replica resource request."""
    raytool_check_serve_config(config, where)  # `raytool serve`'s check (a ServeConfigError is a ValueError)
    requests = []
    for app in config["applications"]:
        if "runtime_env" in app:
            check_runtime_env(app["runtime_env"], f"{where}: application {app['name']!r} runtime_env", local=False)
        for deployment in app.get("deployments") or []:
            options = deployment.get("ray_actor_options") or {}
            at = f"{where}: deployment {deployment['name']!r}"
            roles_of(options.get("resources") or {}, at)
            request = {"CPU": options.get("num_cpus", 1), "GPU": options.get("num_gpus", 0)}
            requests.append(request | (options.get("resources") or {}))
    return requests


def check_rayservice(record: dict[str, Any], where: str) -> tuple[dict[str, dict[str, float]], list[dict[str, float]]]:
    """A RayService; returns its groups and its replicas' resource requests."""
    spec = _manifest(record, where)
    config = _load_yaml_string(spec.get("serveConfigV2"), f"{where}: serveConfigV2")
    requests = check_serve_config(config, f"{where}: serveConfigV2")
    return check_cluster_spec(spec.get("rayClusterConfig"), f"{where}: spec.rayClusterConfig"), requests


# ------------------------------------------------------------------------------------------- runtime env, raytool


def check_runtime_env(env: dict[str, Any], where: str, local: bool = True) -> None:
    """Only Ray's public runtime env keys (Ray takes unknown ones silently, as plugin names), then Ray's own checks;
    a local working_dir must exist (relative to the repository's root)."""
    from ray.runtime_env import RuntimeEnv

    known = {k for k in RuntimeEnv.known_fields if not k.startswith("_")}
    unknown = sorted(set(env) - known)
    _require(not unknown, f"{where}: unknown runtime env key {unknown[:1]} (known: {', '.join(sorted(known))})")
    try:
        RuntimeEnv(**env)
    except TypeError as err:
        raise ValueError(f"{where}: {err}") from None
    working_dir = env.get("working_dir")
    if working_dir and "://" not in working_dir:
        _require(local, f"{where}: working_dir {working_dir!r} must be a remote URI (zip) here")
        _require((ROOT / working_dir).is_dir(), f"{where}: working_dir {working_dir!r} is not a directory")


def check_teacher_file(path: Path) -> list[dict[str, float]]:
    """`raytool train --teacher`'s loader; returns the engine actor's resource request."""
    from raytool.teacher.backend import TeacherConfig

    record = yaml.safe_load(path.read_text())
    _require(set(record) == {"teacher"}, f"{path.name}: only a `teacher:` section, got {sorted(record)}")
    config = TeacherConfig.from_dict(record["teacher"])
    roles_of(config.resources, f"{path.name}: teacher.resources")
    return [{"CPU": config.num_cpus, "GPU": config.num_gpus} | config.resources]


def check_train_file(path: Path) -> list[dict[str, float]]:
    """What `raytool train --config` applies; returns the env runners' and the proxy actors' resource requests."""
    from raytool.agent.agent import AgentConfig
    from raytool.decider.train import DeciderRunConfig
    from raytool.pipeline import AgentStages, DeciderStages, load_train_config

    settings = load_train_config(path)
    DeciderStages.from_sections(settings)
    agent = AgentStages.from_sections(settings)
    run = DeciderRunConfig.from_dict(settings.get("decider") or {})
    proxies = DeciderRunConfig.from_dict(agent.decider or {})
    requests = []
    for what, runner in (("decider", run), ("agent.decider", proxies)):
        roles_of(runner.runner_resources, f"{path.name}: {what}.runner_resources")
        requests.append({"CPU": runner.cpus_per_env_runner} | runner.runner_resources)
    roles_of(agent.proxy_resources or {}, f"{path.name}: agent.proxy_resources")
    proxy_cpus = AgentConfig.__dataclass_fields__["proxy_cpus"].default
    return requests + [{"CPU": proxy_cpus} | (agent.proxy_resources or {})]


def check_file(path: Path) -> tuple[str, Any]:
    """Validate one clusters/ file by its kind; returns (kind, what its checker returned)."""
    record = yaml.safe_load(path.read_text())
    kind = kind_of(record)
    if kind == "ray-up":
        return kind, check_ray_up(record, path.name)
    if kind in KUBERAY_KINDS:
        return kind, {"RayCluster": check_raycluster, "RayJob": check_rayjob, "RayService": check_rayservice}[kind](
            record, path.name
        )
    if kind == "runtime-env":
        return kind, check_runtime_env(record, path.name)
    return kind, (check_teacher_file if kind == "teacher" else check_train_file)(path)


def write_yaml(tmp: Path, name: str, record: dict[str, Any]) -> Path:
    """A mutated copy of a clusters/ file, for the tests that must see a validator fail."""
    path = tmp / name
    path.write_text(yaml.safe_dump(record, sort_keys=False))
    return path
