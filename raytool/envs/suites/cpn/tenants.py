"""Stage `demand_intake`, tenant side: quotas, profiles, budgets and service levels a demand is checked against."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from raytool.envs.suite import Conflict, QuotaExceeded, Range
from raytool.envs.suites.cpn.placement import candidate_nodes, hourly_cost
from raytool.envs.suites.cpn.suite import SUITE
from raytool.envs.suites.cpn.types import DemandId, RegionName, SiteId, SlaTierName, TenantId
from raytool.envs.suites.cpn.world import CPNWorld

QuotaResource = Literal["cpu_cores", "memory_gb", "gpus", "storage_gb"]


class QuotaStatus(TypedDict):
    tenant_id: TenantId
    cpu_cores_limit: int
    cpu_cores_used: int
    cpu_cores_available: int
    memory_gb_limit: int
    memory_gb_used: int
    memory_gb_available: int
    gpus_limit: int
    gpus_used: int
    gpus_available: int
    storage_gb_limit: int
    storage_gb_used: int
    storage_gb_available: int


class QuotaHeadroom(TypedDict):
    tenant_id: TenantId
    cpu_cores_available: int
    memory_gb_available: int
    gpus_available: int
    storage_gb_available: int


class TenantProfile(TypedDict):
    tenant_id: TenantId
    name: str
    segment: str
    home_site_id: SiteId
    home_region: RegionName
    default_sla_tier: SlaTierName
    budget: float
    budget_remaining: float
    open_demands: int


class QuotaChange(TypedDict):
    tenant_id: TenantId
    resource: str
    previous_limit: int
    new_limit: int
    contract_cap: int


class DemandBudgetCheck(TypedDict):
    demand_id: DemandId
    tenant_id: TenantId
    cheapest_hourly_cost: float
    estimated_total_cost: float
    budget_remaining: float
    affordable: bool


class SlaTierDetails(TypedDict):
    sla_tier: SlaTierName
    availability_percent: float
    max_latency_ms: int
    support_response_minutes: int
    price_multiplier: float


@SUITE.tool(stage="demand_intake", question="what is the resource quota of tenant {tenant_id}")
def check_tenant_quota(world: CPNWorld, tenant_id: TenantId) -> QuotaStatus:
    """Report a tenant's quota limits, current usage and what is still available for every resource.

    Args:
        tenant_id: the tenant whose quota to report.
    """
    tenant = world.tenant(tenant_id)
    available = tenant.quota_available
    return {
        "tenant_id": tenant_id,
        "cpu_cores_limit": tenant.cpu_limit,
        "cpu_cores_used": tenant.cpu_used,
        "cpu_cores_available": available["cpu_cores"],
        "memory_gb_limit": tenant.memory_limit,
        "memory_gb_used": tenant.memory_used,
        "memory_gb_available": available["memory_gb"],
        "gpus_limit": tenant.gpu_limit,
        "gpus_used": tenant.gpus_used,
        "gpus_available": available["gpus"],
        "storage_gb_limit": tenant.storage_limit,
        "storage_gb_used": tenant.storage_used,
        "storage_gb_available": available["storage_gb"],
    }


@SUITE.tool(stage="demand_intake", question="how much capacity can {tenant_id} still request")
def get_quota_headroom(world: CPNWorld, tenant_id: TenantId) -> QuotaHeadroom:
    """Remaining allowance of a customer account: cores, memory, GPUs and storage it may still claim.

    Args:
        tenant_id: customer account to look up.
    """
    available = world.tenant(tenant_id).quota_available
    return {
        "tenant_id": tenant_id,
        "cpu_cores_available": available["cpu_cores"],
        "memory_gb_available": available["memory_gb"],
        "gpus_available": available["gpus"],
        "storage_gb_available": available["storage_gb"],
    }


@SUITE.tool(stage="demand_intake", question="who is tenant {tenant_id} and what is their home site")
def get_tenant_profile(world: CPNWorld, tenant_id: TenantId) -> TenantProfile:
    """Describe a tenant: segment, home site and region, default SLA tier, budget and open demands.

    Args:
        tenant_id: the tenant to describe.
    """
    tenant = world.tenant(tenant_id)
    open_demands = [
        d for d in world.demands.values() if d.tenant_id == tenant_id and d.status in ("submitted", "planned")
    ]
    return {
        "tenant_id": tenant_id,
        "name": tenant.name,
        "segment": tenant.segment,
        "home_site_id": tenant.home_site_id,
        "home_region": world.sites[tenant.home_site_id].region,
        "default_sla_tier": tenant.default_sla_tier,
        "budget": tenant.budget,
        "budget_remaining": world.budget_remaining(tenant),
        "open_demands": len(open_demands),
    }


@SUITE.tool(stage="demand_intake", question="raise the {resource} quota of tenant {tenant_id} by {amount}")
def request_quota_increase(
    world: CPNWorld, tenant_id: TenantId, resource: QuotaResource, amount: Annotated[int, Range(1, 256)]
) -> QuotaChange:
    """Raise one of a tenant's quota limits; granted up to the cap of the tenant's contract.

    Args:
        tenant_id: the tenant whose quota to raise.
        resource: which quota to raise.
        amount: how much to add to the limit (cores, GB or GPUs).
    """
    tenant = world.tenant(tenant_id)
    attribute = {
        "cpu_cores": "cpu_limit",
        "memory_gb": "memory_limit",
        "gpus": "gpu_limit",
        "storage_gb": "storage_limit",
    }
    previous = getattr(tenant, attribute[resource])
    cap = tenant.contract_caps[resource]
    if previous + amount > cap:
        raise QuotaExceeded(f"{resource} limit {previous} + {amount} exceeds the contract cap {cap} of {tenant_id}")
    setattr(tenant, attribute[resource], previous + amount)
    return {
        "tenant_id": tenant_id,
        "resource": resource,
        "previous_limit": previous,
        "new_limit": previous + amount,
        "contract_cap": cap,
    }


@SUITE.tool(stage="demand_intake", question="can the tenant afford demand {demand_id}")
def check_demand_budget(world: CPNWorld, demand_id: DemandId) -> DemandBudgetCheck:
    """Compare the cheapest cost of running a demand for its full duration with the tenant's remaining budget.

    Args:
        demand_id: the demand to price.
    """
    demand = world.demand(demand_id)
    tenant = world.tenants[demand.tenant_id]
    candidates = candidate_nodes(world, demand)
    if not candidates:
        raise Conflict(f"no online node can host demand {demand_id} now, so it cannot be priced")
    cheapest = hourly_cost(world, demand, candidates[0])
    remaining = world.budget_remaining(tenant)
    total = round(cheapest * demand.hours, 2)
    return {
        "demand_id": demand_id,
        "tenant_id": tenant.tenant_id,
        "cheapest_hourly_cost": cheapest,
        "estimated_total_cost": total,
        "budget_remaining": remaining,
        "affordable": total <= remaining,
    }


@SUITE.tool(stage="demand_intake", question="what does the {sla_tier} service level guarantee")
def get_sla_tier(world: CPNWorld, sla_tier: SlaTierName) -> SlaTierDetails:
    """Describe what a service-level tier guarantees and what it costs relative to list price.

    Args:
        sla_tier: the tier, e.g. "gold".
    """
    tier = world.sla_tier(sla_tier)
    return {
        "sla_tier": sla_tier,
        "availability_percent": tier.availability_percent,
        "max_latency_ms": tier.max_latency_ms,
        "support_response_minutes": tier.support_response_minutes,
        "price_multiplier": tier.price_multiplier,
    }
