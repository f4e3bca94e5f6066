"""The entities of a computing-power network: the provider's fixed estate and the records tools create.

Everything is a plain mutable dataclass so a whole world deep-copies; tools change records in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Region:
    name: str
    position: tuple[float, float]  # coordinates in "milliseconds of fibre", so distances are latencies
    price_multiplier: float
    tax_rate: float


@dataclass
class Site:
    site_id: str
    region: str
    city: str
    tier: str  # "edge" | "core" | "hyperscale"
    availability_percent: float
    pue: float
    power_price_kwh: float
    carbon_g_per_kwh: int
    uplink_gbps: int


@dataclass
class Node:
    node_id: str
    site_id: str
    cpu_cores: int
    memory_gb: int
    gpu_model: str | None
    gpu_count: int
    status: str  # "online" | "degraded" | "maintenance" | "offline"
    core_price: float  # per core-hour
    memory_price: float  # per GB-hour
    gpu_price: float  # per GPU-hour
    nic_gbps: int
    cpu_allocated: int = 0
    memory_allocated: int = 0
    gpus_allocated: int = 0

    @property
    def free_cpu_cores(self) -> int:
        return self.cpu_cores - self.cpu_allocated

    @property
    def free_memory_gb(self) -> int:
        return self.memory_gb - self.memory_allocated

    @property
    def free_gpus(self) -> int:
        return self.gpu_count - self.gpus_allocated

    @property
    def price_per_hour(self) -> float:
        """List price of the whole node for one hour."""
        whole = self.cpu_cores * self.core_price + self.memory_gb * self.memory_price + self.gpu_count * self.gpu_price
        return round(whole, 2)


@dataclass
class Link:
    site_a: str
    site_b: str
    latency_ms: float
    bandwidth_gbps: int
    utilization_percent: int
    cost_per_gb: float


@dataclass
class Tenant:
    tenant_id: str
    name: str
    segment: str  # "enterprise" | "startup" | "education" | "public_sector"
    home_site_id: str
    default_sla_tier: str
    cpu_limit: int
    memory_limit: int
    gpu_limit: int
    storage_limit: int
    cpu_used: int
    memory_used: int
    gpus_used: int
    storage_used: int
    budget: float
    spent: float  # paid invoices, including history before the world starts
    contract_caps: dict[str, int] = field(default_factory=dict)  # resource -> highest limit the contract allows

    @property
    def quota_available(self) -> dict[str, int]:
        """What the tenant may still claim, by resource (cpu_cores, memory_gb, gpus, storage_gb)."""
        return {
            "cpu_cores": self.cpu_limit - self.cpu_used,
            "memory_gb": self.memory_limit - self.memory_used,
            "gpus": self.gpu_limit - self.gpus_used,
            "storage_gb": self.storage_limit - self.storage_used,
        }


@dataclass
class Image:
    name: str
    category: str
    size_gb: float
    requires_gpu: bool
    min_memory_gb: int
    compatible_gpu_models: list[str]


@dataclass
class SlaTier:
    name: str
    availability_percent: float
    max_latency_ms: int
    support_response_minutes: int
    price_multiplier: float


@dataclass
class DiscountOffer:
    code: str
    percent: int
    scope: str  # "all" | "gpu"
    segment: str | None  # only tenants of this segment may use it


@dataclass
class Demand:
    demand_id: str
    tenant_id: str
    cpu_cores: int
    memory_gb: int
    gpu_count: int
    gpu_model: str | None
    hours: int
    region: str | None
    sla_tier: str
    workload: str
    priority: str = "normal"
    status: str = "submitted"  # submitted | planned | reserved | deployed | released | cancelled


@dataclass
class Plan:
    plan_id: str
    demand_id: str
    node_id: str
    strategy: str
    score: float
    hourly_cost: float
    status: str = "proposed"  # proposed | reserved | superseded


@dataclass
class Reservation:
    reservation_id: str
    plan_id: str
    demand_id: str
    tenant_id: str
    node_id: str
    cpu_cores: int
    memory_gb: int
    gpu_count: int
    hours: int
    hourly_cost: float
    status: str = "held"  # held | deployed | released | cancelled


@dataclass
class Deployment:
    deployment_id: str
    reservation_id: str
    tenant_id: str
    node_id: str
    image: str
    runtime: str  # "container" | "vm"
    disk_gb: int
    private_ip: str
    replicas: int = 1
    status: str = "running"  # running | released
    public_ip: str | None = None
    bandwidth_gbps: int = 1
    firewall_rules: list[tuple[int, str]] = field(default_factory=list)
    autoscaling: tuple[int, int, int] | None = None  # (min replicas, max replicas, target cpu percent)
    restart_count: int = 0
    volume_ids: list[str] = field(default_factory=list)


@dataclass
class Volume:
    volume_id: str
    deployment_id: str
    size_gb: int
    storage_class: str
    status: str = "attached"  # attached | detached


@dataclass
class Snapshot:
    snapshot_id: str
    deployment_id: str
    image: str
    size_gb: float
    restore_count: int = 0


@dataclass
class LineItem:
    item: str
    quantity: float
    unit_price: float

    @property
    def amount(self) -> float:
        return round(self.quantity * self.unit_price, 2)


@dataclass
class Invoice:
    invoice_id: str
    deployment_id: str
    tenant_id: str
    line_items: list[LineItem]
    tax_rate: float
    discount_code: str | None = None
    discount_amount: float = 0.0
    status: str = "open"  # open | paid

    @property
    def subtotal(self) -> float:
        return round(sum(line.amount for line in self.line_items), 2)

    @property
    def tax(self) -> float:
        return round((self.subtotal - self.discount_amount) * self.tax_rate, 2)

    @property
    def total(self) -> float:
        return round(self.subtotal - self.discount_amount + self.tax, 2)


@dataclass
class AlertRule:
    alert_rule_id: str
    deployment_id: str
    metric: str
    threshold: float
