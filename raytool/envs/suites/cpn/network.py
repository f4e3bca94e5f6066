"""Stage `resource_discovery`, network side: latency between sites, direct links, and sites near a site."""

from __future__ import annotations

from typing import Annotated, TypedDict

from raytool.envs.suite import InvalidArgument, Range
from raytool.envs.suites.cpn.suite import SUITE
from raytool.envs.suites.cpn.types import RegionName, SiteId
from raytool.envs.suites.cpn.world import CPNWorld


class LinkLatency(TypedDict):
    site_a: SiteId
    site_b: SiteId
    latency_ms: float
    hops: int
    path: list[SiteId]


class LinkSummary(TypedDict):
    peer_site_id: SiteId
    latency_ms: float
    bandwidth_gbps: int
    utilization_percent: int


class SiteLinks(TypedDict):
    site_id: SiteId
    links: list[LinkSummary]


class NearbySite(TypedDict):
    site_id: SiteId
    region: RegionName
    latency_ms: float


class NearbySites(TypedDict):
    site_id: SiteId
    max_latency_ms: float
    sites: list[NearbySite]


@SUITE.tool(stage="resource_discovery", question="what is the network latency between {site_a} and {site_b}")
def query_link_latency(world: CPNWorld, site_a: SiteId, site_b: SiteId) -> LinkLatency:
    """Latency of the fastest network path between two sites, with the sites it passes through.

    Args:
        site_a: one end of the path.
        site_b: the other end of the path.
    """
    world.site(site_a), world.site(site_b)
    if site_a == site_b:
        raise InvalidArgument(f"site_a and site_b are both {site_a!r}; give two different sites")
    route = world.route(site_a, site_b)
    return {
        "site_a": site_a,
        "site_b": site_b,
        "latency_ms": route.latency_ms,
        "hops": len(route.path) - 1,
        "path": route.path,
    }


@SUITE.tool(stage="resource_discovery", question="which sites is {site_id} directly linked to")
def list_site_links(world: CPNWorld, site_id: SiteId) -> SiteLinks:
    """List the direct network links of a site with their latency, bandwidth and current utilisation.

    Args:
        site_id: the site whose links to list.
    """
    world.site(site_id)
    links: list[LinkSummary] = []
    for link in world.links:
        if site_id in (link.site_a, link.site_b):
            peer = link.site_b if link.site_a == site_id else link.site_a
            links.append(
                {
                    "peer_site_id": peer,
                    "latency_ms": link.latency_ms,
                    "bandwidth_gbps": link.bandwidth_gbps,
                    "utilization_percent": link.utilization_percent,
                }
            )
    return {"site_id": site_id, "links": sorted(links, key=lambda link: link["latency_ms"])}


@SUITE.tool(stage="resource_discovery", question="which sites are within {max_latency_ms} ms of {site_id}")
def find_sites_within_latency(
    world: CPNWorld, site_id: SiteId, max_latency_ms: Annotated[float, Range(1, 200)]
) -> NearbySites:
    """Find the other sites reachable from a site within a latency budget, nearest first.

    Args:
        site_id: the site to measure from.
        max_latency_ms: largest acceptable latency in milliseconds.
    """
    world.site(site_id)
    nearby: list[NearbySite] = []
    for other in world.sites.values():
        if other.site_id != site_id:
            latency = world.latency_ms(site_id, other.site_id)
            if latency <= max_latency_ms:
                nearby.append({"site_id": other.site_id, "region": other.region, "latency_ms": latency})
    return {
        "site_id": site_id,
        "max_latency_ms": max_latency_ms,
        "sites": sorted(nearby, key=lambda s: s["latency_ms"]),
    }
