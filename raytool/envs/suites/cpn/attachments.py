"""Stage `provisioning`, what hangs off a deployment: storage volumes, network settings, firewall ports, snapshots."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from raytool.envs.suite import Conflict, QuotaExceeded, Range
from raytool.envs.suites.cpn import catalogue
from raytool.envs.suites.cpn.model import Snapshot, Volume
from raytool.envs.suites.cpn.provisioning import running
from raytool.envs.suites.cpn.suite import SUITE
from raytool.envs.suites.cpn.types import DeploymentId, ImageName, SnapshotId, VolumeId
from raytool.envs.suites.cpn.world import CPNWorld


class VolumeRecord(TypedDict):
    volume_id: VolumeId
    deployment_id: DeploymentId
    size_gb: int
    storage_class: str
    monthly_cost: float
    status: str


class FirewallRule(TypedDict):
    port: int
    protocol: str


class NetworkConfig(TypedDict):
    deployment_id: DeploymentId
    private_ip: str
    public_ip: str | None
    bandwidth_gbps: int
    firewall_rules: list[FirewallRule]


class FirewallRules(TypedDict):
    deployment_id: DeploymentId
    rules: list[FirewallRule]


class SnapshotRecord(TypedDict):
    snapshot_id: SnapshotId
    deployment_id: DeploymentId
    image: ImageName
    size_gb: float


class RestoreResult(TypedDict):
    snapshot_id: SnapshotId
    deployment_id: DeploymentId
    image: ImageName
    restore_count: int
    status: str


def _volume_record(volume: Volume) -> VolumeRecord:
    return {
        "volume_id": volume.volume_id,
        "deployment_id": volume.deployment_id,
        "size_gb": volume.size_gb,
        "storage_class": volume.storage_class,
        "monthly_cost": round(volume.size_gb * catalogue.STORAGE_PRICES[volume.storage_class], 2),
        "status": volume.status,
    }


def _rules(rules: list[tuple[int, str]]) -> list[FirewallRule]:
    return [{"port": port, "protocol": protocol} for port, protocol in rules]


@SUITE.tool(stage="provisioning", question="attach a {size_gb} GB {storage_class} volume to deployment {deployment_id}")
def attach_storage(
    world: CPNWorld,
    deployment_id: DeploymentId,
    size_gb: Annotated[int, Range(10, 4096)],
    storage_class: Literal["hdd", "ssd", "nvme"],
) -> VolumeRecord:
    """Create a block-storage volume and attach it to a running deployment, within the tenant's storage quota.

    Args:
        deployment_id: the deployment to attach to.
        size_gb: volume size in GB.
        storage_class: kind of disk behind the volume.
    """
    deployment = running(world, deployment_id)
    tenant = world.tenants[deployment.tenant_id]
    if size_gb > tenant.quota_available["storage_gb"]:
        raise QuotaExceeded(f"{size_gb} GB exceeds the {tenant.quota_available['storage_gb']} GB storage quota left")
    volume = Volume(world.new_id("vol"), deployment_id, size_gb, storage_class)
    world.volumes[volume.volume_id] = volume
    deployment.volume_ids.append(volume.volume_id)
    tenant.storage_used += size_gb
    return _volume_record(volume)


@SUITE.tool(stage="provisioning", question="detach volume {volume_id}")
def detach_storage(world: CPNWorld, volume_id: VolumeId) -> VolumeRecord:
    """Detach a storage volume from its deployment and return its size to the tenant's storage quota.

    Args:
        volume_id: the volume, e.g. "vol-0001".
    """
    volume = world.volume(volume_id)
    if volume.status != "attached":
        raise Conflict(f"volume {volume_id} is already {volume.status}")
    volume.status = "detached"
    world.tenants[world.deployments[volume.deployment_id].tenant_id].storage_used -= volume.size_gb
    return _volume_record(volume)


@SUITE.tool(
    stage="provisioning",
    question="give deployment {deployment_id} {bandwidth_gbps} Gbps of bandwidth (public IP: {public_ip})",
)
def configure_network(
    world: CPNWorld,
    deployment_id: DeploymentId,
    public_ip: bool,
    bandwidth_gbps: Annotated[int, Range(1, 25)],
) -> NetworkConfig:
    """Set a running deployment's network: whether it has a public IP address and its bandwidth cap.

    Args:
        deployment_id: the deployment to configure.
        public_ip: true to assign a public IP address, false to remove it.
        bandwidth_gbps: bandwidth cap in Gbps.
    """
    deployment = running(world, deployment_id)
    if public_ip and deployment.public_ip is None:
        deployment.public_ip = f"203.0.113.{world.next_number('public_ip') % 254 + 1}"
    elif not public_ip:
        deployment.public_ip = None
    deployment.bandwidth_gbps = bandwidth_gbps
    return {
        "deployment_id": deployment_id,
        "private_ip": deployment.private_ip,
        "public_ip": deployment.public_ip,
        "bandwidth_gbps": bandwidth_gbps,
        "firewall_rules": _rules(deployment.firewall_rules),
    }


@SUITE.tool(stage="provisioning", question="open {protocol} port {port} on deployment {deployment_id}")
def open_firewall_port(
    world: CPNWorld,
    deployment_id: DeploymentId,
    port: Annotated[int, Range(1, 65535)],
    protocol: Literal["tcp", "udp"],
) -> FirewallRules:
    """Allow inbound traffic on one port of a running deployment.

    Args:
        deployment_id: the deployment to open.
        port: port number.
        protocol: transport protocol.
    """
    deployment = running(world, deployment_id)
    if (port, protocol) in deployment.firewall_rules:
        raise Conflict(f"{protocol} port {port} is already open on {deployment_id}")
    deployment.firewall_rules.append((port, protocol))
    return {"deployment_id": deployment_id, "rules": _rules(deployment.firewall_rules)}


@SUITE.tool(stage="provisioning", question="snapshot deployment {deployment_id}")
def snapshot_deployment(world: CPNWorld, deployment_id: DeploymentId) -> SnapshotRecord:
    """Take a point-in-time snapshot of a running deployment's disk and attached volumes.

    Args:
        deployment_id: the deployment to snapshot.
    """
    deployment = running(world, deployment_id)
    attached = sum(world.volumes[v].size_gb for v in deployment.volume_ids if world.volumes[v].status == "attached")
    size = round(world.images[deployment.image].size_gb + deployment.disk_gb * 0.3 + attached * 0.1, 1)
    snapshot = Snapshot(world.new_id("snp"), deployment_id, deployment.image, size)
    world.snapshots[snapshot.snapshot_id] = snapshot
    return {
        "snapshot_id": snapshot.snapshot_id,
        "deployment_id": deployment_id,
        "image": deployment.image,
        "size_gb": size,
    }


@SUITE.tool(stage="provisioning", question="roll back to snapshot {snapshot_id}")
def restore_snapshot(world: CPNWorld, snapshot_id: SnapshotId) -> RestoreResult:
    """Roll a running deployment back to one of its snapshots, image included.

    Args:
        snapshot_id: the snapshot to restore, e.g. "snp-0001".
    """
    snapshot = world.snapshot(snapshot_id)
    deployment = running(world, snapshot.deployment_id)
    deployment.image = snapshot.image
    deployment.restart_count += 1
    snapshot.restore_count += 1
    return {
        "snapshot_id": snapshot_id,
        "deployment_id": deployment.deployment_id,
        "image": snapshot.image,
        "restore_count": snapshot.restore_count,
        "status": deployment.status,
    }
