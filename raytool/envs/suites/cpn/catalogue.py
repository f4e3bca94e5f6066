"""The provider's fixed catalogues: regions and cities, GPU models, images, SLA tiers, discounts, workload profiles.

A world draws its estate (which regions, sites, nodes, tenants) from these with its seed.
"""

from __future__ import annotations

from raytool.envs.suites.cpn.model import DiscountOffer, Image, SlaTier

# region -> (position in latency space (ms), price multiplier, tax rate, cities as (name, site code))
REGIONS: dict[str, tuple[tuple[float, float], float, float, list[tuple[str, str]]]] = {
    "eu-west": ((0.0, 0.0), 1.0, 0.20, [("Paris", "par"), ("Dublin", "dub"), ("Amsterdam", "ams"), ("London", "lon")]),
    "eu-central": (
        (9.0, 4.0),
        1.05,
        0.19,
        [("Frankfurt", "fra"), ("Zurich", "zrh"), ("Warsaw", "waw"), ("Vienna", "vie")],
    ),
    "us-east": (
        (-70.0, -5.0),
        0.95,
        0.07,
        [("Ashburn", "iad"), ("New York", "nyc"), ("Atlanta", "atl"), ("Toronto", "yyz")],
    ),
    "us-west": (
        (-135.0, 0.0),
        0.97,
        0.08,
        [("San Jose", "sjc"), ("Portland", "pdx"), ("Phoenix", "phx"), ("Seattle", "sea")],
    ),
    "ap-south": (
        (105.0, -30.0),
        0.9,
        0.18,
        [("Mumbai", "bom"), ("Singapore", "sin"), ("Chennai", "maa"), ("Jakarta", "cgk")],
    ),
    "ap-east": ((140.0, 5.0), 1.1, 0.10, [("Tokyo", "nrt"), ("Seoul", "icn"), ("Hong Kong", "hkg"), ("Osaka", "kix")]),
    "sa-east": (
        (-95.0, -60.0),
        1.15,
        0.17,
        [("Sao Paulo", "gru"), ("Santiago", "scl"), ("Buenos Aires", "eze"), ("Bogota", "bog")],
    ),
}

# site tier -> (availability %, power usage effectiveness range, uplink Gbps)
SITE_TIERS: dict[str, tuple[float, tuple[float, float], int]] = {
    "edge": (99.5, (1.4, 1.7), 100),
    "core": (99.95, (1.2, 1.4), 400),
    "hyperscale": (99.99, (1.08, 1.2), 1600),
}

# GPU model -> (memory per GPU in GB, list price per GPU-hour)
GPU_MODELS: dict[str, tuple[int, float]] = {
    "H100": (80, 3.9),
    "A100": (80, 2.6),
    "L40S": (48, 1.7),
    "A10G": (24, 1.0),
    "L4": (24, 0.7),
    "T4": (16, 0.35),
}
TRAINING_GPUS = ("H100", "A100", "L40S")

ALL_GPUS = list(GPU_MODELS)
IMAGES: list[Image] = [
    Image("ubuntu-22.04", "os", 2.5, False, 1, []),
    Image("debian-12", "os", 1.8, False, 1, []),
    Image("pytorch-2.3-cuda12", "ml-training", 14.0, True, 16, ALL_GPUS),
    Image("tensorflow-2.16-gpu", "ml-training", 11.5, True, 16, ALL_GPUS),
    Image("triton-inference-24.05", "ml-inference", 9.8, True, 8, ALL_GPUS),
    Image("vllm-0.5", "ml-inference", 8.6, True, 16, ALL_GPUS),
    Image("tensorrt-llm-0.10", "ml-inference", 12.3, True, 32, ["H100", "A100", "L40S"]),
    Image("spark-3.5", "analytics", 3.2, False, 8, []),
    Image("jupyter-datascience", "analytics", 4.1, False, 4, ALL_GPUS),
    Image("postgres-16", "database", 0.4, False, 2, []),
    Image("nginx-1.27", "web", 0.2, False, 1, []),
]

SLA_TIERS: list[SlaTier] = [
    SlaTier("bronze", 99.0, 250, 1440, 1.0),
    SlaTier("silver", 99.5, 150, 240, 1.1),
    SlaTier("gold", 99.9, 90, 60, 1.25),
    SlaTier("platinum", 99.99, 40, 15, 1.5),
]

DISCOUNTS: list[DiscountOffer] = [
    DiscountOffer("WELCOME10", 10, "all", None),
    DiscountOffer("LOYAL5", 5, "all", None),
    DiscountOffer("GPU20", 20, "gpu", None),
    DiscountOffer("EDU30", 30, "all", "education"),
]

# (tenant id, display name, segment)
TENANTS: list[tuple[str, str, str]] = [
    ("acme-ai", "Acme AI", "enterprise"),
    ("northwind-labs", "Northwind Labs", "startup"),
    ("uni-lyon", "Universite de Lyon", "education"),
    ("helix-bio", "Helix Biosciences", "enterprise"),
    ("orbit-media", "Orbit Media", "startup"),
    ("quanta-fin", "Quanta Finance", "enterprise"),
    ("city-of-oslo", "City of Oslo", "public_sector"),
    ("nimbus-games", "Nimbus Games", "startup"),
    ("vega-robotics", "Vega Robotics", "enterprise"),
    ("kepler-institute", "Kepler Research Institute", "education"),
    ("tidal-health", "Tidal Health", "public_sector"),
    ("polar-analytics", "Polar Analytics", "startup"),
]

# (workload, scale) -> (cpu cores, memory GB, GPUs, suggested GPU model, suggested image)
WORKLOAD_PROFILES: dict[tuple[str, str], tuple[int, int, int, str | None, str]] = {
    ("training", "small"): (8, 64, 1, "A10G", "pytorch-2.3-cuda12"),
    ("training", "medium"): (32, 256, 4, "A100", "pytorch-2.3-cuda12"),
    ("training", "large"): (64, 512, 8, "H100", "pytorch-2.3-cuda12"),
    ("inference", "small"): (4, 16, 1, "T4", "triton-inference-24.05"),
    ("inference", "medium"): (8, 64, 1, "L4", "vllm-0.5"),
    ("inference", "large"): (16, 128, 2, "L40S", "vllm-0.5"),
    ("batch", "small"): (8, 32, 0, None, "ubuntu-22.04"),
    ("batch", "medium"): (32, 128, 0, None, "ubuntu-22.04"),
    ("batch", "large"): (64, 256, 0, None, "spark-3.5"),
    ("web", "small"): (2, 4, 0, None, "nginx-1.27"),
    ("web", "medium"): (4, 16, 0, None, "nginx-1.27"),
    ("web", "large"): (8, 32, 0, None, "nginx-1.27"),
    ("database", "small"): (4, 32, 0, None, "postgres-16"),
    ("database", "medium"): (16, 128, 0, None, "postgres-16"),
    ("database", "large"): (32, 384, 0, None, "postgres-16"),
    ("analytics", "small"): (8, 64, 0, None, "jupyter-datascience"),
    ("analytics", "medium"): (16, 128, 0, None, "spark-3.5"),
    ("analytics", "large"): (48, 384, 0, None, "spark-3.5"),
}

# storage class -> price per GB-month
STORAGE_PRICES: dict[str, float] = {"hdd": 0.02, "ssd": 0.08, "nvme": 0.15}
HOURS_PER_MONTH = 730
