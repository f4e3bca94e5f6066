"""Semantic kinds of CPN values and the result records several stages share.

A kind links tools: an output field of kind `reservation_id` can feed any parameter of kind `reservation_id`.
Kinds of the provider's estate (region, site_id, node_id, tenant_id, image, gpu_model, sla_tier, discount_code)
are listed by `CPNWorld.values`; the others name records that only tools create.
"""

from __future__ import annotations

from typing import Annotated, TypedDict

from raytool.envs.suite import Kind

RegionName = Annotated[str, Kind("region")]
SiteId = Annotated[str, Kind("site_id")]
NodeId = Annotated[str, Kind("node_id")]
TenantId = Annotated[str, Kind("tenant_id")]
ImageName = Annotated[str, Kind("image")]
GpuModel = Annotated[str, Kind("gpu_model")]
SlaTierName = Annotated[str, Kind("sla_tier")]
DiscountCode = Annotated[str, Kind("discount_code")]
DemandId = Annotated[str, Kind("demand_id")]
PlanId = Annotated[str, Kind("plan_id")]
ReservationId = Annotated[str, Kind("reservation_id")]
DeploymentId = Annotated[str, Kind("deployment_id")]
VolumeId = Annotated[str, Kind("volume_id")]
SnapshotId = Annotated[str, Kind("snapshot_id")]
InvoiceId = Annotated[str, Kind("invoice_id")]
AlertRuleId = Annotated[str, Kind("alert_rule_id")]


class DemandRecord(TypedDict):
    demand_id: DemandId
    tenant_id: TenantId
    workload: str
    cpu_cores: int
    memory_gb: int
    gpu_count: int
    gpu_model: str | None
    hours: int
    region: str | None
    sla_tier: SlaTierName
    priority: str
    status: str


class PlanRecord(TypedDict):
    plan_id: PlanId
    demand_id: DemandId
    node_id: NodeId
    site_id: SiteId
    region: RegionName
    strategy: str
    score: float
    hourly_cost: float
    total_cost: float
    status: str


class ReservationRecord(TypedDict):
    reservation_id: ReservationId
    plan_id: PlanId
    demand_id: DemandId
    tenant_id: TenantId
    node_id: NodeId
    cpu_cores: int
    memory_gb: int
    gpu_count: int
    hours: int
    hourly_cost: float
    status: str


class DeploymentRecord(TypedDict):
    deployment_id: DeploymentId
    reservation_id: ReservationId
    tenant_id: TenantId
    node_id: NodeId
    site_id: SiteId
    image: ImageName
    runtime: str
    replicas: int
    disk_gb: int
    private_ip: str
    public_ip: str | None
    status: str


class LineItemRecord(TypedDict):
    item: str
    quantity: float
    unit_price: float
    amount: float


class InvoiceRecord(TypedDict):
    invoice_id: InvoiceId
    deployment_id: DeploymentId
    tenant_id: TenantId
    line_items: list[LineItemRecord]
    subtotal: float
    discount_code: str | None
    discount_amount: float
    tax: float
    total: float
    status: str
