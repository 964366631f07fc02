"""Checks of the monitoring stack under monitoring/ with promtool, amtool and YAML parsing.

promtool and amtool come from Debian's prometheus and prometheus-alertmanager packages.
Without them the tests that need them skip, except under CI, where they fail.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

MONITORING = Path(__file__).resolve().parents[3] / "monitoring"
PROMETHEUS_DIR = MONITORING / "prometheus"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
ALERTS_TEST = PROMETHEUS_DIR / "alerts_test.yml"
ALERTMANAGER = MONITORING / "alertmanager" / "alertmanager.yml"
DASHBOARDS = MONITORING / "grafana" / "dashboards"
COMPOSE = MONITORING / "docker-compose.yml"

TOOL_TIMEOUT_S = 60

# Series names as exposed, built from the documented metrics. Used when the exporter module
# pytest_syncbench.prometheus is not installed.
_DOCUMENTED_COUNTERS = (
    "syncbench_hubspot_requests",
    "syncbench_databox_requests",
    "syncbench_changes_delivered",
    "syncbench_webhook_deliveries",
)
_DOCUMENTED_HISTOGRAMS = ("syncbench_change_latency_seconds",)
_DOCUMENTED_GAUGES = (
    "syncbench_pending_changes",
    "syncbench_solution_backlog",
    "syncbench_hubspot_daily_limit",
    "syncbench_hubspot_daily_remaining",
    "syncbench_hubspot_burst_remaining",
    "syncbench_inconsistent_records",
    "syncbench_simulated_time_seconds",
    "syncbench_case_running",
)
DOCUMENTED_SERIES = frozenset(
    [f"{name}_total" for name in _DOCUMENTED_COUNTERS]
    + [
        f"{name}{suffix}"
        for name in _DOCUMENTED_HISTOGRAMS
        for suffix in ("_bucket", "_sum", "_count")
    ]
    + list(_DOCUMENTED_GAUGES)
)

METRIC_NAME = re.compile(r"\bsyncbench_[A-Za-z0-9_:]*")
GRAFANA_SUBSTITUTIONS = {
    "$__rate_interval": "1m",
    "$__interval": "1m",
    "${scenario}": ".*",
    "${solution}": ".*",
    "$scenario": ".*",
    "$solution": ".*",
}


def exported_series() -> frozenset[str]:
    """Return the exporter's SERIES, or the documented names before the exporter exists."""
    if importlib.util.find_spec("pytest_syncbench.prometheus") is None:
        return DOCUMENTED_SERIES
    module = importlib.import_module("pytest_syncbench.prometheus")
    return frozenset(module.SERIES)


def require_tool(name: str) -> str:
    """Return the path of a command-line tool, skipping the test without it outside CI."""
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} is not installed (Debian: apt-get install prometheus prometheus-alertmanager)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_tool(
    *args: str | Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
        check=False,
    )


def tool_output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit status {result.returncode}\n{result.stdout}\n{result.stderr}"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    groups = load_yaml(ALERTS)["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def metric_names(expr: str) -> set[str]:
    return set(METRIC_NAME.findall(expr))


def iter_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Yield every panel, including the panels nested in collapsed rows."""
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


def grafana_targets() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Return (dashboard file name, panel, target) for every target with an expression."""
    found = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        for panel in iter_panels(dashboard["panels"]):
            for target in panel.get("targets", []):
                found.append((path.name, panel, target))
    return found


def substitute_grafana_variables(expr: str) -> str:
    for variable, value in GRAFANA_SUBSTITUTIONS.items():
        expr = expr.replace(variable, value)
    return expr


def test_prometheus_config_valid():
    promtool = require_tool("promtool")

    # rule_files in prometheus.yml is relative to the config file, so promtool runs in place.
    result = run_tool(promtool, "check", "config", "prometheus.yml", cwd=PROMETHEUS_DIR)

    assert result.returncode == 0, tool_output(result)


def test_alert_rules_valid():
    promtool = require_tool("promtool")

    result = run_tool(promtool, "check", "rules", ALERTS)

    assert result.returncode == 0, tool_output(result)


def test_alert_rule_unit_tests_pass():
    promtool = require_tool("promtool")

    result = run_tool(promtool, "test", "rules", ALERTS_TEST.name, cwd=PROMETHEUS_DIR)

    assert result.returncode == 0, tool_output(result)


def test_every_alert_has_firing_and_silent_case():
    alert_names = {rule["alert"] for rule in alert_rules()}
    firing: set[str] = set()
    silent: set[str] = set()
    for case in load_yaml(ALERTS_TEST)["tests"]:
        for check in case.get("alert_rule_test", []):
            if check.get("exp_alerts"):
                firing.add(check["alertname"])
            else:
                silent.add(check["alertname"])

    assert alert_names, f"no alert rules found in {ALERTS}"
    assert alert_names - firing == set(), (
        f"alerts without a firing case in {ALERTS_TEST.name}"
    )
    assert alert_names - silent == set(), (
        f"alerts without a silent case in {ALERTS_TEST.name}"
    )


def test_alert_rules_carry_severity_and_annotations():
    for rule in alert_rules():
        name = rule["alert"]
        annotations = rule.get("annotations", {})
        assert rule.get("labels", {}).get("severity") in {"warning", "critical"}, name
        assert "summary" in annotations, name
        assert "{{ $labels.scenario }}" in annotations.get("description", ""), name
        assert "{{ $labels.solution }}" in annotations.get("description", ""), name


def test_alert_expressions_use_exported_series():
    series = exported_series()

    for rule in alert_rules():
        names = metric_names(rule["expr"])
        assert names, f"{rule['alert']} references no syncbench_ series"
        assert names - series == set(), (
            f"{rule['alert']} references series that are not exported"
        )


def test_alertmanager_config_valid():
    amtool = require_tool("amtool")

    result = run_tool(amtool, "check-config", ALERTMANAGER)

    assert result.returncode == 0, tool_output(result)


def test_grafana_expressions_valid_promql(tmp_path):
    promtool = require_tool("promtool")
    targets = grafana_targets()
    assert targets, f"no panel targets found in {DASHBOARDS}"
    # Each target becomes a recording rule named after its panel and refId, so promtool's
    # error message names the rule, which maps back to the panel.
    rules = []
    sources = {}
    for file_name, panel, target in targets:
        record = f"grafana_panel_{panel['id']}_{target['refId']}"
        assert record not in sources, (
            f"{file_name}: duplicate panel id and refId {record}"
        )
        expr = substitute_grafana_variables(target["expr"])
        rules.append({"record": record, "expr": expr})
        sources[record] = (
            f"{file_name} panel {panel['title']!r} target {target['refId']}: {expr}"
        )
    rule_file = tmp_path / "grafana_expressions.yml"
    rule_file.write_text(
        yaml.safe_dump({"groups": [{"name": "grafana", "rules": rules}]})
    )

    result = run_tool(promtool, "check", "rules", rule_file)

    failing = [
        source
        for record, source in sources.items()
        if f'"{record}"' in result.stdout + result.stderr
    ]
    assert result.returncode == 0, (
        "invalid PromQL:\n" + "\n".join(failing) + "\n" + tool_output(result)
    )


def test_grafana_targets_complete():
    for file_name, panel, target in grafana_targets():
        where = f"{file_name} panel {panel['title']!r}"
        assert target.get("expr"), where
        assert target.get("refId"), where
        assert "legendFormat" in target, where


def test_grafana_expressions_use_exported_series():
    series = exported_series()

    for file_name, panel, target in grafana_targets():
        names = metric_names(target["expr"])
        where = f"{file_name} panel {panel['title']!r} target {target['refId']}"
        assert names, f"{where} references no syncbench_ series"
        assert names - series == set(), (
            f"{where} references series that are not exported"
        )


def test_grafana_datasource_uids_provisioned():
    provisioned = load_yaml(
        MONITORING / "grafana" / "provisioning" / "datasources" / "datasources.yml"
    )
    uids = {source["uid"] for source in provisioned["datasources"]}

    for file_name, panel, target in grafana_targets():
        where = f"{file_name} panel {panel['title']!r} target {target['refId']}"
        assert target["datasource"]["uid"] in uids, where
        assert panel["datasource"]["uid"] in uids, where
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        for variable in dashboard["templating"]["list"]:
            assert variable["datasource"]["uid"] in uids, (
                f"{path.name} variable {variable['name']}"
            )


def test_grafana_variables_query_label_values():
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        variables = {
            variable["name"]: variable for variable in dashboard["templating"]["list"]
        }
        for name in ("scenario", "solution"):
            assert name in variables, f"{path.name} has no {name} variable"
            query = variables[name]["query"]
            # Grafana shows "definition" and runs "query", so both must be the same query.
            query_texts = {
                "definition": variables[name].get("definition", ""),
                "query": query["query"] if isinstance(query, dict) else query,
            }
            for field, text in query_texts.items():
                where = f"{path.name} variable {name} {field} {text!r}"
                assert text.startswith("label_values("), where
                assert text.endswith(f", {name})"), where


def compose_services() -> dict[str, dict[str, Any]]:
    return load_yaml(COMPOSE)["services"]


def test_compose_images_pinned():
    services = compose_services()
    assert services, f"no services in {COMPOSE}"

    for name, service in services.items():
        image = service["image"]
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert tag or "@sha256:" in image, f"{name}: image {image} has no tag"
        assert tag != "latest", f"{name}: image {image} is not pinned"


def published_host_ips(service: dict[str, Any]) -> Iterator[str]:
    """Yield the host address of each published port, with "" for every interface."""
    for port in service.get("ports", []):
        if isinstance(port, dict):
            yield str(port.get("host_ip", ""))
            continue
        parts = str(port).split(":")
        # "HOST_IP:HOST:CONTAINER" has three parts. "HOST:CONTAINER" and "CONTAINER" bind
        # to every interface.
        yield parts[0] if len(parts) == 3 else ""


def test_compose_ports_bound_to_loopback():
    for name, service in compose_services().items():
        for host_ip in published_host_ips(service):
            assert host_ip == "127.0.0.1", (
                f"{name} publishes a port on {host_ip or 'every interface'}"
            )


def bind_mount_sources(service: dict[str, Any]) -> Iterator[str]:
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                yield volume["source"]
            continue
        source = str(volume).split(":")[0]
        if source.startswith((".", "/")):
            yield source


def test_compose_mounts_exist_in_monitoring():
    mounted = 0
    for name, service in compose_services().items():
        for source in bind_mount_sources(service):
            path = (COMPOSE.parent / source).resolve()
            assert path.is_relative_to(MONITORING), (
                f"{name} mounts {source} from outside monitoring/"
            )
            assert path.exists(), f"{name} mounts {source}, which does not exist"
            mounted += 1

    assert mounted, f"no bind mounts found in {COMPOSE}"


def test_compose_services_and_host_gateway():
    services = compose_services()

    assert {"prometheus", "alertmanager", "grafana", "jaeger"} <= set(services)
    assert "host.docker.internal:host-gateway" in services["prometheus"].get(
        "extra_hosts", []
    )
