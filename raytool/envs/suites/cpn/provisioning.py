"""Stage `provisioning`, workload side: deploy images on reservations as containers or VMs, scale, update, release."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from raytool.envs.suite import Conflict, InvalidArgument, QuotaExceeded, Range
from raytool.envs.suites.cpn.model import Deployment, Image, Reservation
from raytool.envs.suites.cpn.reservations import free_reservation
from raytool.envs.suites.cpn.suite import SUITE
from raytool.envs.suites.cpn.types import (
    DeploymentId,
    DeploymentRecord,
    ImageName,
    ReservationId,
    TenantId,
    VolumeId,
)
from raytool.envs.suites.cpn.world import CPNWorld


class DeploymentSummary(TypedDict):
    deployment_id: DeploymentId
    image: ImageName
    runtime: str
    replicas: int
    status: str


class TenantDeployments(TypedDict):
    tenant_id: TenantId
    deployments: list[DeploymentSummary]


class ScaleResult(TypedDict):
    deployment_id: DeploymentId
    previous_replicas: int
    replicas: int
    cpu_cores_total: int
    memory_gb_total: int
    gpus_total: int


class AutoscalePolicy(TypedDict):
    deployment_id: DeploymentId
    min_replicas: int
    max_replicas: int
    target_cpu_percent: int
    current_replicas: int


class RestartResult(TypedDict):
    deployment_id: DeploymentId
    status: str
    restart_count: int


class DeploymentRelease(TypedDict):
    deployment_id: DeploymentId
    reservation_id: ReservationId
    status: str
    freed_cpu_cores: int
    freed_memory_gb: int
    freed_gpus: int
    detached_volumes: list[VolumeId]


def deployment_record(world: CPNWorld, deployment: Deployment) -> DeploymentRecord:
    return {
        "deployment_id": deployment.deployment_id,
        "reservation_id": deployment.reservation_id,
        "tenant_id": deployment.tenant_id,
        "node_id": deployment.node_id,
        "site_id": world.nodes[deployment.node_id].site_id,
        "image": deployment.image,
        "runtime": deployment.runtime,
        "replicas": deployment.replicas,
        "disk_gb": deployment.disk_gb,
        "private_ip": deployment.private_ip,
        "public_ip": deployment.public_ip,
        "status": deployment.status,
    }


def running(world: CPNWorld, deployment_id: str) -> Deployment:
    """The deployment, which must still be running."""
    deployment = world.deployment(deployment_id)
    if deployment.status != "running":
        raise Conflict(f"deployment {deployment_id} is {deployment.status}")
    return deployment


def _check_image_fits(world: CPNWorld, image: Image, reservation: Reservation) -> None:
    gpu_model = world.nodes[reservation.node_id].gpu_model
    if image.requires_gpu and reservation.gpu_count == 0:
        raise InvalidArgument(f"image {image.name} needs a GPU; reservation {reservation.reservation_id} has none")
    if image.requires_gpu and gpu_model not in image.compatible_gpu_models:
        raise InvalidArgument(f"image {image.name} does not support {gpu_model} GPUs")
    if reservation.memory_gb < image.min_memory_gb:
        raise InvalidArgument(
            f"image {image.name} needs {image.min_memory_gb} GB memory, reservation has {reservation.memory_gb}"
        )


def _deploy(world: CPNWorld, reservation_id: str, image_name: str, runtime: str, disk_gb: int) -> DeploymentRecord:
    reservation, image = world.reservation(reservation_id), world.image(image_name)
    if reservation.status == "deployed":
        taken = next(d.deployment_id for d in world.deployments.values() if d.reservation_id == reservation_id)
        raise Conflict(f"reservation {reservation_id} already runs deployment {taken}")
    if reservation.status != "held":
        raise Conflict(f"reservation {reservation_id} is {reservation.status}")
    _check_image_fits(world, image, reservation)
    deployment_id = world.new_id("dep")
    number, site_index = world.counters["dep"], sorted(world.sites).index(world.nodes[reservation.node_id].site_id)
    deployment = Deployment(
        deployment_id=deployment_id,
        reservation_id=reservation_id,
        tenant_id=reservation.tenant_id,
        node_id=reservation.node_id,
        image=image_name,
        runtime=runtime,
        disk_gb=disk_gb,
        private_ip=f"10.{site_index}.{number // 250}.{number % 250 + 2}",
    )
    world.deployments[deployment_id] = deployment
    reservation.status = "deployed"
    world.demands[reservation.demand_id].status = "deployed"
    return deployment_record(world, deployment)


@SUITE.tool(stage="provisioning", question="deploy the {image} image on reservation {reservation_id}")
def deploy_image(world: CPNWorld, reservation_id: ReservationId, image: ImageName) -> DeploymentRecord:
    """Start a catalogue image as a container on the capacity held by a reservation.

    Args:
        reservation_id: the held reservation to run on.
        image: catalogue image to run, e.g. "pytorch-2.3-cuda12".
    """
    return _deploy(world, reservation_id, image, "container", round(world.image(image).size_gb * 2))


@SUITE.tool(stage="provisioning", question="provision a virtual machine from {image} on reservation {reservation_id}")
def provision_vm(
    world: CPNWorld,
    reservation_id: ReservationId,
    image: ImageName,
    disk_gb: Annotated[int, Range(20, 2000)] = 100,
) -> DeploymentRecord:
    """Boot a virtual machine from a catalogue image on a reserved node, with a boot disk of the given size.

    Args:
        reservation_id: the held reservation to boot on.
        image: catalogue image the VM boots from.
        disk_gb: size of the boot disk in GB.
    """
    return _deploy(world, reservation_id, image, "vm", disk_gb)


@SUITE.tool(stage="provisioning", question="show deployment {deployment_id}")
def get_deployment(world: CPNWorld, deployment_id: DeploymentId) -> DeploymentRecord:
    """Fetch a deployment: its reservation, node, site, image, runtime, replicas, addresses and status.

    Args:
        deployment_id: the deployment, e.g. "dep-0001".
    """
    return deployment_record(world, world.deployment(deployment_id))


@SUITE.tool(stage="provisioning", question="list the deployments of tenant {tenant_id}")
def list_tenant_deployments(
    world: CPNWorld, tenant_id: TenantId, status: Literal["running", "released"] | None = None
) -> TenantDeployments:
    """List a tenant's deployments, optionally only running or only released ones.

    Args:
        tenant_id: the tenant whose deployments to list.
        status: only deployments in this status; all when omitted.
    """
    world.tenant(tenant_id)
    deployments: list[DeploymentSummary] = [
        {
            "deployment_id": d.deployment_id,
            "image": d.image,
            "runtime": d.runtime,
            "replicas": d.replicas,
            "status": d.status,
        }
        for d in world.deployments.values()
        if d.tenant_id == tenant_id and status in (None, d.status)
    ]
    return {"tenant_id": tenant_id, "deployments": deployments}


@SUITE.tool(stage="provisioning", question="scale deployment {deployment_id} to {replicas} replicas")
def scale_deployment(
    world: CPNWorld, deployment_id: DeploymentId, replicas: Annotated[int, Range(1, 8)]
) -> ScaleResult:
    """Change the number of replicas of a running deployment; each extra replica counts against the tenant's quota.

    Args:
        deployment_id: the deployment to scale.
        replicas: the new number of replicas.
    """
    deployment = running(world, deployment_id)
    reservation, tenant = world.reservations[deployment.reservation_id], world.tenants[deployment.tenant_id]
    change = replicas - deployment.replicas
    needs = {"cpu_cores": reservation.cpu_cores, "memory_gb": reservation.memory_gb, "gpus": reservation.gpu_count}
    available = tenant.quota_available
    for resource, per_replica in needs.items():
        if change * per_replica > available[resource]:
            raise QuotaExceeded(
                f"{replicas} replicas need {change * per_replica} more {resource}; quota leaves {available[resource]}"
            )
    tenant.cpu_used += change * reservation.cpu_cores
    tenant.memory_used += change * reservation.memory_gb
    tenant.gpus_used += change * reservation.gpu_count
    previous, deployment.replicas = deployment.replicas, replicas
    return {
        "deployment_id": deployment_id,
        "previous_replicas": previous,
        "replicas": replicas,
        "cpu_cores_total": replicas * reservation.cpu_cores,
        "memory_gb_total": replicas * reservation.memory_gb,
        "gpus_total": replicas * reservation.gpu_count,
    }


@SUITE.tool(
    stage="provisioning",
    question="autoscale deployment {deployment_id} between {min_replicas} and {max_replicas} replicas "
    "at {target_cpu_percent}% CPU",
)
def configure_autoscaling(
    world: CPNWorld,
    deployment_id: DeploymentId,
    min_replicas: Annotated[int, Range(1, 4)],
    max_replicas: Annotated[int, Range(4, 16)],
    target_cpu_percent: Annotated[int, Range(20, 90)],
) -> AutoscalePolicy:
    """Set the autoscaling policy of a running deployment: replica bounds and the CPU utilisation to aim for.

    Args:
        deployment_id: the deployment to autoscale.
        min_replicas: fewest replicas to keep.
        max_replicas: most replicas to run.
        target_cpu_percent: average CPU utilisation the autoscaler aims for.
    """
    deployment = running(world, deployment_id)
    deployment.autoscaling = (min_replicas, max_replicas, target_cpu_percent)
    return {
        "deployment_id": deployment_id,
        "min_replicas": min_replicas,
        "max_replicas": max_replicas,
        "target_cpu_percent": target_cpu_percent,
        "current_replicas": deployment.replicas,
    }


@SUITE.tool(stage="provisioning", question="restart deployment {deployment_id}")
def restart_deployment(world: CPNWorld, deployment_id: DeploymentId) -> RestartResult:
    """Restart all replicas of a running deployment.

    Args:
        deployment_id: the deployment to restart.
    """
    deployment = running(world, deployment_id)
    deployment.restart_count += 1
    return {"deployment_id": deployment_id, "status": deployment.status, "restart_count": deployment.restart_count}


@SUITE.tool(stage="provisioning", question="switch deployment {deployment_id} to the {image} image")
def update_deployment_image(world: CPNWorld, deployment_id: DeploymentId, image: ImageName) -> DeploymentRecord:
    """Roll a running deployment over to another catalogue image.

    Args:
        deployment_id: the deployment to update.
        image: the image to run from now on.
    """
    deployment = running(world, deployment_id)
    if deployment.image == image:
        raise Conflict(f"deployment {deployment_id} already runs {image}")
    _check_image_fits(world, world.image(image), world.reservations[deployment.reservation_id])
    deployment.image = image
    deployment.restart_count += 1
    return deployment_record(world, deployment)


@SUITE.tool(stage="provisioning", question="release deployment {deployment_id}")
def release_deployment(world: CPNWorld, deployment_id: DeploymentId) -> DeploymentRelease:
    """Tear a deployment down: detach its volumes and give its node capacity and quota back.

    Args:
        deployment_id: the deployment to release.
    """
    deployment = world.deployment(deployment_id)
    if deployment.status == "released":
        raise Conflict(f"deployment {deployment_id} is already released")
    reservation, tenant = world.reservations[deployment.reservation_id], world.tenants[deployment.tenant_id]
    extra = deployment.replicas - 1
    tenant.cpu_used -= extra * reservation.cpu_cores
    tenant.memory_used -= extra * reservation.memory_gb
    tenant.gpus_used -= extra * reservation.gpu_count
    detached = []
    for volume_id in deployment.volume_ids:
        volume = world.volumes[volume_id]
        if volume.status == "attached":
            volume.status = "detached"
            tenant.storage_used -= volume.size_gb
            detached.append(volume_id)
    freed = free_reservation(world, reservation, "released")
    deployment.status = "released"
    return {
        "deployment_id": deployment_id,
        "reservation_id": reservation.reservation_id,
        "status": "released",
        "freed_cpu_cores": freed["freed_cpu_cores"],
        "freed_memory_gb": freed["freed_memory_gb"],
        "freed_gpus": freed["freed_gpus"],
        "detached_volumes": detached,
    }
