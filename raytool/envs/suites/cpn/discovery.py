"""Stage `resource_discovery`: what the network offers: regions, sites, nodes, links, GPUs and images."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from raytool.envs.suite import Range, raise_not_found
from raytool.envs.suites.cpn import catalogue
from raytool.envs.suites.cpn.model import Node
from raytool.envs.suites.cpn.placement import candidate_nodes, hourly_cost
from raytool.envs.suites.cpn.suite import SUITE
from raytool.envs.suites.cpn.types import DemandId, GpuModel, ImageName, NodeId, RegionName, SiteId
from raytool.envs.suites.cpn.world import CPNWorld


class RegionSummary(TypedDict):
    region: RegionName
    site_count: int
    node_count: int
    online_nodes: int
    price_multiplier: float


class RegionList(TypedDict):
    regions: list[RegionSummary]


class SiteSummary(TypedDict):
    site_id: SiteId
    city: str
    tier: str
    node_count: int


class SiteList(TypedDict):
    region: RegionName
    sites: list[SiteSummary]


class SiteDetails(TypedDict):
    site_id: SiteId
    region: RegionName
    city: str
    tier: str
    availability_percent: float
    pue: float
    power_price_kwh: float
    carbon_g_per_kwh: int
    uplink_gbps: int
    node_count: int
    free_gpus: int


class NodeSummary(TypedDict):
    node_id: NodeId
    status: str
    gpu_model: str | None
    free_cpu_cores: int
    free_gpus: int


class SiteNodes(TypedDict):
    site_id: SiteId
    nodes: list[NodeSummary]


class NodeDetails(TypedDict):
    node_id: NodeId
    site_id: SiteId
    region: RegionName
    status: str
    cpu_cores: int
    memory_gb: int
    gpu_model: str | None
    gpu_count: int
    free_cpu_cores: int
    free_memory_gb: int
    free_gpus: int
    price_per_hour: float
    nic_gbps: int


class NodeSpecSheet(TypedDict):
    node_id: NodeId
    site_id: SiteId
    cpu_cores: int
    memory_gb: int
    gpu_model: str | None
    gpu_count: int
    price_per_hour: float


class Candidate(TypedDict):
    node_id: NodeId
    site_id: SiteId
    region: RegionName
    gpu_model: str | None
    free_gpus: int
    hourly_cost: float


class CandidateNodes(TypedDict):
    demand_id: DemandId
    nodes: list[Candidate]


class GpuSiteStock(TypedDict):
    site_id: SiteId
    free_gpus: int
    price_per_gpu_hour: float


class GpuInventory(TypedDict):
    gpu_model: GpuModel
    memory_gb_per_gpu: int
    total_gpus: int
    free_gpus: int
    sites: list[GpuSiteStock]


class RegionCapacity(TypedDict):
    region: RegionName
    online_nodes: int
    cpu_cores_total: int
    cpu_cores_free: int
    memory_gb_total: int
    memory_gb_free: int
    gpus_total: int
    gpus_free: int


class ImageDetails(TypedDict):
    image: ImageName
    category: str
    size_gb: float
    requires_gpu: bool
    min_memory_gb: int
    compatible_gpu_models: list[GpuModel]


def _site_nodes(world: CPNWorld, site_id: str) -> list[Node]:
    return [node for node in world.nodes.values() if node.site_id == site_id]


@SUITE.tool(stage="resource_discovery", question="which regions does the network have")
def list_regions(world: CPNWorld) -> RegionList:
    """List the provider's regions with their number of sites and nodes and their price level."""
    regions: list[RegionSummary] = []
    for region in world.regions.values():
        nodes = [node for node in world.nodes.values() if world.region_of_node(node) == region.name]
        regions.append(
            {
                "region": region.name,
                "site_count": sum(site.region == region.name for site in world.sites.values()),
                "node_count": len(nodes),
                "online_nodes": sum(node.status == "online" for node in nodes),
                "price_multiplier": region.price_multiplier,
            }
        )
    return {"regions": regions}


@SUITE.tool(stage="resource_discovery", question="which sites are in region {region}")
def list_sites(world: CPNWorld, region: RegionName) -> SiteList:
    """List the datacenter sites of a region.

    Args:
        region: region name, e.g. "eu-west".
    """
    world.region(region)
    sites: list[SiteSummary] = [
        {"site_id": s.site_id, "city": s.city, "tier": s.tier, "node_count": len(_site_nodes(world, s.site_id))}
        for s in world.sites.values()
        if s.region == region
    ]
    return {"region": region, "sites": sites}


@SUITE.tool(stage="resource_discovery", question="describe site {site_id}")
def get_site(world: CPNWorld, site_id: SiteId) -> SiteDetails:
    """Describe a datacenter site: location, tier, availability, power and carbon figures, free GPUs.

    Args:
        site_id: the site, e.g. "par-dc1".
    """
    site = world.site(site_id)
    nodes = _site_nodes(world, site_id)
    return {
        "site_id": site_id,
        "region": site.region,
        "city": site.city,
        "tier": site.tier,
        "availability_percent": site.availability_percent,
        "pue": site.pue,
        "power_price_kwh": site.power_price_kwh,
        "carbon_g_per_kwh": site.carbon_g_per_kwh,
        "uplink_gbps": site.uplink_gbps,
        "node_count": len(nodes),
        "free_gpus": sum(node.free_gpus for node in nodes if node.status == "online"),
    }


@SUITE.tool(stage="resource_discovery", question="list the compute nodes at site {site_id}")
def list_site_nodes(
    world: CPNWorld,
    site_id: SiteId,
    status: Literal["online", "degraded", "maintenance", "offline"] | None = None,
    min_free_gpus: Annotated[int, Range(0, 8)] = 0,
) -> SiteNodes:
    """List the compute nodes of a site with their free capacity, optionally filtered.

    Args:
        site_id: the site whose nodes to list.
        status: only nodes in this status; all when omitted.
        min_free_gpus: only nodes with at least this many free GPUs.
    """
    world.site(site_id)
    nodes: list[NodeSummary] = [
        {
            "node_id": node.node_id,
            "status": node.status,
            "gpu_model": node.gpu_model,
            "free_cpu_cores": node.free_cpu_cores,
            "free_gpus": node.free_gpus,
        }
        for node in _site_nodes(world, site_id)
        if status in (None, node.status) and node.free_gpus >= min_free_gpus
    ]
    return {"site_id": site_id, "nodes": nodes}


@SUITE.tool(stage="resource_discovery", question="show the details of node {node_id}")
def get_node_details(world: CPNWorld, node_id: NodeId) -> NodeDetails:
    """Full details of a compute node: location, status, hardware, free capacity, hourly price and NIC speed.

    Args:
        node_id: the node, e.g. "par-dc1-n01".
    """
    node = world.node(node_id)
    return {
        "node_id": node_id,
        "site_id": node.site_id,
        "region": world.region_of_node(node),
        "status": node.status,
        "cpu_cores": node.cpu_cores,
        "memory_gb": node.memory_gb,
        "gpu_model": node.gpu_model,
        "gpu_count": node.gpu_count,
        "free_cpu_cores": node.free_cpu_cores,
        "free_memory_gb": node.free_memory_gb,
        "free_gpus": node.free_gpus,
        "price_per_hour": node.price_per_hour,
        "nic_gbps": node.nic_gbps,
    }


@SUITE.tool(stage="resource_discovery", question="what hardware does machine {node_id} have")
def describe_compute_node(world: CPNWorld, node_id: NodeId) -> NodeSpecSheet:
    """Hardware spec sheet of a machine: cores, RAM, accelerator model and count, and its list price per hour.

    Args:
        node_id: machine identifier.
    """
    node = world.node(node_id)
    return {
        "node_id": node_id,
        "site_id": node.site_id,
        "cpu_cores": node.cpu_cores,
        "memory_gb": node.memory_gb,
        "gpu_model": node.gpu_model,
        "gpu_count": node.gpu_count,
        "price_per_hour": node.price_per_hour,
    }


@SUITE.tool(stage="resource_discovery", question="which nodes could host demand {demand_id}")
def find_candidate_nodes(
    world: CPNWorld, demand_id: DemandId, limit: Annotated[int, Range(1, 20)] = 5
) -> CandidateNodes:
    """Find the online nodes with enough free capacity for a demand, cheapest first.

    Args:
        demand_id: the demand to match.
        limit: at most this many nodes.
    """
    demand = world.demand(demand_id)
    nodes: list[Candidate] = [
        {
            "node_id": node.node_id,
            "site_id": node.site_id,
            "region": world.region_of_node(node),
            "gpu_model": node.gpu_model,
            "free_gpus": node.free_gpus,
            "hourly_cost": hourly_cost(world, demand, node),
        }
        for node in candidate_nodes(world, demand)[:limit]
    ]
    return {"demand_id": demand_id, "nodes": nodes}


@SUITE.tool(stage="resource_discovery", question="how many {gpu_model} GPUs are free and where")
def get_gpu_inventory(world: CPNWorld, gpu_model: GpuModel) -> GpuInventory:
    """Count the GPUs of one model across the network and show the sites where some are free.

    Args:
        gpu_model: GPU model, e.g. "A100".
    """
    nodes = [node for node in world.nodes.values() if node.gpu_model == gpu_model]
    if not nodes:
        raise_not_found("GPU model", gpu_model)
    free_by_site: dict[str, GpuSiteStock] = {}
    for node in nodes:
        if node.status == "online" and node.free_gpus:
            stock = free_by_site.setdefault(
                node.site_id, {"site_id": node.site_id, "free_gpus": 0, "price_per_gpu_hour": node.gpu_price}
            )
            stock["free_gpus"] += node.free_gpus
    return {
        "gpu_model": gpu_model,
        "memory_gb_per_gpu": catalogue.GPU_MODELS[gpu_model][0],
        "total_gpus": sum(node.gpu_count for node in nodes),
        "free_gpus": sum(stock["free_gpus"] for stock in free_by_site.values()),
        "sites": sorted(free_by_site.values(), key=lambda stock: stock["price_per_gpu_hour"]),
    }


@SUITE.tool(stage="resource_discovery", question="how much free capacity does region {region} have")
def get_region_capacity(world: CPNWorld, region: RegionName) -> RegionCapacity:
    """Total and free cores, memory and GPUs over the online nodes of a region.

    Args:
        region: the region to add up.
    """
    world.region(region)
    nodes = [n for n in world.nodes.values() if world.region_of_node(n) == region and n.status == "online"]
    return {
        "region": region,
        "online_nodes": len(nodes),
        "cpu_cores_total": sum(n.cpu_cores for n in nodes),
        "cpu_cores_free": sum(n.free_cpu_cores for n in nodes),
        "memory_gb_total": sum(n.memory_gb for n in nodes),
        "memory_gb_free": sum(n.free_memory_gb for n in nodes),
        "gpus_total": sum(n.gpu_count for n in nodes),
        "gpus_free": sum(n.free_gpus for n in nodes),
    }


@SUITE.tool(stage="resource_discovery", question="what does the {image} image need to run")
def get_image_details(world: CPNWorld, image: ImageName) -> ImageDetails:
    """Describe a catalogue image: category, size, memory need and which GPU models it supports.

    Args:
        image: image name, e.g. "pytorch-2.3-cuda12".
    """
    entry = world.image(image)
    return {
        "image": image,
        "category": entry.category,
        "size_gb": entry.size_gb,
        "requires_gpu": entry.requires_gpu,
        "min_memory_gb": entry.min_memory_gb,
        "compatible_gpu_models": list(entry.compatible_gpu_models),
    }
