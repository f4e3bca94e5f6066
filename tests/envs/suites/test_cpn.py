"""The CPN suite: shape, documentation, chainability, determinism, failure modes and the planted overlaps."""

from __future__ import annotations

import copy
import inspect
import json
import random
import string
from collections import Counter, defaultdict
from itertools import combinations
from typing import Any

import pytest

from raytool.envs.docgen import KIND_KEY
from raytool.envs.suite import Conflict, InvalidArgument, NotFound, QuotaExceeded, SuiteTool, ToolError
from raytool.envs.suites import get_suite
from raytool.envs.suites.cpn import PLANTED_OVERLAPS, STAGES, SUITE, CPNWorld

SEED = 7
GPU_IMAGE = "pytorch-2.3-cuda12"
# The demo chain through all five stages: (kind it produces, tool, fixed arguments, where the value is in the output).
# Arguments not given are filled from the kinds produced so far (linked by kind).
CHAIN: list[tuple[str, str, dict[str, Any], str]] = [
    ("demand_id", "submit_demand", {"cpu_cores": 16, "memory_gb": 64, "gpu_count": 2, "hours": 48}, "demand_id"),
    ("node_id", "find_candidate_nodes", {}, "nodes.0.node_id"),
    ("plan_id", "plan_placement", {}, "plan_id"),
    ("reservation_id", "reserve_capacity", {}, "reservation_id"),
    ("deployment_id", "deploy_image", {}, "deployment_id"),
    ("volume_id", "attach_storage", {"size_gb": 200, "storage_class": "ssd"}, "volume_id"),
    ("snapshot_id", "snapshot_deployment", {}, "snapshot_id"),
    ("alert_rule_id", "create_alert_rule", {"metric": "cpu_util_percent", "threshold": 50.0}, "alert_rule_id"),
    ("invoice_id", "generate_invoice", {}, "invoice_id"),
]
CHAIN_KINDS = [kind for kind, *_ in CHAIN]
# parameters a task must take from an earlier output rather than sample: a node that can host the demand
LINKED_PARAMETERS = {("plan_placement", "node_id")}


def pick(output: Any, path: str) -> Any:
    for part in path.split("."):
        output = output[int(part)] if isinstance(output, list) else output[part]
    return output


def kind_of(tool: SuiteTool, param: str) -> str | None:
    return tool.spec.properties[param].get(KIND_KEY)


def linked_arguments(tool: SuiteTool, known: dict[str, Any], fixed: dict[str, Any] | None = None) -> dict[str, Any]:
    arguments = dict(fixed or {})
    for param in tool.spec.required:
        if param not in arguments:
            arguments[param] = known[kind_of(tool, param)]
    return arguments


def run_chain(world: CPNWorld, depth: int = len(CHAIN)) -> dict[str, Any]:
    """Run the first `depth` steps of the demo chain; the linked values by kind."""
    known: dict[str, Any] = {"tenant_id": world.values("tenant_id")[0], "image": GPU_IMAGE}
    for kind, name, fixed, path in CHAIN[:depth]:
        known[kind] = pick(SUITE.call(world, name, linked_arguments(SUITE.tools[name], known, fixed)), path)
    return known


def prepared(*tools: SuiteTool, seed: int = SEED) -> tuple[CPNWorld, dict[str, Any]]:
    """A fresh world where the chain has produced every tool-made kind the tools need (and no more)."""
    needed = [CHAIN_KINDS.index(kind_of(t, p)) for t in tools for p in t.spec.required if kind_of(t, p) in CHAIN_KINDS]
    world = CPNWorld.generate(seed)
    return world, run_chain(world, max(needed + [1]) + 1)


def typical(schema: dict[str, Any], attempt: int) -> Any:
    if "enum" in schema:
        return schema["enum"][attempt % len(schema["enum"])]
    if schema["type"] == "boolean":
        return attempt % 2 == 0
    value = schema["minimum"] + (schema["maximum"] - schema["minimum"]) * (0.25 + 0.1 * attempt)
    return int(value) if schema["type"] == "integer" else round(value, 1)


def attempt_arguments(tool: SuiteTool, world: CPNWorld, known: dict[str, Any], attempt: int) -> dict[str, Any]:
    """Arguments from the chain's outputs, the world's values (distinct per same-kind parameter) and ranges."""
    arguments: dict[str, Any] = {}
    seen: Counter[str] = Counter()
    for param in tool.spec.required:
        schema, kind = tool.spec.properties[param], kind_of(tool, param)
        if kind is None:
            arguments[param] = typical(schema, attempt)
            continue
        if kind in known and seen[kind] == 0 and attempt == 0:
            arguments[param] = known[kind]
        else:
            values = world.values(kind) or [known[kind]]
            arguments[param] = values[(attempt + seen[kind]) % len(values)]
        seen[kind] += 1
    return arguments


def sampled_arguments(tool: SuiteTool, world: CPNWorld, known: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Arguments as a task generator samples them: values() for listed kinds, earlier outputs for the others."""
    arguments: dict[str, Any] = {}
    for param in tool.spec.required:
        schema, kind = tool.spec.properties[param], kind_of(tool, param)
        if kind is not None:
            listed = world.values(kind)
            linked = (tool.name, param) in LINKED_PARAMETERS or not listed
            arguments[param] = known[kind] if linked else rng.choice(listed)
        elif "enum" in schema:
            arguments[param] = rng.choice(schema["enum"])
        elif schema["type"] == "boolean":
            arguments[param] = rng.random() < 0.5
        elif schema["type"] == "integer":
            arguments[param] = rng.randint(int(schema["minimum"]), int(schema["maximum"]))
        else:
            arguments[param] = round(rng.uniform(schema["minimum"], schema["maximum"]), 1)
    return arguments


def conforms(value: Any, schema: dict[str, Any]) -> bool:
    """Whether a result matches the JSON schema docgen derived from the tool's return type."""
    if value is None:
        return True  # `X | None` fields
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        props = schema["properties"]
        return (
            isinstance(value, dict)
            and set(value) == set(props)
            and all(conforms(value[key], props[key]) for key in props)
        )
    if kind == "array":
        return isinstance(value, list) and all(conforms(item, schema["items"]) for item in value)
    checks = {"string": str, "integer": int, "number": (int, float), "boolean": bool}
    return isinstance(value, checks[kind]) and (kind == "boolean" or not isinstance(value, bool))


def output_kinds() -> set[str]:
    kinds: set[str] = set()

    def walk(schema: dict[str, Any]) -> None:
        if KIND_KEY in schema:
            kinds.add(schema[KIND_KEY])
        for child in schema.get("properties", {}).values():
            walk(child)
        if "items" in schema:
            walk(schema["items"])

    for tool in SUITE.tools.values():
        walk(tool.spec.returns or {})
    return kinds


# ---- shape and documentation ----------------------------------------------------------------------------


def test_suite_has_sixty_tools_over_five_stages() -> None:
    assert get_suite("cpn") is SUITE
    assert SUITE.stages == STAGES and len(STAGES) == 5
    per_stage = Counter(tool.stage for tool in SUITE.tools.values())
    assert len(SUITE.tools) >= 60
    assert set(per_stage) == set(STAGES)
    assert min(per_stage.values()) >= 10, per_stage
    stages_in_order = [tool.stage for tool in SUITE.tools.values()]
    assert stages_in_order == sorted(stages_in_order, key=STAGES.index), "tools register in stage order"


def test_every_tool_is_documented_and_asks_a_question_naming_its_required_parameters() -> None:
    for tool in SUITE.tools.values():
        assert tool.spec.description and tool.spec.domain == "cpn"
        for param, schema in tool.spec.properties.items():
            assert schema.get("description"), f"{tool.name}.{param} has no description"
        named = {field for _, field, _, _ in string.Formatter().parse(tool.question) if field}
        assert set(tool.spec.required) <= named, f"{tool.name}: question {tool.question!r} misses parameters"
        assert tool.spec.returns and tool.spec.returns["type"] == "object"


def test_tools_return_nested_results() -> None:
    def nested(schema: dict[str, Any]) -> bool:
        return any(child.get("type") == "array" for child in schema.get("properties", {}).values())

    assert sum(nested(tool.spec.returns) for tool in SUITE.tools.values()) >= 15


def test_every_required_parameter_can_be_supplied() -> None:
    """Listed by values(), produced by some tool, or a bounded number / enum / bool."""
    world, produced = CPNWorld.generate(SEED), output_kinds()
    for tool in SUITE.tools.values():
        for param in tool.spec.required:
            schema, kind = tool.spec.properties[param], kind_of(tool, param)
            if kind is not None:
                assert world.values(kind) or kind in produced, f"{tool.name}.{param}: kind {kind} has no source"
            elif schema["type"] in ("integer", "number"):
                assert "minimum" in schema and "maximum" in schema, f"{tool.name}.{param} has no Range"
            else:
                assert "enum" in schema or schema["type"] == "boolean", f"{tool.name}.{param} is a free string"


# ---- the world --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_world_sizes_and_values(seed: int) -> None:
    world = CPNWorld.generate(seed)
    assert 4 <= len(world.regions) <= 6 and 10 <= len(world.sites) <= 16
    assert 40 <= len(world.nodes) <= 80 and 6 <= len(world.tenants) <= 10
    for kind in ("region", "site_id", "node_id", "tenant_id", "image", "gpu_model", "sla_tier", "discount_code"):
        values = world.values(kind)
        assert values and values == sorted(values), kind
    for kind in CHAIN_KINDS[2:] + ["demand_id", "no_such_kind"]:
        assert world.values(kind) == []
    assert copy.deepcopy(world) == world


def test_same_seed_same_results_and_different_seeds_different_worlds() -> None:
    def session(seed: int) -> tuple[list[Any], CPNWorld]:
        world = CPNWorld.generate(seed)
        random.seed(seed + 1000)  # global random state must not matter
        known = run_chain(world)
        outputs = [SUITE.call(world, "get_deployment_metrics", {"deployment_id": known["deployment_id"]})]
        outputs.append(SUITE.call(world, "detect_anomalies", {"deployment_id": known["deployment_id"]}))
        outputs.append(SUITE.call(world, "check_node_health", {"node_id": known["node_id"]}))
        outputs.append(SUITE.call(world, "pay_invoice", {"invoice_id": known["invoice_id"]}))
        return [known, *outputs], world

    first, first_world = session(SEED)
    second, second_world = session(SEED)
    assert first == second and first_world == second_world
    assert first[0]["reservation_id"] == "rsv-0001" and first[0]["invoice_id"] == "inv-0001"
    assert CPNWorld.generate(1) != CPNWorld.generate(2)
    assert CPNWorld.generate(1).values("node_id") != CPNWorld.generate(2).values("node_id")


def test_tools_use_no_clock_files_network_or_global_random() -> None:
    import raytool.envs.suites.cpn as package

    for module in {inspect.getmodule(tool.fn) for tool in SUITE.tools.values()} | {package}:
        source = inspect.getsource(module)
        for banned in (
            "import time",
            "datetime",
            "open(",
            "socket",
            "urllib",
            "requests",
            "random.random(",
            "random.seed",
        ):
            assert banned not in source, f"{module.__name__} uses {banned}"


# ---- chains -----------------------------------------------------------------------------------------------


def test_demo_chain_links_outputs_to_inputs_through_all_stages() -> None:
    world = CPNWorld.generate(SEED)
    call = lambda name, **arguments: SUITE.call(world, name, arguments)  # noqa: E731
    tenant = world.values("tenant_id")[0]
    demand = call("submit_demand", tenant_id=tenant, cpu_cores=8, memory_gb=32, gpu_count=1, hours=72)
    candidates = call("find_candidate_nodes", demand_id=demand["demand_id"])
    node_id = candidates["nodes"][0]["node_id"]
    details = call("get_node_details", node_id=node_id)
    assert details["free_gpus"] >= 1 and details["status"] == "online"
    plan = call("plan_placement", demand_id=demand["demand_id"], node_id=node_id)
    assert call("check_sla_feasibility", plan_id=plan["plan_id"])["plan_id"] == plan["plan_id"]
    reservation = call("reserve_capacity", plan_id=plan["plan_id"])
    assert reservation["node_id"] == node_id and reservation["demand_id"] == demand["demand_id"]
    deployment = call("deploy_image", reservation_id=reservation["reservation_id"], image=GPU_IMAGE)
    assert deployment["node_id"] == node_id and deployment["site_id"] == details["site_id"]
    volume = call("attach_storage", deployment_id=deployment["deployment_id"], size_gb=100, storage_class="nvme")
    metrics = call("get_deployment_metrics", deployment_id=deployment["deployment_id"])
    assert len(metrics["samples"]) == 24 and metrics["gpu_util_percent"] > 0
    invoice = call("generate_invoice", deployment_id=deployment["deployment_id"])
    assert {line["item"] for line in invoice["line_items"]} >= {"cpu core-hours", "nvme storage GB-hours"}
    discounted = call("apply_discount", invoice_id=invoice["invoice_id"], code="WELCOME10")
    assert discounted["total"] < invoice["total"]
    paid = call("pay_invoice", invoice_id=invoice["invoice_id"])
    assert paid["amount_paid"] == discounted["total"]
    released = call("release_deployment", deployment_id=deployment["deployment_id"])
    assert released["detached_volumes"] == [volume["volume_id"]] and released["freed_gpus"] == 1
    assert call("get_node_details", node_id=node_id)["free_gpus"] == details["free_gpus"]
    assert call("get_demand", demand_id=demand["demand_id"])["status"] == "released"
    assert {SUITE.tools[name].stage for _, name, _, _ in CHAIN} == set(STAGES)


def test_profile_chain_with_automatic_placement() -> None:
    world = CPNWorld.generate(3)
    call = lambda name, **arguments: SUITE.call(world, name, arguments)  # noqa: E731
    estimate = call("estimate_requirements", workload="inference", scale="medium")
    demand = call(
        "submit_workload_demand",
        tenant_id=world.values("tenant_id")[-1],
        workload="inference",
        scale="medium",
        hours=24,
    )
    assert (demand["cpu_cores"], demand["gpu_count"]) == (estimate["cpu_cores"], estimate["gpu_count"])
    ranking = call("rank_placements", demand_id=demand["demand_id"], strategy="cheapest")["ranking"]
    plan = call("auto_place_demand", demand_id=demand["demand_id"], strategy="cheapest")
    assert plan["node_id"] == ranking[0]["node_id"]
    backup = call("plan_failover", plan_id=plan["plan_id"])
    assert backup["backup_site_id"] != plan["site_id"]
    reservation = call("reserve_capacity", plan_id=plan["plan_id"])
    deployment = call("provision_vm", reservation_id=reservation["reservation_id"], image=estimate["suggested_image"])
    assert deployment["runtime"] == "vm"
    assert call("forecast_cost", deployment_id=deployment["deployment_id"], horizon_days=30)["projected_cost"] > 0


@pytest.mark.parametrize("name", sorted(SUITE.tools))
def test_every_tool_runs_on_arguments_from_values_ranges_and_earlier_outputs(name: str) -> None:
    tool = SUITE.tools[name]
    world, known = prepared(tool)
    errors = []
    for attempt in range(4):
        trial = copy.deepcopy(world)
        arguments = attempt_arguments(tool, trial, known, attempt)
        try:
            output = SUITE.call(trial, name, arguments)
        except ToolError as err:
            errors.append(f"{arguments}: {err!r}")
            continue
        assert json.loads(json.dumps(output)) == output, "results must be JSON-native"
        assert conforms(output, tool.spec.returns), f"{name} returned {output}, not its declared type"
        return
    pytest.fail(f"{name} never succeeded: {errors}")


@pytest.mark.parametrize("name", sorted(SUITE.tools))
def test_sampled_arguments_mostly_succeed(name: str) -> None:
    tool = SUITE.tools[name]
    world, known = prepared(tool)
    rng = random.Random(name)
    successes = 0
    for _ in range(12):
        try:
            SUITE.call(copy.deepcopy(world), name, sampled_arguments(tool, world, known, rng))
            successes += 1
        except ToolError:
            pass
    assert successes >= 6, f"{name}: {successes}/12 sampled calls succeeded"


@pytest.mark.parametrize("seed", range(4))
def test_sampled_demands_flow_from_intake_to_invoice(seed: int) -> None:
    rng = random.Random(seed)
    demand_tool = SUITE.tools["submit_demand"]
    for _ in range(10):
        world = CPNWorld.generate(seed)
        demand = SUITE.call(world, "submit_demand", sampled_arguments(demand_tool, world, {}, rng))
        plan = SUITE.call(world, "auto_place_demand", {"demand_id": demand["demand_id"]})
        reservation = SUITE.call(world, "reserve_capacity", {"plan_id": plan["plan_id"]})
        deployment = SUITE.call(
            world, "deploy_image", {"reservation_id": reservation["reservation_id"], "image": "ubuntu-22.04"}
        )
        invoice = SUITE.call(world, "generate_invoice", {"deployment_id": deployment["deployment_id"]})
        assert invoice["total"] > 0


# ---- failures ---------------------------------------------------------------------------------------------


def test_each_error_kind_is_raised_on_bad_input() -> None:
    world = CPNWorld.generate(SEED)
    known = run_chain(world)
    call = lambda name, **arguments: SUITE.call(world, name, arguments)  # noqa: E731
    with pytest.raises(NotFound):
        call("get_node_details", node_id="node-does-not-exist")
    with pytest.raises(NotFound):
        call("get_reservation", reservation_id="rsv-9999")
    site = world.values("site_id")[0]
    with pytest.raises(InvalidArgument):
        call("query_link_latency", site_a=site, site_b=site)
    with pytest.raises(InvalidArgument):
        call(
            "submit_demand",
            tenant_id=known["tenant_id"],
            cpu_cores=2,
            memory_gb=4,
            gpu_count=0,
            hours=1,
            gpu_model="A100",
        )
    with pytest.raises(Conflict):
        call("generate_invoice", deployment_id=known["deployment_id"])
    with pytest.raises(Conflict):
        call("reserve_capacity", plan_id=known["plan_id"])
    call("pay_invoice", invoice_id=known["invoice_id"])
    with pytest.raises(Conflict):
        call("pay_invoice", invoice_id=known["invoice_id"])
    call("release_deployment", deployment_id=known["deployment_id"])
    with pytest.raises(Conflict):
        call("release_deployment", deployment_id=known["deployment_id"])
    with pytest.raises(QuotaExceeded):
        for _ in range(10):
            call("request_quota_increase", tenant_id=known["tenant_id"], resource="gpus", amount=64)


def test_gpu_images_need_gpu_reservations_and_scaling_respects_quota() -> None:
    def gpu_headroom(world: CPNWorld, tenant: str) -> int:
        return SUITE.call(world, "get_quota_headroom", {"tenant_id": tenant})["gpus_available"]

    # a world with a tenant that cannot run 8 replicas of 8 GPUs
    world, tenant = next(
        (world, tenant)
        for world in map(CPNWorld.generate, range(SEED, SEED + 20))
        for tenant in world.values("tenant_id")
        if gpu_headroom(world, tenant) < 64
    )
    call = lambda name, **arguments: SUITE.call(world, name, arguments)  # noqa: E731
    cpu_demand = call("submit_demand", tenant_id=tenant, cpu_cores=4, memory_gb=32, gpu_count=0, hours=10)
    plan = call("auto_place_demand", demand_id=cpu_demand["demand_id"])
    reservation = call("reserve_capacity", plan_id=plan["plan_id"])
    with pytest.raises(InvalidArgument, match="needs a GPU"):
        call("deploy_image", reservation_id=reservation["reservation_id"], image=GPU_IMAGE)
    with pytest.raises(Conflict):
        call("cancel_demand", demand_id=cpu_demand["demand_id"])
    big = call("submit_demand", tenant_id=tenant, cpu_cores=8, memory_gb=64, gpu_count=8, hours=10)
    big_reservation = call("reserve_capacity", plan_id=call("auto_place_demand", demand_id=big["demand_id"])["plan_id"])
    deployment = call("deploy_image", reservation_id=big_reservation["reservation_id"], image=GPU_IMAGE)
    with pytest.raises(QuotaExceeded):
        call("scale_deployment", deployment_id=deployment["deployment_id"], replicas=8)
    assert call("scale_deployment", deployment_id=deployment["deployment_id"], replicas=2)["gpus_total"] == 16


# ---- overlaps ---------------------------------------------------------------------------------------------


def required_kinds(tool: SuiteTool) -> tuple[str, ...]:
    return tuple(sorted(kind_of(tool, p) or f"{tool.spec.properties[p]['type']}:{p}" for p in tool.spec.required))


def test_planted_overlaps_agree_on_common_fields() -> None:
    assert len(PLANTED_OVERLAPS) == 3
    for keep, merged in PLANTED_OVERLAPS:
        kept_tool, merged_tool = SUITE.tools[keep], SUITE.tools[merged]
        assert required_kinds(kept_tool) == required_kinds(merged_tool)
        assert kept_tool.spec.description != merged_tool.spec.description
        (kind,) = required_kinds(kept_tool)
        for seed in (SEED, 11, 23):
            world = CPNWorld.generate(seed)
            known = run_chain(world, CHAIN_KINDS.index("volume_id") + 1)
            for value in [known[kind]] if kind in CHAIN_KINDS[2:] else world.values(kind)[:4]:
                kept = SUITE.call(world, keep, {kept_tool.spec.required[0]: value})
                gone = SUITE.call(world, merged, {merged_tool.spec.required[0]: value})
                assert set(gone) < set(kept)
                assert {key: kept[key] for key in gone} == gone


def test_no_other_tools_with_the_same_inputs_return_the_same_output() -> None:
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for tool in SUITE.tools.values():
        groups[required_kinds(tool)].append(tool.name)
    planted = {frozenset(pair) for pair in PLANTED_OVERLAPS}
    compared = 0
    for names in groups.values():
        for first, second in combinations(sorted(names), 2):
            if frozenset((first, second)) in planted:
                continue
            world, known = prepared(SUITE.tools[first], SUITE.tools[second])
            outputs = [
                SUITE.call(copy.deepcopy(world), name, attempt_arguments(SUITE.tools[name], world, known, 0))
                for name in (first, second)
            ]
            assert outputs[0] != outputs[1], f"{first} and {second} return the same output"
            compared += 1
    assert compared > 50
