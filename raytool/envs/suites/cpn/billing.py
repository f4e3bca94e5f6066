"""Stage `monitoring_billing`, billing side: usage, invoices, discounts, payments, spend, budgets and forecasts.

A deployment is billed for the hours of its reservation at the reserved node's prices times the SLA premium.
"""

from __future__ import annotations

from typing import Annotated, TypedDict

from raytool.envs.suite import Conflict, InvalidArgument, Range
from raytool.envs.suites.cpn import catalogue
from raytool.envs.suites.cpn.model import Deployment, Invoice, LineItem
from raytool.envs.suites.cpn.provisioning import running
from raytool.envs.suites.cpn.suite import SUITE
from raytool.envs.suites.cpn.types import (
    DeploymentId,
    DiscountCode,
    InvoiceId,
    InvoiceRecord,
    TenantId,
)
from raytool.envs.suites.cpn.world import CPNWorld

EGRESS_PRICE_PER_GB = 0.05


class UsageReport(TypedDict):
    deployment_id: DeploymentId
    tenant_id: TenantId
    hours: int
    replicas: int
    cpu_core_hours: int
    memory_gb_hours: int
    gpu_hours: int
    storage_gb_hours: int
    egress_gb: float
    cost_to_date: float


class ConsumptionSummary(TypedDict):
    deployment_id: DeploymentId
    cpu_core_hours: int
    memory_gb_hours: int
    gpu_hours: int


class PaymentReceipt(TypedDict):
    invoice_id: InvoiceId
    tenant_id: TenantId
    amount_paid: float
    status: str
    budget_remaining: float


class CostShare(TypedDict):
    item: str
    amount: float


class CostForecast(TypedDict):
    deployment_id: DeploymentId
    horizon_days: int
    daily_cost: float
    projected_cost: float
    breakdown: list[CostShare]


class InvoiceSummary(TypedDict):
    invoice_id: InvoiceId
    deployment_id: DeploymentId
    total: float
    status: str


class TenantSpend(TypedDict):
    tenant_id: TenantId
    budget: float
    paid: float
    outstanding: float
    budget_remaining: float
    invoices: list[InvoiceSummary]


class BudgetAlert(TypedDict):
    tenant_id: TenantId
    threshold_percent: float
    budget: float
    committed: float
    committed_percent: float
    alert: bool


def _usage_quantities(world: CPNWorld, deployment: Deployment) -> dict[str, float]:
    reservation = world.reservations[deployment.reservation_id]
    replica_hours = reservation.hours * deployment.replicas
    volumes = [world.volumes[volume_id] for volume_id in deployment.volume_ids]
    return {
        "hours": reservation.hours,
        "cpu_core_hours": reservation.cpu_cores * replica_hours,
        "memory_gb_hours": reservation.memory_gb * replica_hours,
        "gpu_hours": reservation.gpu_count * replica_hours,
        "storage_gb_hours": sum(volume.size_gb for volume in volumes) * reservation.hours,
        "egress_gb": round(replica_hours * (2.0 if deployment.public_ip else 0.1), 1),
    }


def usage_lines(world: CPNWorld, deployment: Deployment) -> list[LineItem]:
    """The priced usage of a deployment, one line per resource it consumed."""
    reservation = world.reservations[deployment.reservation_id]
    node = world.nodes[deployment.node_id]
    premium = world.sla_tiers[world.demands[reservation.demand_id].sla_tier].price_multiplier
    usage = _usage_quantities(world, deployment)
    lines = [
        LineItem("cpu core-hours", usage["cpu_core_hours"], round(node.core_price * premium, 5)),
        LineItem("memory GB-hours", usage["memory_gb_hours"], round(node.memory_price * premium, 5)),
    ]
    if usage["gpu_hours"]:
        lines.append(LineItem(f"gpu hours {node.gpu_model}", usage["gpu_hours"], round(node.gpu_price * premium, 4)))
    for volume_id in deployment.volume_ids:
        volume = world.volumes[volume_id]
        price = catalogue.STORAGE_PRICES[volume.storage_class] / catalogue.HOURS_PER_MONTH
        lines.append(
            LineItem(f"{volume.storage_class} storage GB-hours", volume.size_gb * usage["hours"], round(price, 6))
        )
    lines.append(LineItem("network egress GB", usage["egress_gb"], EGRESS_PRICE_PER_GB))
    return lines


def invoice_record(invoice: Invoice) -> InvoiceRecord:
    return {
        "invoice_id": invoice.invoice_id,
        "deployment_id": invoice.deployment_id,
        "tenant_id": invoice.tenant_id,
        "line_items": [
            {"item": line.item, "quantity": line.quantity, "unit_price": line.unit_price, "amount": line.amount}
            for line in invoice.line_items
        ],
        "subtotal": invoice.subtotal,
        "discount_code": invoice.discount_code,
        "discount_amount": invoice.discount_amount,
        "tax": invoice.tax,
        "total": invoice.total,
        "status": invoice.status,
    }


@SUITE.tool(stage="monitoring_billing", question="how much has deployment {deployment_id} used")
def compute_usage(world: CPNWorld, deployment_id: DeploymentId) -> UsageReport:
    """Metered usage of a deployment over its reserved hours: core-, memory-, GPU- and storage-hours, egress, cost.

    Args:
        deployment_id: the deployment to meter.
    """
    deployment = world.deployment(deployment_id)
    usage = _usage_quantities(world, deployment)
    return {
        "deployment_id": deployment_id,
        "tenant_id": deployment.tenant_id,
        "hours": int(usage["hours"]),
        "replicas": deployment.replicas,
        "cpu_core_hours": int(usage["cpu_core_hours"]),
        "memory_gb_hours": int(usage["memory_gb_hours"]),
        "gpu_hours": int(usage["gpu_hours"]),
        "storage_gb_hours": int(usage["storage_gb_hours"]),
        "egress_gb": usage["egress_gb"],
        "cost_to_date": round(sum(line.amount for line in usage_lines(world, deployment)), 2),
    }


@SUITE.tool(stage="monitoring_billing", question="summarise what workload {deployment_id} consumed")
def summarize_resource_consumption(world: CPNWorld, deployment_id: DeploymentId) -> ConsumptionSummary:
    """Consumption totals of a workload: CPU core-hours, RAM GB-hours and accelerator hours across all replicas.

    Args:
        deployment_id: identifier of the workload.
    """
    usage = _usage_quantities(world, world.deployment(deployment_id))
    return {
        "deployment_id": deployment_id,
        "cpu_core_hours": int(usage["cpu_core_hours"]),
        "memory_gb_hours": int(usage["memory_gb_hours"]),
        "gpu_hours": int(usage["gpu_hours"]),
    }


@SUITE.tool(stage="monitoring_billing", question="bill deployment {deployment_id}")
def generate_invoice(world: CPNWorld, deployment_id: DeploymentId) -> InvoiceRecord:
    """Issue the invoice of a deployment: priced usage lines, regional tax and total; one invoice per deployment.

    Args:
        deployment_id: the deployment to bill.
    """
    deployment = world.deployment(deployment_id)
    for invoice in world.invoices.values():
        if invoice.deployment_id == deployment_id:
            raise Conflict(f"deployment {deployment_id} is already billed on invoice {invoice.invoice_id}")
    region = world.regions[world.region_of_node(world.nodes[deployment.node_id])]
    invoice = Invoice(
        invoice_id=world.new_id("inv"),
        deployment_id=deployment_id,
        tenant_id=deployment.tenant_id,
        line_items=usage_lines(world, deployment),
        tax_rate=region.tax_rate,
    )
    world.invoices[invoice.invoice_id] = invoice
    return invoice_record(invoice)


@SUITE.tool(stage="monitoring_billing", question="show invoice {invoice_id}")
def get_invoice(world: CPNWorld, invoice_id: InvoiceId) -> InvoiceRecord:
    """Fetch an invoice with its line items, discount, tax, total and payment status.

    Args:
        invoice_id: the invoice, e.g. "inv-0001".
    """
    return invoice_record(world.invoice(invoice_id))


@SUITE.tool(stage="monitoring_billing", question="apply discount code {code} to invoice {invoice_id}")
def apply_discount(world: CPNWorld, invoice_id: InvoiceId, code: DiscountCode) -> InvoiceRecord:
    """Apply a discount code to an open invoice; one code per invoice, some codes only for GPU charges or segments.

    Args:
        invoice_id: the invoice to discount.
        code: discount code, e.g. "WELCOME10".
    """
    invoice, offer = world.invoice(invoice_id), world.discount(code)
    if invoice.status != "open":
        raise Conflict(f"invoice {invoice_id} is {invoice.status}")
    if invoice.discount_code:
        raise Conflict(f"invoice {invoice_id} already carries discount {invoice.discount_code}")
    tenant = world.tenants[invoice.tenant_id]
    if offer.segment and tenant.segment != offer.segment:
        raise InvalidArgument(f"code {code} is for {offer.segment} tenants; {tenant.tenant_id} is {tenant.segment}")
    lines = [line for line in invoice.line_items if offer.scope == "all" or line.item.startswith("gpu")]
    if not lines:
        raise InvalidArgument(f"code {code} applies to GPU charges and invoice {invoice_id} has none")
    invoice.discount_code = code
    invoice.discount_amount = round(sum(line.amount for line in lines) * offer.percent / 100, 2)
    return invoice_record(invoice)


@SUITE.tool(stage="monitoring_billing", question="pay invoice {invoice_id}")
def pay_invoice(world: CPNWorld, invoice_id: InvoiceId) -> PaymentReceipt:
    """Pay an open invoice in full from the tenant's budget.

    Args:
        invoice_id: the invoice to pay.
    """
    invoice = world.invoice(invoice_id)
    if invoice.status == "paid":
        raise Conflict(f"invoice {invoice_id} is already paid")
    tenant = world.tenants[invoice.tenant_id]
    tenant.spent = round(tenant.spent + invoice.total, 2)
    invoice.status = "paid"
    return {
        "invoice_id": invoice_id,
        "tenant_id": tenant.tenant_id,
        "amount_paid": invoice.total,
        "status": "paid",
        "budget_remaining": world.budget_remaining(tenant),
    }


@SUITE.tool(stage="monitoring_billing", question="what will deployment {deployment_id} cost over {horizon_days} days")
def forecast_cost(
    world: CPNWorld, deployment_id: DeploymentId, horizon_days: Annotated[int, Range(1, 365)]
) -> CostForecast:
    """Project the cost of keeping a running deployment as it is for a number of days, per resource.

    Args:
        deployment_id: the deployment to project.
        horizon_days: how many days ahead.
    """
    deployment = running(world, deployment_id)
    hours = world.reservations[deployment.reservation_id].hours
    factor = 24 * horizon_days / hours
    breakdown: list[CostShare] = [
        {"item": line.item, "amount": round(line.amount * factor, 2)} for line in usage_lines(world, deployment)
    ]
    daily = sum(line.amount for line in usage_lines(world, deployment)) * 24 / hours
    return {
        "deployment_id": deployment_id,
        "horizon_days": horizon_days,
        "daily_cost": round(daily, 2),
        "projected_cost": round(daily * horizon_days, 2),
        "breakdown": breakdown,
    }


@SUITE.tool(stage="monitoring_billing", question="how much has tenant {tenant_id} spent")
def get_tenant_spend(world: CPNWorld, tenant_id: TenantId) -> TenantSpend:
    """A tenant's spending: budget, paid, outstanding invoices, what is left, and its invoices.

    Args:
        tenant_id: the tenant to report on.
    """
    tenant = world.tenant(tenant_id)
    invoices = [invoice for invoice in world.invoices.values() if invoice.tenant_id == tenant_id]
    return {
        "tenant_id": tenant_id,
        "budget": tenant.budget,
        "paid": tenant.spent,
        "outstanding": round(sum(invoice.total for invoice in invoices if invoice.status == "open"), 2),
        "budget_remaining": world.budget_remaining(tenant),
        "invoices": [
            {"invoice_id": i.invoice_id, "deployment_id": i.deployment_id, "total": i.total, "status": i.status}
            for i in invoices
        ],
    }


@SUITE.tool(
    stage="monitoring_billing", question="has tenant {tenant_id} committed more than {threshold_percent}% of its budget"
)
def check_budget_alerts(
    world: CPNWorld, tenant_id: TenantId, threshold_percent: Annotated[float, Range(1, 100)]
) -> BudgetAlert:
    """Warn when a tenant's committed spending (paid, invoiced, still reserved) passes a share of its budget.

    Args:
        tenant_id: the tenant to check.
        threshold_percent: the share of the budget that triggers the alert.
    """
    tenant = world.tenant(tenant_id)
    invoiced_reservations = {world.deployments[i.deployment_id].reservation_id for i in world.invoices.values()}
    reserved = sum(
        r.hourly_cost * r.hours
        for r in world.reservations.values()
        if r.tenant_id == tenant_id
        and r.status in ("held", "deployed")
        and r.reservation_id not in invoiced_reservations
    )
    committed = round(tenant.budget - world.budget_remaining(tenant) + reserved, 2)
    percent = round(100 * committed / tenant.budget, 2)
    return {
        "tenant_id": tenant_id,
        "threshold_percent": threshold_percent,
        "budget": tenant.budget,
        "committed": committed,
        "committed_percent": percent,
        "alert": percent >= threshold_percent,
    }
