"""Every file in clusters/ validates (Ray's autoscaler schema, KubeRay structure, Serve's schema with a strict key
check, Ray's runtime env, raytool's own loaders), the roles line up across files, and each validator rejects a
broken copy. No Ray cluster is started."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from tests.cluster_checks import (
    ROLES,
    ROOT,
    check_file,
    check_ray_up,
    check_raycluster,
    check_rayjob,
    check_rayservice,
    check_runtime_env,
    check_teacher_file,
    check_train_file,
    fits,
    kind_of,
    write_yaml,
)

CLUSTERS = ROOT / "clusters"
FILES = sorted(CLUSTERS.glob("*.yaml"))
KINDS = {"ray-up", "RayCluster", "RayJob", "RayService", "teacher", "train", "runtime-env"}


def _load(name: str) -> dict:
    return yaml.safe_load((CLUSTERS / name).read_text())


def _requests() -> list[dict[str, float]]:
    """What the main job's configs ask of a cluster: engines, env runners, proxy actors."""
    return check_train_file(CLUSTERS / "train-roles.yaml") + check_teacher_file(CLUSTERS / "teacher-gpu.yaml")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_cluster_file_validates(path: Path) -> None:
    kind, _ = check_file(path)
    assert kind in KINDS


def test_every_kind_is_present_once_or_more() -> None:
    assert {kind_of(yaml.safe_load(p.read_text())) for p in FILES} == KINDS


def test_configs_ask_for_every_role_and_each_cluster_holds_them() -> None:
    requests = _requests()
    assert set().union(*(set(r) - {"CPU", "GPU"} for r in requests)) == ROLES
    teacher = check_teacher_file(CLUSTERS / "teacher-gpu.yaml")[0]
    assert teacher["teacher"] == 1 and teacher["GPU"] == 1
    clusters = {
        "ray-cluster.yaml": check_ray_up(_load("ray-cluster.yaml"), "ray-cluster.yaml"),
        "kuberay-raycluster.yaml": check_raycluster(_load("kuberay-raycluster.yaml"), "kuberay-raycluster.yaml"),
    }
    groups, job_requests = check_rayjob(_load("kuberay-rayjob.yaml"), "kuberay-rayjob.yaml")
    assert job_requests == requests  # the RayJob's entrypoint names clusters/train-roles.yaml and teacher-gpu.yaml
    clusters["kuberay-rayjob.yaml"] = groups
    for name, nodes in clusters.items():
        assert set().union(*nodes.values()) >= ROLES, name
        placed = {fits(r, nodes, name) for r in requests}
        assert len(placed) == 3, (name, placed)  # engines, runners and proxies each on their own node type


def test_serve_replicas_land_on_their_role_nodes() -> None:
    groups, requests = check_rayservice(_load("kuberay-rayservice.yaml"), "kuberay-rayservice.yaml")
    placed = sorted(fits(r, groups, "kuberay-rayservice.yaml") for r in requests)
    assert placed == ["proxy-cpu"] * 4 + ["teacher-gpu"], placed  # Router + 3 proxies; the Planner on a GPU node


def test_train_roles_reach_the_code_paths() -> None:
    from raytool.decider.train import DeciderRunConfig, decider_config
    from raytool.pipeline import AgentStages, load_train_config

    settings = load_train_config(CLUSTERS / "train-roles.yaml")
    run = DeciderRunConfig.from_dict(settings["decider"])
    assert run.num_env_runners == 8 and run.runner_resources == {"rollout": 1}
    config = decider_config({}, None, run)
    assert config.custom_resources_per_env_runner == {"rollout": 1}
    assert AgentStages.from_sections(settings).proxy_resources == {"proxy": 0.5}


# ------------------------------------------------------------------ each validator rejects a broken copy


def test_unknown_kind_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no known kind"):
        check_file(write_yaml(tmp_path, "mystery.yaml", {"nodes": 3}))
    with pytest.raises(ValueError, match="unknown KubeRay kind"):
        kind_of({"apiVersion": "ray.io/v1", "kind": "RayThing"})


def _ray_up_mutations() -> list[tuple[str, str]]:
    return [
        ("record['available_node_type'] = record.pop('available_node_types')", "was unexpected"),
        ("types['rollout_cpu']['min_worker'] = 1", "was unexpected"),
        ("types['rollout_cpu']['min_workers'] = 5", "min_workers 5 > max_workers 4"),
        ("types['rollout_cpu']['resources']['rollouts'] = 16", "unknown role 'rollouts'"),
        ("types['ray.head.default']['resources']['proxy'] = 1", "the head must not advertise a role"),
        ("del types['teacher_gpu']['resources']['teacher']", "must advertise `teacher`"),
        ("types['proxy_cpu']['resources']['teacher'] = 1", "without GPUs"),
        ("record['head_node_type'] = 'nope'", "head_node_type"),
        ("record['docker']['image'] = 'rayproject/ray:2.9.0-py311'", "is not Ray"),
    ]


@pytest.mark.parametrize(("change", "message"), _ray_up_mutations())
def test_ray_up_validator_rejects(change: str, message: str) -> None:
    record = _load("ray-cluster.yaml")
    exec(change, {}, {"record": record, "types": record["available_node_types"]})
    with pytest.raises(ValueError, match=message):
        check_ray_up(record, "ray-cluster.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("groups[1]['minReplicas'] = 2", r"minReplicas <= replicas <= maxReplicas"),
        ("groups[1]['maxReplicas'] = '4'", "must be integers"),
        ("groups[1]['rayStartParams']['num-cpus'] = 16", "values must be strings"),
        ("groups[1]['rayStartParams']['resources'] = '{\"rollout\": 16}'", "must be quoted"),
        ("groups[2]['rayStartParams']['resources'] = quoted({'proxies': 8})", "unknown role 'proxies'"),
        ("del groups[0]['rayStartParams']['resources']", "must advertise `teacher`"),
        ("spec['headGroupSpec']['rayStartParams']['resources'] = quoted({'rollout': 1})", "the head must not"),
        ("del groups[2]['template']['spec']['containers'][0]['resources']", "resources.limits"),
        ("spec['rayVersion'] = '2.9.0'", "rayVersion"),
        ("record['apiVersion'] = 'ray.io/v1alpha1'", "apiVersion"),
    ],
)
def test_raycluster_validator_rejects(change: str, message: str) -> None:
    record = _load("kuberay-raycluster.yaml")
    names = {"record": record, "spec": record["spec"], "groups": record["spec"]["workerGroupSpecs"]}
    exec(change, {"quoted": lambda d: json.dumps(json.dumps(d))}, names)
    with pytest.raises(ValueError, match=message):
        check_raycluster(record, "kuberay-raycluster.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("spec['runtimeEnvYAML'] = spec['runtimeEnvYAML'].replace('env_vars:', 'env_var:')", "unknown runtime env"),
        ("spec['runtimeEnvYAML'] = '- not a mapping'", "must hold a YAML mapping"),
        ("spec['runtimeEnvYAML'] = spec['runtimeEnvYAML'].replace('https://example.com/raytool.zip', '.')", "remote"),
        ("del spec['entrypoint']", "entrypoint must be a command"),
        ("spec['entrypoint'] = spec['entrypoint'].replace('train-roles', 'missing')", "does not exist"),
        ("spec['shutdownAfterJobFinishes'] = 'yes'", "must be bool"),
        ("spec['rayClusterSpec']['workerGroupSpecs'][1]['replicas'] = 9", "minReplicas <= replicas"),
    ],
)
def test_rayjob_validator_rejects(change: str, message: str) -> None:
    record = _load("kuberay-rayjob.yaml")
    exec(change, {}, {"spec": record["spec"]})
    with pytest.raises(ValueError, match=message):
        check_rayjob(record, "kuberay-rayjob.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "deps['ProxyModel-cpn']['autoscaling_confg'] = deps['ProxyModel-cpn'].pop('autoscaling_config')",
            "autoscaling_confg",
        ),
        ("deps['ProxyModel-cpn']['autoscaling_config']['max_replica'] = 16", "max_replica"),
        ("deps['ProxyModel-cpn']['autoscaling_config']['max_replicas'] = 0", "max_replicas"),
        ("deps['Router']['ray_actor_options']['num_cpu'] = 1", "num_cpu"),
        ("deps['Router']['ray_actor_options']['resources'] = {'proxi': 0.5}", "unknown role 'proxi'"),
        ("app['route_prefx'] = app.pop('route_prefix')", "route_prefx"),
        ("app['runtime_env']['env_var'] = app['runtime_env'].pop('env_vars')", "unknown runtime env key"),
        ("del app['import_path']", "import_path"),
        ("deps['Router']['name'] = 'ProxyModel'", "'ProxyModel' is not one of the app's deployments"),
        ("app['args']['teacher']['num_gpu'] = 1", "args.teacher: unknown key 'num_gpu'"),
        ("config['http_options']['hots'] = '0.0.0.0'", "hots"),
    ],
)
def test_rayservice_validator_rejects(change: str, message: str) -> None:
    record = _load("kuberay-rayservice.yaml")
    config = yaml.safe_load(record["spec"]["serveConfigV2"])
    app = config["applications"][0]
    exec(change, {}, {"config": config, "app": app, "deps": {d["name"]: d for d in app["deployments"]}})
    record["spec"]["serveConfigV2"] = yaml.safe_dump(config)
    with pytest.raises(ValueError, match=message):
        check_rayservice(record, "kuberay-rayservice.yaml")


def test_rayservice_needs_its_cluster_under_rayclusterconfig() -> None:
    record = _load("kuberay-rayservice.yaml")
    record["spec"]["rayClusterSpec"] = record["spec"].pop("rayClusterConfig")
    with pytest.raises(ValueError, match="must be a mapping"):
        check_rayservice(record, "kuberay-rayservice.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"env_var": {"A": "1"}}, "unknown runtime env key"),
        ({"env_vars": {"OMP_NUM_THREADS": 1}}, "must be of type Dict"),
        ({"working_dir": "no/such/dir"}, "not a valid path|is not a directory"),
        ({"excludes": ".git"}, "excludes"),
    ],
)
def test_runtime_env_validator_rejects(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_runtime_env(_load("runtime_env.yaml") | change, "runtime_env.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"num_gpu": 1}, "teacher: unknown key 'num_gpu'"),
        ({"backend": "tgi"}, "teacher.backend must be one of"),
        ({"resources": {"teachers": 1}}, "unknown role 'teachers'"),
    ],
)
def test_teacher_validator_rejects(tmp_path: Path, change: dict, message: str) -> None:
    record = _load("teacher-gpu.yaml")
    record["teacher"] |= change
    with pytest.raises(ValueError, match=message):
        check_teacher_file(write_yaml(tmp_path, "teacher-gpu.yaml", record))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("decider", "num_env_runner"), 8, "unknown key 'num_env_runner'"),
        (("decider", "runner_resources"), {"rollouts": 1}, "unknown role 'rollouts'"),
        (("agent", "proxy_resource"), {"proxy": 1}, "unknown key 'proxy_resource'"),
        (("agent", "proxy_resources"), {"cpu_nodes": 1}, "unknown role 'cpu_nodes'"),
        (("agents", "train_tasks"), 4, "<top>: unknown key 'agents'"),
    ],
)
def test_train_validator_rejects(tmp_path: Path, path: tuple[str, str], value: object, message: str) -> None:
    record = copy.deepcopy(_load("train-roles.yaml"))
    record.setdefault(path[0], {})[path[1]] = value
    with pytest.raises(ValueError, match=message):
        check_train_file(write_yaml(tmp_path, "train-roles.yaml", record))


def test_fits_rejects_a_request_no_node_can_hold() -> None:
    nodes = check_ray_up(_load("ray-cluster.yaml"), "ray-cluster.yaml")
    assert fits({"CPU": 1, "GPU": 1, "teacher": 1}, nodes, "x") == "teacher_gpu"
    with pytest.raises(ValueError, match="no node type can hold"):
        fits({"CPU": 1, "GPU": 2, "teacher": 2}, nodes, "x")
    with pytest.raises(ValueError, match="no node type can hold"):
        fits({"CPU": 1, "rollout": 1, "proxy": 1}, nodes, "x")
