"""The travel suite object; the tool modules register their tools on it when imported."""

from __future__ import annotations

from raytool.envs.suite import ToolSuite
from raytool.envs.suites.travel.world import World

STAGES = ("search", "pricing", "booking", "trip_services")
SUITE = ToolSuite(name="travel", domain="travel", make_world=World.generate, stages=STAGES)
