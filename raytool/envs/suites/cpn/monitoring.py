"""Stage `monitoring_billing`, monitoring side: deployment metrics, health, anomalies, alerts, site load, carbon.

Metrics are simulated but deterministic: they are drawn from a generator seeded with the world's seed, the
deployment id and its image, never from global random state or the clock.
"""

from __future__ import annotations

import random
import statistics
from typing import Annotated, Literal, TypedDict

from raytool.envs.suite import Conflict, Range
from raytool.envs.suites.cpn.model import AlertRule, Deployment
from raytool.envs.suites.cpn.provisioning import running
from raytool.envs.suites.cpn.suite import SUITE
from raytool.envs.suites.cpn.types import AlertRuleId, DeploymentId, NodeId, SiteId
from raytool.envs.suites.cpn.world import CPNWorld

Metric = Literal["cpu_util_percent", "gpu_util_percent", "memory_util_percent"]
# image category -> typical (cpu, gpu, memory) utilisation in percent
_BASE_LOAD = {
    "ml-training": (55.0, 88.0, 70.0),
    "ml-inference": (35.0, 60.0, 50.0),
    "analytics": (65.0, 20.0, 60.0),
    "database": (40.0, 0.0, 75.0),
    "web": (25.0, 0.0, 35.0),
    "os": (30.0, 0.0, 40.0),
}
# window -> (number of samples, hours between samples)
_WINDOWS = {"1h": (12, 1 / 12), "24h": (24, 1.0), "7d": (28, 6.0)}
_ZSCORE_LIMITS = {"low": 3.5, "medium": 2.5, "high": 1.8}
_WATTS_PER_CORE, _WATTS_PER_GPU = 6.0, 350.0


class MetricSample(TypedDict):
    hour: float
    cpu_util_percent: float
    gpu_util_percent: float
    memory_util_percent: float


class DeploymentMetrics(TypedDict):
    deployment_id: DeploymentId
    window: str
    cpu_util_percent: float
    gpu_util_percent: float
    memory_util_percent: float
    samples: list[MetricSample]


class NodeHealth(TypedDict):
    node_id: NodeId
    status: str
    healthy: bool
    temperature_c: float
    ecc_errors: int
    running_deployments: int
    issues: list[str]


class DeploymentHealth(TypedDict):
    deployment_id: DeploymentId
    node_id: NodeId
    node_status: str
    healthy: bool
    replicas: int
    replicas_ready: int
    restart_count: int
    issues: list[str]


class Anomaly(TypedDict):
    hour: float
    metric: str
    value: float
    zscore: float


class AnomalyReport(TypedDict):
    deployment_id: DeploymentId
    sensitivity: str
    anomalies: list[Anomaly]


class SiteUtilization(TypedDict):
    site_id: SiteId
    cpu_util_percent: float
    memory_util_percent: float
    gpu_util_percent: float
    power_kw: float
    carbon_kg_per_hour: float


class CarbonEstimate(TypedDict):
    deployment_id: DeploymentId
    site_id: SiteId
    hours: int
    energy_kwh: float
    carbon_kg: float


class AlertRuleRecord(TypedDict):
    alert_rule_id: AlertRuleId
    deployment_id: DeploymentId
    metric: str
    threshold: float
    current_value: float
    firing: bool


class AlertBreach(TypedDict):
    hour: float
    value: float


class AlertEvaluation(TypedDict):
    alert_rule_id: AlertRuleId
    metric: str
    threshold: float
    firing: bool
    breaches: list[AlertBreach]


def metric_samples(world: CPNWorld, deployment: Deployment, window: str) -> list[MetricSample]:
    """The deployment's simulated utilisation samples over a window, oldest first."""
    count, step = _WINDOWS[window]
    rng = random.Random(f"{world.seed}/{deployment.deployment_id}/{deployment.image}/{window}")
    cpu, gpu, memory = _BASE_LOAD[world.images[deployment.image].category]
    has_gpu = world.reservations[deployment.reservation_id].gpu_count > 0
    spike = rng.randrange(count) if rng.random() < 0.6 else -1
    samples: list[MetricSample] = []
    for index in range(count):
        cpu_value = 99.0 if index == spike else min(100.0, max(1.0, rng.gauss(cpu, 6)))
        samples.append(
            {
                "hour": round(index * step, 2),
                "cpu_util_percent": round(cpu_value, 1),
                "gpu_util_percent": round(min(100.0, max(0.0, rng.gauss(gpu, 5))), 1) if has_gpu and gpu else 0.0,
                "memory_util_percent": round(min(100.0, max(1.0, rng.gauss(memory, 4))), 1),
            }
        )
    return samples


def _mean(samples: list[MetricSample], metric: str) -> float:
    return round(statistics.fmean(sample[metric] for sample in samples), 1)


@SUITE.tool(stage="monitoring_billing", question="how busy is deployment {deployment_id}")
def get_deployment_metrics(
    world: CPNWorld, deployment_id: DeploymentId, window: Literal["1h", "24h", "7d"] = "24h"
) -> DeploymentMetrics:
    """CPU, GPU and memory utilisation of a running deployment over a time window, averages and samples.

    Args:
        deployment_id: the deployment to measure.
        window: how far back to look.
    """
    samples = metric_samples(world, running(world, deployment_id), window)
    return {
        "deployment_id": deployment_id,
        "window": window,
        "cpu_util_percent": _mean(samples, "cpu_util_percent"),
        "gpu_util_percent": _mean(samples, "gpu_util_percent"),
        "memory_util_percent": _mean(samples, "memory_util_percent"),
        "samples": samples,
    }


@SUITE.tool(stage="monitoring_billing", question="is node {node_id} healthy")
def check_node_health(world: CPNWorld, node_id: NodeId) -> NodeHealth:
    """Health check of a compute node: status, temperature, memory ECC errors and running deployments.

    Args:
        node_id: the node to check.
    """
    node = world.node(node_id)
    rng = random.Random(f"{world.seed}/{node_id}/health")
    temperature = round(rng.uniform(38, 62) + (18 if node.status == "degraded" else 0), 1)
    ecc_errors = rng.randint(0, 3) + (40 if node.status == "degraded" else 0)
    issues = [] if node.status == "online" else [f"node is {node.status}"]
    if temperature > 75:
        issues.append(f"temperature {temperature} C is above 75 C")
    if ecc_errors > 10:
        issues.append(f"{ecc_errors} ECC memory errors")
    deployments = [d for d in world.deployments.values() if d.node_id == node_id and d.status == "running"]
    return {
        "node_id": node_id,
        "status": node.status,
        "healthy": not issues,
        "temperature_c": temperature,
        "ecc_errors": ecc_errors,
        "running_deployments": len(deployments),
        "issues": issues,
    }


@SUITE.tool(stage="monitoring_billing", question="is deployment {deployment_id} healthy")
def check_deployment_health(world: CPNWorld, deployment_id: DeploymentId) -> DeploymentHealth:
    """Health of a deployment: its node's status, how many replicas are ready, and restarts.

    Args:
        deployment_id: the deployment to check.
    """
    deployment = world.deployment(deployment_id)
    node = world.nodes[deployment.node_id]
    issues = []
    if deployment.status != "running":
        issues.append(f"deployment is {deployment.status}")
    if node.status != "online":
        issues.append(f"node {node.node_id} is {node.status}")
    if deployment.restart_count >= 3:
        issues.append(f"restarted {deployment.restart_count} times")
    ready = deployment.replicas if deployment.status == "running" and node.status == "online" else 0
    return {
        "deployment_id": deployment_id,
        "node_id": node.node_id,
        "node_status": node.status,
        "healthy": not issues,
        "replicas": deployment.replicas,
        "replicas_ready": ready,
        "restart_count": deployment.restart_count,
        "issues": issues,
    }


@SUITE.tool(stage="monitoring_billing", question="are there anomalies in the metrics of deployment {deployment_id}")
def detect_anomalies(
    world: CPNWorld, deployment_id: DeploymentId, sensitivity: Literal["low", "medium", "high"] = "medium"
) -> AnomalyReport:
    """Find utilisation samples of the last 24 hours that stand out from the rest (z-score test).

    Args:
        deployment_id: the deployment to inspect.
        sensitivity: how unusual a sample must be to count; "high" flags more.
    """
    samples = metric_samples(world, running(world, deployment_id), "24h")
    anomalies: list[Anomaly] = []
    for metric in ("cpu_util_percent", "gpu_util_percent", "memory_util_percent"):
        values = [sample[metric] for sample in samples]
        spread = statistics.pstdev(values)
        if spread == 0:
            continue
        center = statistics.fmean(values)
        for sample, value in zip(samples, values, strict=True):
            zscore = (value - center) / spread
            if abs(zscore) >= _ZSCORE_LIMITS[sensitivity]:
                anomalies.append({"hour": sample["hour"], "metric": metric, "value": value, "zscore": round(zscore, 2)})
    return {"deployment_id": deployment_id, "sensitivity": sensitivity, "anomalies": anomalies}


@SUITE.tool(stage="monitoring_billing", question="how loaded is site {site_id} and how much power does it draw")
def get_site_utilization(world: CPNWorld, site_id: SiteId) -> SiteUtilization:
    """Allocated share of a site's cores, memory and GPUs, with its power draw and carbon emissions.

    Args:
        site_id: the site to report on.
    """
    site = world.site(site_id)
    nodes = [node for node in world.nodes.values() if node.site_id == site_id]
    cores, gpus = sum(n.cpu_allocated for n in nodes), sum(n.gpus_allocated for n in nodes)
    power_kw = round((cores * _WATTS_PER_CORE + gpus * _WATTS_PER_GPU) * site.pue / 1000, 2)

    def share(used: int, total: int) -> float:
        return round(100 * used / total, 1) if total else 0.0

    return {
        "site_id": site_id,
        "cpu_util_percent": share(cores, sum(n.cpu_cores for n in nodes)),
        "memory_util_percent": share(sum(n.memory_allocated for n in nodes), sum(n.memory_gb for n in nodes)),
        "gpu_util_percent": share(gpus, sum(n.gpu_count for n in nodes)),
        "power_kw": power_kw,
        "carbon_kg_per_hour": round(power_kw * site.carbon_g_per_kwh / 1000, 3),
    }


@SUITE.tool(stage="monitoring_billing", question="what is the carbon footprint of deployment {deployment_id}")
def estimate_carbon_footprint(world: CPNWorld, deployment_id: DeploymentId) -> CarbonEstimate:
    """Energy use and carbon emissions of a deployment over its reserved hours at its site's power mix.

    Args:
        deployment_id: the deployment to assess.
    """
    deployment = world.deployment(deployment_id)
    reservation = world.reservations[deployment.reservation_id]
    site = world.sites[world.nodes[deployment.node_id].site_id]
    watts = (reservation.cpu_cores * _WATTS_PER_CORE + reservation.gpu_count * _WATTS_PER_GPU) * deployment.replicas
    energy_kwh = round(watts * site.pue * reservation.hours / 1000, 2)
    return {
        "deployment_id": deployment_id,
        "site_id": site.site_id,
        "hours": reservation.hours,
        "energy_kwh": energy_kwh,
        "carbon_kg": round(energy_kwh * site.carbon_g_per_kwh / 1000, 2),
    }


@SUITE.tool(
    stage="monitoring_billing", question="alert when {metric} of deployment {deployment_id} exceeds {threshold}"
)
def create_alert_rule(
    world: CPNWorld, deployment_id: DeploymentId, metric: Metric, threshold: Annotated[float, Range(1, 100)]
) -> AlertRuleRecord:
    """Create an alert that fires when a utilisation metric of a running deployment goes above a threshold.

    Args:
        deployment_id: the deployment to watch.
        metric: the utilisation metric to watch.
        threshold: the percentage above which the alert fires.
    """
    deployment = running(world, deployment_id)
    rule = AlertRule(world.new_id("alr"), deployment_id, metric, threshold)
    world.alert_rules[rule.alert_rule_id] = rule
    current = metric_samples(world, deployment, "1h")[-1][metric]
    return {
        "alert_rule_id": rule.alert_rule_id,
        "deployment_id": deployment_id,
        "metric": metric,
        "threshold": threshold,
        "current_value": current,
        "firing": current > threshold,
    }


@SUITE.tool(stage="monitoring_billing", question="has alert rule {alert_rule_id} fired in the last day")
def evaluate_alert_rule(world: CPNWorld, alert_rule_id: AlertRuleId) -> AlertEvaluation:
    """Replay an alert rule over the last 24 hours of its deployment's metrics and list the breaches.

    Args:
        alert_rule_id: the alert rule, e.g. "alr-0001".
    """
    rule = world.alert_rule(alert_rule_id)
    deployment = world.deployments[rule.deployment_id]
    if deployment.status != "running":
        raise Conflict(f"deployment {deployment.deployment_id} of alert rule {alert_rule_id} is {deployment.status}")
    breaches: list[AlertBreach] = [
        {"hour": sample["hour"], "value": sample[rule.metric]}
        for sample in metric_samples(world, deployment, "24h")
        if sample[rule.metric] > rule.threshold
    ]
    return {
        "alert_rule_id": alert_rule_id,
        "metric": rule.metric,
        "threshold": rule.threshold,
        "firing": bool(breaches) and breaches[-1]["hour"] == 23.0,
        "breaches": breaches,
    }
