"""Placement rules shared by discovery and scheduling: does a demand fit a node, what it costs, how it scores."""

from __future__ import annotations

from raytool.envs.suites.cpn.model import Demand, Node
from raytool.envs.suites.cpn.world import CPNWorld

# strategy -> weights of (price, latency, carbon) in a placement score
STRATEGY_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "cheapest": (0.8, 0.1, 0.1),
    "fastest": (0.1, 0.8, 0.1),
    "green": (0.1, 0.1, 0.8),
    "balanced": (0.5, 0.3, 0.2),
}


def fit_issues(world: CPNWorld, demand: Demand, node: Node) -> list[str]:
    """Why `node` cannot host `demand` now; empty when it can."""
    issues = []
    if node.status != "online":
        issues.append(f"node {node.node_id} is {node.status}")
    if node.free_cpu_cores < demand.cpu_cores:
        issues.append(f"needs {demand.cpu_cores} cores, {node.free_cpu_cores} free")
    if node.free_memory_gb < demand.memory_gb:
        issues.append(f"needs {demand.memory_gb} GB memory, {node.free_memory_gb} GB free")
    if node.free_gpus < demand.gpu_count:
        issues.append(f"needs {demand.gpu_count} GPUs, {node.free_gpus} free")
    if demand.gpu_count and demand.gpu_model and node.gpu_model != demand.gpu_model:
        issues.append(f"needs {demand.gpu_model} GPUs, node has {node.gpu_model or 'none'}")
    if demand.region and world.region_of_node(node) != demand.region:
        issues.append(f"needs region {demand.region}, node is in {world.region_of_node(node)}")
    return issues


def hourly_cost(world: CPNWorld, demand: Demand, node: Node) -> float:
    """Price of one hour of the demand on the node, SLA premium included."""
    base = demand.cpu_cores * node.core_price + demand.memory_gb * node.memory_price + demand.gpu_count * node.gpu_price
    return round(base * world.sla_tiers[demand.sla_tier].price_multiplier, 2)


def home_latency_ms(world: CPNWorld, demand: Demand, node: Node) -> float:
    """Latency from the tenant's home site to the node's site."""
    return world.latency_ms(world.tenants[demand.tenant_id].home_site_id, node.site_id)


def candidate_nodes(world: CPNWorld, demand: Demand) -> list[Node]:
    """Nodes that can host the demand now, cheapest first."""
    fitting = [node for node in world.nodes.values() if not fit_issues(world, demand, node)]
    return sorted(fitting, key=lambda node: (hourly_cost(world, demand, node), node.node_id))


def placement_score(world: CPNWorld, demand: Demand, node: Node, strategy: str) -> float:
    """0-100: how good the node is for the demand under a strategy; 0 when it does not fit."""
    if fit_issues(world, demand, node):
        return 0.0
    cheapest = min(hourly_cost(world, demand, other) for other in candidate_nodes(world, demand))
    cost = hourly_cost(world, demand, node)
    price_score = 100.0 if cost == 0 else 100.0 * cheapest / cost
    max_latency = world.sla_tiers[demand.sla_tier].max_latency_ms
    latency_score = max(0.0, 100.0 * (1 - home_latency_ms(world, demand, node) / max_latency))
    site = world.sites[node.site_id]
    green_score = max(0.0, 100.0 * (1 - site.carbon_g_per_kwh * site.pue / 1000))
    price_weight, latency_weight, green_weight = STRATEGY_WEIGHTS[strategy]
    return round(price_weight * price_score + latency_weight * latency_score + green_weight * green_score, 1)
