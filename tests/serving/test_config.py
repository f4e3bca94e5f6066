"""Every serve/*.yaml passes Serve's schema and the strict key check; misspellings are named with their path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from raytool.serving.config import (
    REPLICA_METRICS,
    ServeConfigError,
    check_serve_config,
    load_serve_config,
    with_replica_metrics,
)

SERVE = Path(__file__).resolve().parents[2] / "serve"


def test_the_folder_has_serve_configs() -> None:
    assert sorted(SERVE.glob("*.yaml"))


@pytest.mark.parametrize("path", sorted(SERVE.glob("*.yaml")), ids=lambda p: p.name)
def test_every_serve_config_validates(path: Path) -> None:
    config = load_serve_config(path)
    assert config.http_options.host == "127.0.0.1"  # never 0.0.0.0 by accident
    for app in config.applications:
        for deployment in app.deployments:
            assert 0 < deployment.ray_actor_options.num_cpus <= 1, "fractional CPUs"
        # `serve deploy FILE` (Serve's own CLI) autoscales on replica-reported load too
        assert app.runtime_env["env_vars"].items() >= REPLICA_METRICS.items()


def test_deploy_makes_every_app_autoscale_on_what_replicas_report() -> None:
    record = _base()
    record["applications"][0].pop("runtime_env")
    second = {**record["applications"][0], "name": "other", "route_prefix": "/other",
              "runtime_env": {"env_vars": {"A": "1"}, "pip": ["x"]}}  # fmt: skip
    record["applications"].append(second)
    config = with_replica_metrics(check_serve_config(record, "test"))
    first, other = config.applications
    assert first.runtime_env == {"env_vars": REPLICA_METRICS}
    assert other.runtime_env == {"env_vars": {**REPLICA_METRICS, "A": "1"}, "pip": ["x"]}  # the rest kept
    record["applications"][0]["runtime_env"] = {"env_vars": {"RAY_SERVE_COLLECT_AUTOSCALING_METRICS_ON_HANDLE": "1"}}
    (first, _) = with_replica_metrics(check_serve_config(record, "test")).applications
    assert first.runtime_env["env_vars"]["RAY_SERVE_COLLECT_AUTOSCALING_METRICS_ON_HANDLE"] == "1"  # a user's choice
    assert with_replica_metrics(config) == config  # applying it again changes nothing (no replica restarts)


def _base() -> dict:
    return yaml.safe_load((SERVE / "raytool.yaml").read_text())


BAD = [
    (lambda r: r["http_options"].update(hots="x"), "http_options: unknown key 'hots'"),
    (lambda r: r["applications"][0].update(import_pth="x"), "applications[0]: unknown key 'import_pth'"),
    (lambda r: r["applications"][0]["deployments"][1].update(num_replica=2), "[1]: unknown key 'num_replica'"),
    (lambda r: r["applications"][0]["deployments"][1]["autoscaling_config"].update(max_replica=3),
     "autoscaling_config: unknown key 'max_replica'"),
    (lambda r: r["applications"][0]["deployments"][1]["autoscaling_config"].update(min_replicas=3),
     "min_replicas"),
    (lambda r: r["applications"][0]["deployments"][0]["ray_actor_options"].update(num_cpu=1), "unknown key 'num_cpu'"),
    (lambda r: r["applications"][0]["args"].update(checkpoint="x"), "args: unknown key 'checkpoint'"),
    (lambda r: r["applications"][0]["args"].pop("decider"), "args.decider: required"),
    (lambda r: r.pop("applications"), "applications"),
    (lambda r: r["applications"][0]["args"].update(teacher={"backnd": "vllm"}), "args.teacher: unknown key 'backnd'"),
    (lambda r: r["applications"][0]["args"].update(teacher={"backend": "tgi"}), "teacher.backend must be one of"),
    (lambda r: r["applications"][0]["args"].update(planner={"mode": "always"}), "args.planner: unknown key 'mode'"),
    (lambda r: r["applications"][0]["args"].update(planner=[1]), "args.planner: a mapping"),
    (lambda r: r["applications"][0]["deployments"][1].update(name="ProxyModel"), "not one of the app's deployments"),
    (lambda r: r["applications"][0]["args"].update(domains=["cpn"]), "'ProxyModel-travel' is not one of"),
    (lambda r: r["applications"][0]["args"].update(theta=1.5), "args.theta: a number in [0, 1]"),
    (lambda r: r["applications"][0]["args"].update(theta="high"), "args.theta: a number in [0, 1]"),
    (lambda r: r["applications"][0]["args"].update(need=-0.5), "args.need: a number in [0, 1]"),
    (lambda r: r["applications"][0]["args"].update(need=True), "args.need: a number in [0, 1]"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_serve_configs_are_named(change, message) -> None:
    record = _base()
    change(record)
    with pytest.raises((ServeConfigError, ValueError)) as err:
        check_serve_config(record, "serve/raytool.yaml")
    assert message in str(err.value), str(err.value)
