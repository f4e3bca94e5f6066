"""Stage `scheduling`, planning side: score and rank placements, plan them, check SLAs, paths and failover."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from raytool.envs.suite import Conflict, InvalidArgument, Range
from raytool.envs.suites.cpn.model import Demand, Node, Plan
from raytool.envs.suites.cpn.placement import (
    candidate_nodes,
    fit_issues,
    home_latency_ms,
    hourly_cost,
    placement_score,
)
from raytool.envs.suites.cpn.suite import SUITE
from raytool.envs.suites.cpn.types import DemandId, NodeId, PlanId, PlanRecord, RegionName, SiteId, SlaTierName
from raytool.envs.suites.cpn.world import CPNWorld

Strategy = Literal["balanced", "cheapest", "fastest", "green"]


class PlacementScore(TypedDict):
    demand_id: DemandId
    node_id: NodeId
    strategy: str
    fits: bool
    score: float
    hourly_cost: float
    latency_ms: float
    issues: list[str]


class RankedPlacement(TypedDict):
    rank: int
    node_id: NodeId
    site_id: SiteId
    score: float
    hourly_cost: float


class PlacementRanking(TypedDict):
    demand_id: DemandId
    strategy: str
    ranking: list[RankedPlacement]


class PathCost(TypedDict):
    site_a: SiteId
    site_b: SiteId
    path: list[SiteId]
    latency_ms: float
    bottleneck_gbps: int
    transfer_hours: float
    transfer_cost: float


class SlaFeasibility(TypedDict):
    plan_id: PlanId
    sla_tier: SlaTierName
    feasible: bool
    latency_ms: float
    max_latency_ms: int
    site_availability_percent: float
    required_availability_percent: float
    reasons: list[str]


class RegionOption(TypedDict):
    region: RegionName
    candidate_nodes: int
    cheapest_hourly_cost: float
    latency_ms: float


class RegionRecommendation(TypedDict):
    demand_id: DemandId
    regions: list[RegionOption]


class FailoverPlan(TypedDict):
    plan_id: PlanId
    primary_node_id: NodeId
    backup_node_id: NodeId
    backup_site_id: SiteId
    backup_region: RegionName
    latency_between_ms: float
    backup_hourly_cost: float


def plan_record(world: CPNWorld, plan: Plan) -> PlanRecord:
    node = world.nodes[plan.node_id]
    return {
        "plan_id": plan.plan_id,
        "demand_id": plan.demand_id,
        "node_id": plan.node_id,
        "site_id": node.site_id,
        "region": world.region_of_node(node),
        "strategy": plan.strategy,
        "score": plan.score,
        "hourly_cost": plan.hourly_cost,
        "total_cost": round(plan.hourly_cost * world.demands[plan.demand_id].hours, 2),
        "status": plan.status,
    }


def _plannable(demand: Demand) -> Demand:
    if demand.status not in ("submitted", "planned"):
        raise Conflict(f"demand {demand.demand_id} is {demand.status}; only open demands can be planned")
    return demand


def _create_plan(world: CPNWorld, demand: Demand, node: Node, strategy: str) -> PlanRecord:
    plan = Plan(
        plan_id=world.new_id("pln"),
        demand_id=demand.demand_id,
        node_id=node.node_id,
        strategy=strategy,
        score=placement_score(world, demand, node, "balanced" if strategy == "manual" else strategy),
        hourly_cost=hourly_cost(world, demand, node),
    )
    world.plans[plan.plan_id] = plan
    demand.status = "planned"
    return plan_record(world, plan)


@SUITE.tool(stage="scheduling", question="how well would node {node_id} suit demand {demand_id}")
def score_placement(
    world: CPNWorld, demand_id: DemandId, node_id: NodeId, strategy: Strategy = "balanced"
) -> PlacementScore:
    """Score (0-100) placing a demand on one node; a node that cannot host it scores 0 and says why.

    Args:
        demand_id: the demand to place.
        node_id: the node to evaluate.
        strategy: what the score favours: low price, low latency to the tenant, low carbon, or a balance.
    """
    demand, node = world.demand(demand_id), world.node(node_id)
    issues = fit_issues(world, demand, node)
    return {
        "demand_id": demand_id,
        "node_id": node_id,
        "strategy": strategy,
        "fits": not issues,
        "score": placement_score(world, demand, node, strategy),
        "hourly_cost": hourly_cost(world, demand, node),
        "latency_ms": home_latency_ms(world, demand, node),
        "issues": issues,
    }


@SUITE.tool(stage="scheduling", question="rank the best placements for demand {demand_id}")
def rank_placements(
    world: CPNWorld,
    demand_id: DemandId,
    strategy: Strategy = "balanced",
    limit: Annotated[int, Range(1, 10)] = 5,
) -> PlacementRanking:
    """Rank the nodes that can host a demand by placement score, best first.

    Args:
        demand_id: the demand to place.
        strategy: what the ranking favours.
        limit: at most this many placements.
    """
    demand = world.demand(demand_id)
    scored = [(placement_score(world, demand, node, strategy), node) for node in candidate_nodes(world, demand)]
    scored.sort(key=lambda pair: (-pair[0], pair[1].node_id))
    ranking: list[RankedPlacement] = [
        {
            "rank": rank,
            "node_id": node.node_id,
            "site_id": node.site_id,
            "score": score,
            "hourly_cost": hourly_cost(world, demand, node),
        }
        for rank, (score, node) in enumerate(scored[:limit], start=1)
    ]
    return {"demand_id": demand_id, "strategy": strategy, "ranking": ranking}


@SUITE.tool(stage="scheduling", question="plan placing demand {demand_id} on node {node_id}")
def plan_placement(world: CPNWorld, demand_id: DemandId, node_id: NodeId) -> PlanRecord:
    """Draft a placement plan that puts a demand on a chosen node, with its hourly and total cost.

    Args:
        demand_id: the demand to place.
        node_id: the node to place it on (e.g. one returned by find_candidate_nodes).
    """
    demand, node = _plannable(world.demand(demand_id)), world.node(node_id)
    issues = fit_issues(world, demand, node)
    if issues:
        raise Conflict(f"node {node_id} cannot host demand {demand_id}: {'; '.join(issues)}")
    return _create_plan(world, demand, node, "manual")


@SUITE.tool(stage="scheduling", question="automatically schedule demand {demand_id}")
def auto_place_demand(world: CPNWorld, demand_id: DemandId, strategy: Strategy = "balanced") -> PlanRecord:
    """Let the scheduler pick the best-scoring node for a demand and draft the placement plan.

    Args:
        demand_id: the demand to place.
        strategy: what the scheduler favours.
    """
    demand = _plannable(world.demand(demand_id))
    candidates = candidate_nodes(world, demand)
    if not candidates:
        raise Conflict(f"no online node can host demand {demand_id} now")
    best = max(candidates, key=lambda node: (placement_score(world, demand, node, strategy), node.node_id))
    return _create_plan(world, demand, best, strategy)


@SUITE.tool(stage="scheduling", question="show placement plan {plan_id}")
def get_plan(world: CPNWorld, plan_id: PlanId) -> PlanRecord:
    """Fetch a placement plan: its demand, node, site, score, costs and status.

    Args:
        plan_id: the plan, e.g. "pln-0001".
    """
    return plan_record(world, world.plan(plan_id))


@SUITE.tool(stage="scheduling", question="what would moving {data_gb} GB from {site_a} to {site_b} cost")
def compute_path_cost(
    world: CPNWorld, site_a: SiteId, site_b: SiteId, data_gb: Annotated[float, Range(1, 100000)]
) -> PathCost:
    """Cost and duration of moving data between two sites over the lowest-latency path.

    Args:
        site_a: the site the data leaves.
        site_b: the site the data goes to.
        data_gb: amount of data in GB.
    """
    world.site(site_a), world.site(site_b)
    if site_a == site_b:
        raise InvalidArgument(f"site_a and site_b are both {site_a!r}; give two different sites")
    route = world.route(site_a, site_b)
    return {
        "site_a": site_a,
        "site_b": site_b,
        "path": route.path,
        "latency_ms": route.latency_ms,
        "bottleneck_gbps": route.bandwidth_gbps,
        "transfer_hours": round(data_gb * 8 / route.bandwidth_gbps / 3600, 3),
        "transfer_cost": round(data_gb * route.cost_per_gb, 2),
    }


@SUITE.tool(stage="scheduling", question="does placement plan {plan_id} meet its SLA")
def check_sla_feasibility(world: CPNWorld, plan_id: PlanId) -> SlaFeasibility:
    """Check whether a plan meets its demand's SLA tier: latency to the tenant and site availability.

    Args:
        plan_id: the plan to check.
    """
    plan = world.plan(plan_id)
    demand, node = world.demands[plan.demand_id], world.nodes[plan.node_id]
    tier, site = world.sla_tiers[demand.sla_tier], world.sites[node.site_id]
    latency = home_latency_ms(world, demand, node)
    reasons = []
    if latency > tier.max_latency_ms:
        reasons.append(f"latency {latency} ms exceeds {tier.max_latency_ms} ms")
    if site.availability_percent < tier.availability_percent:
        reasons.append(f"site availability {site.availability_percent}% is below {tier.availability_percent}%")
    return {
        "plan_id": plan_id,
        "sla_tier": tier.name,
        "feasible": not reasons,
        "latency_ms": latency,
        "max_latency_ms": tier.max_latency_ms,
        "site_availability_percent": site.availability_percent,
        "required_availability_percent": tier.availability_percent,
        "reasons": reasons,
    }


@SUITE.tool(stage="scheduling", question="which region suits demand {demand_id} best")
def recommend_region(world: CPNWorld, demand_id: DemandId) -> RegionRecommendation:
    """Compare regions for a demand: how many nodes fit, the cheapest hourly cost and latency to the tenant.

    Args:
        demand_id: the demand to place.
    """
    demand = world.demand(demand_id)
    by_region: dict[str, list[Node]] = {}
    for node in candidate_nodes(world, demand):
        by_region.setdefault(world.region_of_node(node), []).append(node)
    options: list[RegionOption] = [
        {
            "region": region,
            "candidate_nodes": len(nodes),
            "cheapest_hourly_cost": hourly_cost(world, demand, nodes[0]),
            "latency_ms": min(home_latency_ms(world, demand, node) for node in nodes),
        }
        for region, nodes in by_region.items()
    ]
    options.sort(key=lambda option: (option["cheapest_hourly_cost"], option["latency_ms"], option["region"]))
    return {"demand_id": demand_id, "regions": options}


@SUITE.tool(stage="scheduling", question="find a failover node for placement plan {plan_id}")
def plan_failover(world: CPNWorld, plan_id: PlanId) -> FailoverPlan:
    """Pick a backup node on another site for a plan: the nearest site with a node that could take over.

    Args:
        plan_id: the plan to protect.
    """
    plan = world.plan(plan_id)
    demand, primary = world.demands[plan.demand_id], world.nodes[plan.node_id]
    backups = [node for node in candidate_nodes(world, demand) if node.site_id != primary.site_id]
    if not backups:
        raise Conflict(f"no node on another site can take over plan {plan_id}")
    backup = min(backups, key=lambda node: (world.latency_ms(primary.site_id, node.site_id), node.node_id))
    return {
        "plan_id": plan_id,
        "primary_node_id": primary.node_id,
        "backup_node_id": backup.node_id,
        "backup_site_id": backup.site_id,
        "backup_region": world.region_of_node(backup),
        "latency_between_ms": world.latency_ms(primary.site_id, backup.site_id),
        "backup_hourly_cost": hourly_cost(world, demand, backup),
    }
