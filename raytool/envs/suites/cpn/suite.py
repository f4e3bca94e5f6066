"""The one `ToolSuite` object of the CPN suite; the stage modules register their tools on it."""

from __future__ import annotations

from raytool.envs.suite import ToolSuite
from raytool.envs.suites.cpn.world import CPNWorld

STAGES = ("demand_intake", "resource_discovery", "scheduling", "provisioning", "monitoring_billing")

SUITE = ToolSuite(name="cpn", domain="cpn", make_world=CPNWorld.generate, stages=STAGES)
