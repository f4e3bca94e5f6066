"""Stage `demand_intake`: tenants submit, size, amend and check compute demands against their quotas."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from raytool.envs.suite import Conflict, InvalidArgument, QuotaExceeded, Range, raise_not_found
from raytool.envs.suites.cpn import catalogue
from raytool.envs.suites.cpn.model import Demand, Tenant
from raytool.envs.suites.cpn.placement import candidate_nodes, hourly_cost
from raytool.envs.suites.cpn.suite import SUITE
from raytool.envs.suites.cpn.types import (
    DemandId,
    DemandRecord,
    GpuModel,
    ImageName,
    PlanId,
    RegionName,
    SlaTierName,
    TenantId,
)
from raytool.envs.suites.cpn.world import CPNWorld

Workload = Literal["training", "inference", "batch", "web", "database", "analytics"]
Scale = Literal["small", "medium", "large"]


class RequirementEstimate(TypedDict):
    workload: str
    scale: str
    cpu_cores: int
    memory_gb: int
    gpu_count: int
    suggested_gpu_model: str | None
    suggested_image: ImageName
    list_price_per_hour: float


class DemandValidation(TypedDict):
    demand_id: DemandId
    valid: bool
    issues: list[str]
    matching_node_count: int
    cheapest_hourly_cost: float | None


class DemandSummary(TypedDict):
    demand_id: DemandId
    workload: str
    gpu_count: int
    hours: int
    status: str


class TenantDemands(TypedDict):
    tenant_id: TenantId
    demands: list[DemandSummary]


class DemandCancellation(TypedDict):
    demand_id: DemandId
    previous_status: str
    status: str
    superseded_plans: list[PlanId]


def demand_record(demand: Demand) -> DemandRecord:
    return {
        "demand_id": demand.demand_id,
        "tenant_id": demand.tenant_id,
        "workload": demand.workload,
        "cpu_cores": demand.cpu_cores,
        "memory_gb": demand.memory_gb,
        "gpu_count": demand.gpu_count,
        "gpu_model": demand.gpu_model,
        "hours": demand.hours,
        "region": demand.region,
        "sla_tier": demand.sla_tier,
        "priority": demand.priority,
        "status": demand.status,
    }


def _create_demand(world: CPNWorld, tenant: Tenant, workload: str, sizes: tuple[int, int, int], hours: int) -> Demand:
    available = tenant.quota_available
    for resource, wanted in zip(("cpu_cores", "memory_gb", "gpus"), sizes, strict=True):
        if wanted > available[resource]:
            raise QuotaExceeded(
                f"tenant {tenant.tenant_id} asks {wanted} {resource}, quota leaves {available[resource]}"
            )
    cpu_cores, memory_gb, gpu_count = sizes
    demand = Demand(
        demand_id=world.new_id("dmd"),
        tenant_id=tenant.tenant_id,
        cpu_cores=cpu_cores,
        memory_gb=memory_gb,
        gpu_count=gpu_count,
        gpu_model=None,
        hours=hours,
        region=None,
        sla_tier=tenant.default_sla_tier,
        workload=workload,
    )
    world.demands[demand.demand_id] = demand
    return demand


@SUITE.tool(
    stage="demand_intake",
    question="submit a demand for {tenant_id}: {cpu_cores} cores, {memory_gb} GB, {gpu_count} GPUs, {hours} hours",
)
def submit_demand(
    world: CPNWorld,
    tenant_id: TenantId,
    cpu_cores: Annotated[int, Range(1, 64)],
    memory_gb: Annotated[int, Range(1, 512)],
    gpu_count: Annotated[int, Range(0, 8)],
    hours: Annotated[int, Range(1, 720)],
    gpu_model: GpuModel | None = None,
    region: RegionName | None = None,
    sla_tier: SlaTierName | None = None,
) -> DemandRecord:
    """Register a compute demand for a tenant after checking it against the tenant's quota.

    Args:
        tenant_id: the tenant that needs the capacity, e.g. "acme-ai".
        cpu_cores: CPU cores needed.
        memory_gb: memory needed in GB.
        gpu_count: GPUs needed (0 for CPU-only work).
        hours: how long the capacity is needed, in hours.
        gpu_model: a required GPU model such as "A100"; any model when omitted.
        region: a region the capacity must be in; anywhere when omitted.
        sla_tier: service level ("bronze" to "platinum"); the tenant's default when omitted.
    """
    tenant = world.tenant(tenant_id)
    if gpu_model is not None:
        if gpu_model not in catalogue.GPU_MODELS:
            raise_not_found("GPU model", gpu_model)
        if gpu_count == 0:
            raise InvalidArgument(f"gpu_model {gpu_model!r} given for a demand of 0 GPUs")
    if region is not None:
        world.region(region)
    if sla_tier is not None:
        world.sla_tier(sla_tier)
    demand = _create_demand(world, tenant, "custom", (cpu_cores, memory_gb, gpu_count), hours)
    demand.gpu_model, demand.region = gpu_model, region
    demand.sla_tier = sla_tier or tenant.default_sla_tier
    return demand_record(demand)


@SUITE.tool(stage="demand_intake", question="how many resources does a {scale} {workload} workload need")
def estimate_requirements(world: CPNWorld, workload: Workload, scale: Scale) -> RequirementEstimate:
    """Estimate the cores, memory, GPUs and software image a workload profile needs, with its list price.

    Args:
        workload: kind of workload.
        scale: size of the workload.
    """
    cpu_cores, memory_gb, gpu_count, gpu_model, image = catalogue.WORKLOAD_PROFILES[(workload, scale)]
    gpu_price = catalogue.GPU_MODELS[gpu_model][1] if gpu_model else 0.0
    return {
        "workload": workload,
        "scale": scale,
        "cpu_cores": cpu_cores,
        "memory_gb": memory_gb,
        "gpu_count": gpu_count,
        "suggested_gpu_model": gpu_model,
        "suggested_image": image,
        "list_price_per_hour": round(cpu_cores * 0.021 + memory_gb * 0.0032 + gpu_count * gpu_price, 2),
    }


@SUITE.tool(
    stage="demand_intake",
    question="file a demand for tenant {tenant_id} sized for a {scale} {workload} workload running {hours} hours",
)
def submit_workload_demand(
    world: CPNWorld, tenant_id: TenantId, workload: Workload, scale: Scale, hours: Annotated[int, Range(1, 720)]
) -> DemandRecord:
    """Create a demand whose size is taken from a standard workload profile instead of explicit numbers.

    Args:
        tenant_id: tenant placing the demand.
        workload: kind of workload to size the demand for.
        scale: size class of the workload.
        hours: duration of the demand in hours.
    """
    tenant = world.tenant(tenant_id)
    cpu_cores, memory_gb, gpu_count, _, _ = catalogue.WORKLOAD_PROFILES[(workload, scale)]
    return demand_record(_create_demand(world, tenant, workload, (cpu_cores, memory_gb, gpu_count), hours))


@SUITE.tool(stage="demand_intake", question="show demand {demand_id}")
def get_demand(world: CPNWorld, demand_id: DemandId) -> DemandRecord:
    """Fetch a demand record with its size, duration, SLA tier, priority and status.

    Args:
        demand_id: the demand, e.g. "dmd-0001".
    """
    return demand_record(world.demand(demand_id))


@SUITE.tool(stage="demand_intake", question="is demand {demand_id} valid and satisfiable")
def validate_demand(world: CPNWorld, demand_id: DemandId) -> DemandValidation:
    """Validate a demand: quota headroom, budget, and whether any online node can host it right now.

    Args:
        demand_id: the demand to validate.
    """
    demand = world.demand(demand_id)
    tenant = world.tenants[demand.tenant_id]
    issues = []
    if demand.status in ("cancelled", "released"):
        issues.append(f"demand is {demand.status}")
    available = tenant.quota_available
    if demand.status in ("submitted", "planned"):
        for resource, wanted in (("cpu_cores", demand.cpu_cores), ("gpus", demand.gpu_count)):
            if wanted > available[resource]:
                issues.append(f"{resource} quota leaves {available[resource]}, demand needs {wanted}")
    candidates = candidate_nodes(world, demand)
    cheapest = hourly_cost(world, demand, candidates[0]) if candidates else None
    if not candidates:
        issues.append("no online node can host the demand now")
    elif cheapest * demand.hours > world.budget_remaining(tenant):
        issues.append("estimated cost exceeds the remaining budget")
    return {
        "demand_id": demand_id,
        "valid": not issues,
        "issues": issues,
        "matching_node_count": len(candidates),
        "cheapest_hourly_cost": cheapest,
    }


@SUITE.tool(stage="demand_intake", question="list the demands of tenant {tenant_id}")
def list_tenant_demands(
    world: CPNWorld,
    tenant_id: TenantId,
    status: Literal["submitted", "planned", "reserved", "deployed", "released", "cancelled"] | None = None,
) -> TenantDemands:
    """List the demands a tenant has submitted, optionally only those in one status.

    Args:
        tenant_id: the tenant whose demands to list.
        status: only demands in this status; all when omitted.
    """
    world.tenant(tenant_id)
    demands = [d for d in world.demands.values() if d.tenant_id == tenant_id and status in (None, d.status)]
    summaries: list[DemandSummary] = [
        {
            "demand_id": d.demand_id,
            "workload": d.workload,
            "gpu_count": d.gpu_count,
            "hours": d.hours,
            "status": d.status,
        }
        for d in demands
    ]
    return {"tenant_id": tenant_id, "demands": summaries}


def _amendable(demand: Demand) -> Demand:
    if demand.status not in ("submitted", "planned"):
        raise Conflict(f"demand {demand.demand_id} is {demand.status} and can no longer be amended")
    return demand


@SUITE.tool(stage="demand_intake", question="change the duration of demand {demand_id} to {hours} hours")
def set_demand_duration(world: CPNWorld, demand_id: DemandId, hours: Annotated[int, Range(1, 720)]) -> DemandRecord:
    """Change how many hours a not yet reserved demand needs its capacity.

    Args:
        demand_id: the demand to amend.
        hours: the new duration in hours.
    """
    demand = _amendable(world.demand(demand_id))
    demand.hours = hours
    return demand_record(demand)


@SUITE.tool(stage="demand_intake", question="set the priority of demand {demand_id} to {priority}")
def set_demand_priority(
    world: CPNWorld, demand_id: DemandId, priority: Literal["low", "normal", "high", "urgent"]
) -> DemandRecord:
    """Set the scheduling priority of an open demand.

    Args:
        demand_id: the demand to re-prioritise.
        priority: the new priority.
    """
    demand = _amendable(world.demand(demand_id))
    demand.priority = priority
    return demand_record(demand)


@SUITE.tool(stage="demand_intake", question="cancel demand {demand_id}")
def cancel_demand(world: CPNWorld, demand_id: DemandId) -> DemandCancellation:
    """Withdraw a demand that holds no reservation yet; its proposed placement plans are superseded.

    Args:
        demand_id: the demand to cancel.
    """
    demand = _amendable(world.demand(demand_id))
    previous, demand.status = demand.status, "cancelled"
    superseded = []
    for plan in world.plans.values():
        if plan.demand_id == demand_id and plan.status == "proposed":
            plan.status = "superseded"
            superseded.append(plan.plan_id)
    return {"demand_id": demand_id, "previous_status": previous, "status": "cancelled", "superseded_plans": superseded}
