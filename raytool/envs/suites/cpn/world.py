"""The seeded CPN world: the provider's estate, its tenants, and every record the tools create.

`CPNWorld.generate(seed)` builds the same world for the same seed; ids of created records come from the
world's counters (`dmd-0001`, `rsv-0003`), so results depend only on the seed and the call history.
"""

from __future__ import annotations

import copy
import heapq
import math
import random
from dataclasses import dataclass, field
from typing import Any

from raytool.envs.suite import raise_not_found
from raytool.envs.suites.cpn import catalogue
from raytool.envs.suites.cpn.model import (
    AlertRule,
    Demand,
    Deployment,
    DiscountOffer,
    Image,
    Invoice,
    Link,
    Node,
    Plan,
    Region,
    Reservation,
    Site,
    SlaTier,
    Snapshot,
    Tenant,
    Volume,
)


@dataclass(frozen=True)
class Route:
    """The lowest-latency path between two sites."""

    path: list[str]
    latency_ms: float
    bandwidth_gbps: int  # the narrowest link on the path
    cost_per_gb: float


@dataclass
class CPNWorld:
    seed: int
    regions: dict[str, Region]
    sites: dict[str, Site]
    nodes: dict[str, Node]
    links: list[Link]
    tenants: dict[str, Tenant]
    images: dict[str, Image]
    sla_tiers: dict[str, SlaTier]
    discounts: dict[str, DiscountOffer]
    demands: dict[str, Demand] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    deployments: dict[str, Deployment] = field(default_factory=dict)
    volumes: dict[str, Volume] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    alert_rules: dict[str, AlertRule] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    # ---- the world contract -------------------------------------------------------------------------------

    def values(self, kind: str) -> list[Any]:
        """Sorted existing values of a kind a task may mention; [] for kinds only tools produce."""
        listed: dict[str, Any] = {
            "region": self.regions,
            "site_id": self.sites,
            "node_id": self.nodes,
            "tenant_id": self.tenants,
            "image": self.images,
            "sla_tier": self.sla_tiers,
            "discount_code": self.discounts,
            "gpu_model": {node.gpu_model for node in self.nodes.values() if node.gpu_model},
        }
        return sorted(listed.get(kind, ()))

    def next_number(self, prefix: str) -> int:
        """Advance the counter of a record type and return its new value."""
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return self.counters[prefix]

    def new_id(self, prefix: str) -> str:
        """The next id of a record type, e.g. `rsv-0001`."""
        return f"{prefix}-{self.next_number(prefix):04d}"

    # ---- lookups that raise NotFound --------------------------------------------------------------------

    def region(self, name: str) -> Region:
        return self.regions.get(name) or raise_not_found("region", name)

    def site(self, site_id: str) -> Site:
        return self.sites.get(site_id) or raise_not_found("site", site_id)

    def node(self, node_id: str) -> Node:
        return self.nodes.get(node_id) or raise_not_found("node", node_id)

    def tenant(self, tenant_id: str) -> Tenant:
        return self.tenants.get(tenant_id) or raise_not_found("tenant", tenant_id)

    def image(self, name: str) -> Image:
        return self.images.get(name) or raise_not_found("image", name)

    def sla_tier(self, name: str) -> SlaTier:
        return self.sla_tiers.get(name) or raise_not_found("SLA tier", name)

    def discount(self, code: str) -> DiscountOffer:
        return self.discounts.get(code) or raise_not_found("discount code", code)

    def demand(self, demand_id: str) -> Demand:
        return self.demands.get(demand_id) or raise_not_found("demand", demand_id)

    def plan(self, plan_id: str) -> Plan:
        return self.plans.get(plan_id) or raise_not_found("placement plan", plan_id)

    def reservation(self, reservation_id: str) -> Reservation:
        return self.reservations.get(reservation_id) or raise_not_found("reservation", reservation_id)

    def deployment(self, deployment_id: str) -> Deployment:
        return self.deployments.get(deployment_id) or raise_not_found("deployment", deployment_id)

    def volume(self, volume_id: str) -> Volume:
        return self.volumes.get(volume_id) or raise_not_found("volume", volume_id)

    def snapshot(self, snapshot_id: str) -> Snapshot:
        return self.snapshots.get(snapshot_id) or raise_not_found("snapshot", snapshot_id)

    def invoice(self, invoice_id: str) -> Invoice:
        return self.invoices.get(invoice_id) or raise_not_found("invoice", invoice_id)

    def alert_rule(self, alert_rule_id: str) -> AlertRule:
        return self.alert_rules.get(alert_rule_id) or raise_not_found("alert rule", alert_rule_id)

    def region_of_node(self, node: Node) -> str:
        return self.sites[node.site_id].region

    def budget_remaining(self, tenant: Tenant) -> float:
        """Budget left after paid spending and open invoices."""
        open_invoices = sum(
            inv.total for inv in self.invoices.values() if inv.tenant_id == tenant.tenant_id and inv.status == "open"
        )
        return round(tenant.budget - tenant.spent - open_invoices, 2)

    # ---- the network ----------------------------------------------------------------------------------

    def route(self, site_a: str, site_b: str) -> Route:
        """Lowest-latency path between two existing sites (Dijkstra over the links)."""
        neighbours: dict[str, list[Link]] = {}
        for link in self.links:
            neighbours.setdefault(link.site_a, []).append(link)
            neighbours.setdefault(link.site_b, []).append(link)
        best: dict[str, float] = {site_a: 0.0}
        previous: dict[str, tuple[str, Link]] = {}
        queue: list[tuple[float, str]] = [(0.0, site_a)]
        while queue:
            latency, here = heapq.heappop(queue)
            if here == site_b or latency > best.get(here, math.inf):
                continue
            for link in neighbours.get(here, []):
                there = link.site_b if link.site_a == here else link.site_a
                if latency + link.latency_ms < best.get(there, math.inf):
                    best[there] = latency + link.latency_ms
                    previous[there] = (here, link)
                    heapq.heappush(queue, (best[there], there))
        path, used = [site_b], []
        while path[-1] != site_a:
            here, link = previous[path[-1]]
            path.append(here)
            used.append(link)
        path.reverse()
        return Route(
            path=path,
            latency_ms=round(best[site_b], 1),
            bandwidth_gbps=min((link.bandwidth_gbps for link in used), default=self.sites[site_a].uplink_gbps),
            cost_per_gb=round(sum(link.cost_per_gb for link in used), 4),
        )

    def latency_ms(self, site_a: str, site_b: str) -> float:
        return 0.5 if site_a == site_b else self.route(site_a, site_b).latency_ms

    # ---- generation -----------------------------------------------------------------------------------

    @classmethod
    def generate(cls, seed: int) -> CPNWorld:
        """A deterministic world: 4-6 regions, 10-16 sites, 40-80 nodes, 6-10 tenants."""
        rng = random.Random(seed)
        regions = _generate_regions(rng)
        sites, positions = _generate_sites(rng, regions)
        nodes = _generate_nodes(rng, sites, regions)
        links = _generate_links(rng, sites, positions)
        tenants = _generate_tenants(rng, sites)
        return cls(
            seed=seed,
            regions=regions,
            sites=sites,
            nodes=nodes,
            links=links,
            tenants=tenants,
            images={image.name: copy.deepcopy(image) for image in catalogue.IMAGES},
            sla_tiers={tier.name: copy.deepcopy(tier) for tier in catalogue.SLA_TIERS},
            discounts={offer.code: copy.deepcopy(offer) for offer in catalogue.DISCOUNTS},
        )


def _generate_regions(rng: random.Random) -> dict[str, Region]:
    names = sorted(rng.sample(sorted(catalogue.REGIONS), rng.randint(4, 6)))
    regions = {}
    for name in names:
        position, multiplier, tax, _ = catalogue.REGIONS[name]
        regions[name] = Region(name, position, round(multiplier * rng.uniform(0.95, 1.05), 3), tax)
    return regions


def _generate_sites(rng: random.Random, regions: dict[str, Region]) -> tuple[dict[str, Site], dict[str, tuple]]:
    counts = [rng.randint(2, 4) for _ in regions]
    while sum(counts) < 10:
        counts[counts.index(min(counts))] += 1
    while sum(counts) > 16:
        counts[counts.index(max(counts))] -= 1
    sites: dict[str, Site] = {}
    positions: dict[str, tuple[float, float]] = {}
    for region, count in zip(regions.values(), counts, strict=True):
        cities = rng.sample(catalogue.REGIONS[region.name][3], count)
        for index, (city, code) in enumerate(cities):
            tier = "hyperscale" if index == 0 else rng.choice(["edge", "core", "core"])
            availability, pue_range, uplink = catalogue.SITE_TIERS[tier]
            site_id = f"{code}-dc{rng.randint(1, 3)}"
            sites[site_id] = Site(
                site_id=site_id,
                region=region.name,
                city=city,
                tier=tier,
                availability_percent=availability,
                pue=round(rng.uniform(*pue_range), 2),
                power_price_kwh=round(rng.uniform(0.06, 0.24), 3),
                carbon_g_per_kwh=rng.randint(20, 600),
                uplink_gbps=uplink,
            )
            x, y = region.position
            positions[site_id] = (x + rng.uniform(-3, 3), y + rng.uniform(-3, 3))
    return sites, positions


def _generate_nodes(rng: random.Random, sites: dict[str, Site], regions: dict[str, Region]) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    secondary: list[str] = []
    for site in sites.values():
        multiplier = regions[site.region].price_multiplier
        for index in range(1, rng.randint(4, 5) + 1):
            node_id = f"{site.site_id}-n{index:02d}"
            primary = index == 1  # every site's first node is a fully free, online 8-GPU training node
            nodes[node_id] = Node(
                node_id=node_id,
                site_id=site.site_id,
                cpu_cores=rng.choice([96, 128]) if primary else rng.choice([32, 64, 96, 128]),
                memory_gb=rng.choice([1024, 2048]) if primary else rng.choice([128, 256, 512, 1024]),
                gpu_model=rng.choice(catalogue.TRAINING_GPUS) if primary else None,
                gpu_count=8 if primary else 0,
                status="online"
                if primary
                else rng.choices(["online", "degraded", "maintenance", "offline"], [85, 7, 4, 4])[0],
                core_price=round(0.021 * multiplier, 4),
                memory_price=round(0.0032 * multiplier, 4),
                gpu_price=0.0,
                nic_gbps=100 if primary else rng.choice([25, 50, 100]),
            )
            if not primary:
                secondary.append(node_id)
    # a share of the other nodes carry GPUs; every GPU model appears at least once
    gpu_nodes = rng.sample(secondary, max(6, round(0.35 * len(secondary))))
    models = list(catalogue.GPU_MODELS)
    rng.shuffle(models)
    for position, node_id in enumerate(gpu_nodes):
        node = nodes[node_id]
        node.gpu_model = models[position % len(models)]
        node.gpu_count = rng.choice([2, 4] if node.gpu_model in ("T4", "L4") else [4, 8])
        node.cpu_cores, node.memory_gb = max(node.cpu_cores, 64), max(node.memory_gb, 512)
    for node in nodes.values():
        multiplier = regions[sites[node.site_id].region].price_multiplier
        if node.gpu_model:
            node.gpu_price = round(catalogue.GPU_MODELS[node.gpu_model][1] * multiplier, 3)
        if node.node_id in secondary:  # background load from the provider's other customers
            node.cpu_allocated = rng.randint(0, node.cpu_cores // 2)
            node.memory_allocated = rng.randint(0, node.memory_gb // 2)
            node.gpus_allocated = rng.randint(0, node.gpu_count // 2)
    return nodes


def _generate_links(rng: random.Random, sites: dict[str, Site], positions: dict[str, tuple]) -> list[Link]:
    def link(a: str, b: str, backbone: bool) -> Link:
        distance = math.dist(positions[a], positions[b])
        return Link(
            site_a=a,
            site_b=b,
            latency_ms=round(distance * 1.1 + rng.uniform(0.3, 1.5), 1),
            bandwidth_gbps=rng.choice([400, 800]) if backbone else rng.choice([100, 200, 400]),
            utilization_percent=rng.randint(10, 85),
            cost_per_gb=round(0.02 + distance * 0.0004, 4) if backbone else 0.0,
        )

    by_region: dict[str, list[str]] = {}
    for site in sites.values():
        by_region.setdefault(site.region, []).append(site.site_id)
    links = []
    for members in by_region.values():
        links += [link(a, b, False) for i, a in enumerate(members) for b in members[i + 1 :]]
    gateways = [members[0] for members in by_region.values()]
    links += [link(a, b, True) for i, a in enumerate(gateways) for b in gateways[i + 1 :]]
    return links


def _generate_tenants(rng: random.Random, sites: dict[str, Site]) -> dict[str, Tenant]:
    chosen = sorted(rng.sample(catalogue.TENANTS, rng.randint(6, 10)))
    tiers = [tier.name for tier in catalogue.SLA_TIERS]
    tenants = {}
    for tenant_id, name, segment in chosen:
        cpu, memory, gpus = rng.choice([512, 1024, 2048]), rng.choice([4096, 8192, 16384]), rng.choice([64, 96, 128])
        storage, budget = rng.choice([20000, 50000, 100000]), float(rng.choice([150000, 250000, 400000, 600000]))
        tenants[tenant_id] = Tenant(
            tenant_id=tenant_id,
            name=name,
            segment=segment,
            home_site_id=rng.choice(sorted(sites)),
            default_sla_tier=rng.choice(tiers[:3]),
            cpu_limit=cpu,
            memory_limit=memory,
            gpu_limit=gpus,
            storage_limit=storage,
            cpu_used=rng.randint(0, cpu // 5),
            memory_used=rng.randint(0, memory // 5),
            gpus_used=rng.randint(0, gpus // 5),
            storage_used=rng.randint(0, storage // 5),
            budget=budget,
            spent=round(rng.uniform(0, 0.2) * budget, 2),
            contract_caps={"cpu_cores": cpu * 2, "memory_gb": memory * 2, "gpus": gpus * 2, "storage_gb": storage * 2},
        )
    return tenants
