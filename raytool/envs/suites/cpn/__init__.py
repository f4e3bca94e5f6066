"""The CPN suite: computing-power network operations, from a tenant's demand to the invoice.

Five stages, in service order: `demand_intake` (submit and size demands, quotas), `resource_discovery` (regions,
sites, nodes, links, GPUs, images), `scheduling` (score, plan, reserve), `provisioning` (deploy, storage, network,
scale, release) and `monitoring_billing` (metrics, health, usage, invoices). Tools chain through the ids they
create, e.g. submit_demand -> demand_id -> auto_place_demand -> plan_id -> reserve_capacity -> reservation_id
-> deploy_image -> deployment_id -> generate_invoice -> invoice_id -> apply_discount.
"""

from __future__ import annotations

# importing the stage modules registers their tools on SUITE, in stage order
# isort: off
from raytool.envs.suites.cpn import intake, tenants  # noqa: F401  demand_intake
from raytool.envs.suites.cpn import discovery, network  # noqa: F401  resource_discovery
from raytool.envs.suites.cpn import scheduling, reservations  # noqa: F401  scheduling
from raytool.envs.suites.cpn import provisioning, attachments  # noqa: F401  provisioning
from raytool.envs.suites.cpn import monitoring, billing  # noqa: F401  monitoring_billing

# isort: on
from raytool.envs.suites.cpn.suite import STAGES, SUITE
from raytool.envs.suites.cpn.world import CPNWorld

# Tool pairs with overlapping functionality, written as if by different authors, for the function-integration
# step: (kept, merged away). Same required input kinds; the second's result fields are a subset of the first's
# with equal values.
PLANTED_OVERLAPS = [
    ("get_node_details", "describe_compute_node"),
    ("check_tenant_quota", "get_quota_headroom"),
    ("compute_usage", "summarize_resource_consumption"),
]

__all__ = ["CPNWorld", "PLANTED_OVERLAPS", "STAGES", "SUITE"]
