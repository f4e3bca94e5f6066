"""The finance suite object; the tool modules register their tools on it when imported."""

from __future__ import annotations

from raytool.envs.suite import ToolSuite
from raytool.envs.suites.finance.world import World

STAGES = ("market_data", "analysis", "accounts", "trading")
SUITE = ToolSuite(name="finance", domain="finance", make_world=World.generate, stages=STAGES)
