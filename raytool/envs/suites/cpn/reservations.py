"""Stage `scheduling`, commitment side: reserve the capacity a plan needs, extend, cancel and list reservations."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from raytool.envs.suite import Conflict, QuotaExceeded, Range
from raytool.envs.suites.cpn.model import Reservation
from raytool.envs.suites.cpn.placement import fit_issues
from raytool.envs.suites.cpn.suite import SUITE
from raytool.envs.suites.cpn.types import NodeId, PlanId, ReservationId, ReservationRecord, TenantId
from raytool.envs.suites.cpn.world import CPNWorld


class ReservationRelease(TypedDict):
    reservation_id: ReservationId
    status: str
    freed_cpu_cores: int
    freed_memory_gb: int
    freed_gpus: int


class ReservationSummary(TypedDict):
    reservation_id: ReservationId
    node_id: NodeId
    gpu_count: int
    hours: int
    status: str


class TenantReservations(TypedDict):
    tenant_id: TenantId
    reservations: list[ReservationSummary]


def reservation_record(reservation: Reservation) -> ReservationRecord:
    return {
        "reservation_id": reservation.reservation_id,
        "plan_id": reservation.plan_id,
        "demand_id": reservation.demand_id,
        "tenant_id": reservation.tenant_id,
        "node_id": reservation.node_id,
        "cpu_cores": reservation.cpu_cores,
        "memory_gb": reservation.memory_gb,
        "gpu_count": reservation.gpu_count,
        "hours": reservation.hours,
        "hourly_cost": reservation.hourly_cost,
        "status": reservation.status,
    }


def free_reservation(world: CPNWorld, reservation: Reservation, status: str) -> ReservationRelease:
    """Give a reservation's capacity back to its node and its tenant's quota, and close it with `status`."""
    node, tenant = world.nodes[reservation.node_id], world.tenants[reservation.tenant_id]
    node.cpu_allocated -= reservation.cpu_cores
    node.memory_allocated -= reservation.memory_gb
    node.gpus_allocated -= reservation.gpu_count
    tenant.cpu_used -= reservation.cpu_cores
    tenant.memory_used -= reservation.memory_gb
    tenant.gpus_used -= reservation.gpu_count
    reservation.status = status
    world.demands[reservation.demand_id].status = "released" if status == "released" else "cancelled"
    return {
        "reservation_id": reservation.reservation_id,
        "status": status,
        "freed_cpu_cores": reservation.cpu_cores,
        "freed_memory_gb": reservation.memory_gb,
        "freed_gpus": reservation.gpu_count,
    }


@SUITE.tool(stage="scheduling", question="reserve capacity for placement plan {plan_id}")
def reserve_capacity(world: CPNWorld, plan_id: PlanId) -> ReservationRecord:
    """Reserve the node capacity a placement plan needs for the demand's duration, charging the tenant's quota.

    Args:
        plan_id: the plan to commit, e.g. "pln-0001".
    """
    plan = world.plan(plan_id)
    if plan.status != "proposed":
        raise Conflict(f"plan {plan_id} is {plan.status}; only proposed plans can be reserved")
    demand, node = world.demands[plan.demand_id], world.nodes[plan.node_id]
    if demand.status not in ("submitted", "planned"):
        raise Conflict(f"demand {demand.demand_id} is already {demand.status}")
    issues = fit_issues(world, demand, node)
    if issues:
        raise Conflict(f"node {node.node_id} can no longer host the plan: {'; '.join(issues)}")
    tenant = world.tenants[demand.tenant_id]
    available = tenant.quota_available
    for resource, wanted in (
        ("cpu_cores", demand.cpu_cores),
        ("memory_gb", demand.memory_gb),
        ("gpus", demand.gpu_count),
    ):
        if wanted > available[resource]:
            raise QuotaExceeded(
                f"tenant {tenant.tenant_id} has {available[resource]} {resource} left, plan needs {wanted}"
            )
    total_cost = plan.hourly_cost * demand.hours
    if total_cost > world.budget_remaining(tenant):
        raise QuotaExceeded(
            f"plan costs {total_cost:.2f}, tenant {tenant.tenant_id} has {world.budget_remaining(tenant)} left"
        )
    reservation = Reservation(
        reservation_id=world.new_id("rsv"),
        plan_id=plan_id,
        demand_id=demand.demand_id,
        tenant_id=tenant.tenant_id,
        node_id=node.node_id,
        cpu_cores=demand.cpu_cores,
        memory_gb=demand.memory_gb,
        gpu_count=demand.gpu_count,
        hours=demand.hours,
        hourly_cost=plan.hourly_cost,
    )
    world.reservations[reservation.reservation_id] = reservation
    node.cpu_allocated += demand.cpu_cores
    node.memory_allocated += demand.memory_gb
    node.gpus_allocated += demand.gpu_count
    tenant.cpu_used += demand.cpu_cores
    tenant.memory_used += demand.memory_gb
    tenant.gpus_used += demand.gpu_count
    for other in world.plans.values():
        if other.demand_id == demand.demand_id and other.status == "proposed":
            other.status = "superseded"
    plan.status, demand.status = "reserved", "reserved"
    return reservation_record(reservation)


@SUITE.tool(stage="scheduling", question="show reservation {reservation_id}")
def get_reservation(world: CPNWorld, reservation_id: ReservationId) -> ReservationRecord:
    """Fetch a capacity reservation: node, reserved resources, hours, hourly cost and status.

    Args:
        reservation_id: the reservation, e.g. "rsv-0001".
    """
    return reservation_record(world.reservation(reservation_id))


@SUITE.tool(stage="scheduling", question="extend reservation {reservation_id} by {hours} hours")
def extend_reservation(
    world: CPNWorld, reservation_id: ReservationId, hours: Annotated[int, Range(1, 168)]
) -> ReservationRecord:
    """Keep a held or deployed reservation for more hours.

    Args:
        reservation_id: the reservation to extend.
        hours: how many hours to add.
    """
    reservation = world.reservation(reservation_id)
    if reservation.status not in ("held", "deployed"):
        raise Conflict(f"reservation {reservation_id} is {reservation.status} and cannot be extended")
    reservation.hours += hours
    return reservation_record(reservation)


@SUITE.tool(stage="scheduling", question="cancel reservation {reservation_id}")
def cancel_reservation(world: CPNWorld, reservation_id: ReservationId) -> ReservationRelease:
    """Cancel a reservation nothing is deployed on yet, giving its capacity and quota back.

    Args:
        reservation_id: the reservation to cancel.
    """
    reservation = world.reservation(reservation_id)
    if reservation.status == "deployed":
        raise Conflict(f"reservation {reservation_id} has a running deployment; release the deployment instead")
    if reservation.status != "held":
        raise Conflict(f"reservation {reservation_id} is already {reservation.status}")
    return free_reservation(world, reservation, "cancelled")


@SUITE.tool(stage="scheduling", question="list the reservations of tenant {tenant_id}")
def list_tenant_reservations(
    world: CPNWorld,
    tenant_id: TenantId,
    status: Literal["held", "deployed", "released", "cancelled"] | None = None,
) -> TenantReservations:
    """List a tenant's capacity reservations, optionally only those in one status.

    Args:
        tenant_id: the tenant whose reservations to list.
        status: only reservations in this status; all when omitted.
    """
    world.tenant(tenant_id)
    reservations: list[ReservationSummary] = [
        {
            "reservation_id": r.reservation_id,
            "node_id": r.node_id,
            "gpu_count": r.gpu_count,
            "hours": r.hours,
            "status": r.status,
        }
        for r in world.reservations.values()
        if r.tenant_id == tenant_id and status in (None, r.status)
    ]
    return {"tenant_id": tenant_id, "reservations": reservations}
