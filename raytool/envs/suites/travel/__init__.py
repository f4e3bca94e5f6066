"""The travel suite: flights, seats, hotels, rental cars, fares, currencies, weather, visas and loyalty.

`SUITE` holds the tools (importing the tool modules registers them); `PLANTED_OVERLAPS` names the pairs of
tools written "by different authors" whose functionality overlaps: (kept tool, tool merged into it).
"""

from __future__ import annotations

from raytool.envs.suites.travel import booking_tools, pricing_tools, search_tools, trip_tools
from raytool.envs.suites.travel.suite import STAGES, SUITE
from raytool.envs.suites.travel.world import World

PLANTED_OVERLAPS = [
    ("get_weather_forecast", "check_city_weather"),
    ("get_traveller_profile", "lookup_passenger_details"),
]

__all__ = [
    "PLANTED_OVERLAPS",
    "STAGES",
    "SUITE",
    "World",
    "booking_tools",
    "pricing_tools",
    "search_tools",
    "trip_tools",
]
