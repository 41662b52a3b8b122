"""Observability: the example alert rules pass promtool's checks and unit tests; every metric they, the Grafana
dashboard and a live server name is documented in docs/metrics.md and exported by the server; OpenTelemetry traces
reach a local OTLP/HTTP receiver as one tree per request, with the request id and without a secret."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess

import pytest
import requests
import yaml

from conftest import REPO_ROOT, api_session, mint_admin_key, poll_until
from peers import need_peer
from test_proxy import Upstream, setup_local_api
from upstreams import LocalAPI, read_body, send_json

DOCS = REPO_ROOT / "docs"
ALERTS = DOCS / "prometheus" / "latchkey-alerts.yml"
ALERT_TESTS = DOCS / "prometheus" / "latchkey-alerts.test.yml"
DASHBOARD = DOCS / "grafana" / "latchkey-dashboard.json"
METRIC = re.compile(r"\b((?:latchkey|hb)_[a-z0-9_]+|http_server_[a-z0-9_]+)\b")
HISTOGRAM_SERIES = re.compile(r"_(bucket|sum|count)$")


def promtool_problem() -> str | None:
    if not shutil.which("promtool"):
        return "`promtool` is not installed (apt-get install --no-install-recommends prometheus, or scripts/test)"
    return None


def documented_metrics() -> dict[str, dict]:
    """docs/metrics.md's rows: name → type, labels and whether the code that records it is still to come."""
    rows = {}
    for line in (DOCS / "metrics.md").read_text().splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.split("|")]
        rows[cells[1].strip("`")] = {"type": cells[2], "ahead": "(added with " in cells[4]}
    assert rows, "docs/metrics.md has no metric rows"
    return rows


def metrics_in(expr: str, documented: dict[str, dict]) -> set[str]:
    """The metric families a PromQL expression reads (a histogram's `_bucket` series is its family)."""
    names = set()
    for name in METRIC.findall(expr):
        if name not in documented and HISTOGRAM_SERIES.search(name):
            name = HISTOGRAM_SERIES.sub("", name)
        names.add(name)
    return names


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_expressions() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel.get("targets", [])]


def exported_families(text: str) -> dict[str, str]:
    """`# TYPE name type` lines of a Prometheus exposition."""
    families = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            families[name] = kind
    return families


def test_the_alert_rules_pass_promtool_check_and_their_unit_tests():
    need_peer(promtool_problem(), "promtool")
    checked = subprocess.run(["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 5 rules found" in checked.stdout, checked.stdout
    tested = subprocess.run(["promtool", "test", "rules", ALERT_TESTS.name], cwd=ALERT_TESTS.parent,
                            capture_output=True, text=True, timeout=120)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # Every rule has a case that fires and one that does not.
    cases = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    checks = [check for case in cases for check in case["alert_rule_test"]]
    for rule in alert_rules():
        outcomes = {bool(check["exp_alerts"]) for check in checks if check["alertname"] == rule["alert"]}
        assert outcomes == {True, False}, f"{rule['alert']}: the unit tests lack a firing or a quiet case"


def test_the_alerts_and_the_dashboard_read_only_documented_metrics():
    documented = documented_metrics()
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] and dashboard["uid"] and isinstance(dashboard["schemaVersion"], int)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in dashboard["panels"]:
        assert {"type", "title", "gridPos", "targets", "datasource"} <= panel.keys(), panel.get("title")
        assert {"h", "w", "x", "y"} <= panel["gridPos"].keys(), panel["title"]
    expressions = [(rule["alert"], rule["expr"]) for rule in alert_rules()] + dashboard_expressions()
    for where, expr in expressions:
        names = metrics_in(expr, documented)
        assert names, f"{where}: no metric in {expr!r}"
        for name in names:
            assert name in documented, f"{where} reads {name}, which docs/metrics.md does not document"
    # The alerts the brief names are there.
    alerts = {rule["alert"] for rule in alert_rules()}
    assert alerts == {"LatchkeyRefreshFailuresHigh", "LatchkeyProviderErrorsHigh", "LatchkeyVaultDecryptFailures",
                      "LatchkeyWebhookDeadLetters", "LatchkeyKeyRotationOverdue"}


def test_a_live_server_exports_what_the_alerts_read_and_documents_all_it_exports(database, tmp_path, servers):
    documented = documented_metrics()
    with Upstream() as upstream:
        server = servers(tmp_path, args=[*database.cli_args, "--allow-private-network"], env=database.server_env()).start_and_wait()
        api = api_session(mint_admin_key(database, tmp_path))
        setup_local_api(api, server, upstream)
        r = api.get(server.base_url + "/api/v1/proxy/local-api/items", headers={"Latchkey-End-User": "alice"}, timeout=30)
        assert r.status_code == 200, r.text[:300]
        exported = exported_families(requests.get(server.url("/metrics"), timeout=10).text)

    assert "latchkey_gateway_calls_total" in exported and "hb_requests" in exported
    for name, kind in exported.items():
        assert name in documented, f"/metrics exports {name}, which docs/metrics.md does not document"
        assert documented[name]["type"] == kind, f"{name} is exported as a {kind}, documented as a {documented[name]['type']}"
    for rule in alert_rules():
        for name in metrics_in(rule["expr"], documented):
            if documented[name]["ahead"] and name not in exported:
                continue  # documented ahead of the code that records it (docs/metrics.md says so)
            assert name in exported, f"{rule['alert']} reads {name}, which a fresh server does not export"


# --------------------------------------------------------------------------
# OpenTelemetry traces, exported to a local OTLP/HTTP receiver

OLD_TOKEN = "otel-e2e-expired-access-token"
REFRESH_TOKEN = "otel-e2e-refresh-token"
NEW_TOKEN = "otel-e2e-fresh-access-token"
NEW_REFRESH_TOKEN = "otel-e2e-rotated-refresh-token"
CLIENT_SECRET = "otel-e2e-client-secret"
QUERY_CODE = "otel-e2e-code-in-query"
QUERY_STATE = "otel-e2e-state-in-query"
COOKIE = "otel-e2e-cookie-value"


class OTLPReceiver(LocalAPI):
    """An OTLP/HTTP receiver: keeps every body posted to /v1/traces, as sent."""

    def __init__(self):
        self.bodies: list[bytes] = []
        self.content_types: list[str] = []
        super().__init__(self._answer)

    def _answer(self, handler):
        body = read_body(handler)
        if handler.path == "/v1/traces":
            if handler.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            self.bodies.append(body)
            self.content_types.append(handler.headers.get("Content-Type", ""))
        send_json(handler, 200, {})

    def spans(self) -> list[dict]:
        """Every span received, flattened, with its attributes as a dict and the resource's attributes."""
        spans = []
        for body in list(self.bodies):
            for resource_spans in json.loads(body).get("resourceSpans", []):
                resource = attributes_of(resource_spans.get("resource", {}).get("attributes", []))
                for scope_spans in resource_spans.get("scopeSpans", []):
                    for span in scope_spans.get("spans", []):
                        spans.append({**span, "attrs": attributes_of(span.get("attributes", [])), "resource": resource})
        return spans


def attributes_of(pairs: list[dict]) -> dict:
    values = {}
    for pair in pairs:
        value = pair.get("value", {})
        for kind in ("stringValue", "intValue", "boolValue", "doubleValue"):
            if kind in value:
                values[pair["key"]] = int(value[kind]) if kind == "intValue" else value[kind]
    return values


class TokenProvider(LocalAPI):
    """A provider: `/token` refreshes (a new access and refresh token), anything else is its API and answers 200."""

    def __init__(self):
        self.requests: list[dict] = []
        super().__init__(self._answer)

    def _answer(self, handler):
        body = read_body(handler)
        self.requests.append({"path": handler.path, "headers": dict(handler.headers), "body": body})
        if handler.path == "/token":
            send_json(handler, 200, {"access_token": NEW_TOKEN, "refresh_token": NEW_REFRESH_TOKEN, "token_type": "Bearer", "expires_in": 3600})
        else:
            send_json(handler, 200, {"ok": True})


def test_a_proxied_call_is_traced_from_request_to_refresh_and_provider_with_no_secret(database, tmp_path, servers):
    with OTLPReceiver() as receiver, TokenProvider() as provider:
        env = database.server_env(
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.origin,
            OTEL_EXPORTER_OTLP_PROTOCOL="http/json",
            OTEL_SERVICE_NAME="latchkey-e2e",
            OTEL_BSP_SCHEDULE_DELAY="100",
        )
        server = servers(tmp_path, args=[*database.cli_args, "--allow-private-network"], env=env).start_and_wait()
        admin_key = mint_admin_key(database, tmp_path)
        api = api_session(admin_key)
        origin = provider.origin
        r = api.post(server.base_url + "/api/v1/integrations", timeout=30, json={
            "provider": "oauth2", "key": "traced-api", "clientId": "c", "clientSecret": CLIENT_SECRET, "scopes": ["read"],
            "settings": {"authorizationURL": origin + "/authorize", "tokenURL": origin + "/token", "apiBaseURL": origin + "/v1"},
        })
        assert r.status_code == 201, r.text[:400]
        r = api.post(server.base_url + "/api/v1/credentials", timeout=30, json={
            "integration": "traced-api", "type": "oauth2", "accessToken": OLD_TOKEN, "refreshToken": REFRESH_TOKEN,
            "externalUserId": "alice", "expiresAt": "2001-01-01T00:00:00Z",
        })
        assert r.status_code == 201, r.text[:400]

        # The token has expired: the proxied call refreshes it first, then calls the API with the new one.
        r = api.get(server.base_url + f"/api/v1/proxy/traced-api/items?code={QUERY_CODE}&state={QUERY_STATE}", timeout=30,
                    headers={"Latchkey-End-User": "alice", "Cookie": f"session={COOKIE}"})
        assert r.status_code == 200, r.text[:400]
        request_id = r.headers["X-Request-Id"]
        assert [request["path"] for request in provider.requests] == ["/token", f"/v1/items?code={QUERY_CODE}&state={QUERY_STATE}"]
        assert provider.requests[1]["headers"]["Authorization"] == f"Bearer {NEW_TOKEN}"

        def proxied_span():
            return next((span for span in receiver.spans() if span["attrs"].get("latchkey.request_id") == request_id), None)

        poll_until(lambda: proxied_span() is not None, what="the proxied call's span at the OTLP receiver")
        server.stop()  # flushes what is left

    assert all("json" in content_type for content_type in receiver.content_types), receiver.content_types
    spans = receiver.spans()
    root = proxied_span()
    assert root["name"].startswith("GET /api/v1/proxy/"), root["name"]
    assert root["attrs"]["http.request.method"] == "GET"
    assert root["attrs"]["http.response.status_code"] == 200
    assert root["attrs"]["http.route"].startswith("/api/v1/proxy/")
    assert root["resource"].get("service.name") == "latchkey-e2e"
    trace = [span for span in spans if span["traceId"] == root["traceId"]]
    by_id = {span["spanId"]: span for span in trace}
    root = by_id[root["spanId"]]

    def parent(span):
        return by_id.get(span.get("parentSpanId", ""))

    def under_root(span):
        while span is not None and span is not root:
            span = parent(span)
        return span is root

    refresh = [span for span in trace if span["name"] == "credential.refresh"]
    assert len(refresh) == 1, [span["name"] for span in trace]
    assert parent(refresh[0]) is root
    assert refresh[0]["attrs"]["latchkey.refresh.trigger"] == "on_demand"
    token_calls = [span for span in trace if span["name"] == "HTTP POST"]
    assert len(token_calls) == 1 and under_root(token_calls[0]) and parent(token_calls[0]) is not root
    assert token_calls[0]["attrs"]["server.address"] == "127.0.0.1"
    assert token_calls[0]["attrs"]["http.response.status_code"] == 200
    api_calls = [span for span in trace if span["name"] == "HTTP GET"]
    assert len(api_calls) == 1 and parent(api_calls[0]) is root, [(span["name"], parent(span) and parent(span)["name"]) for span in trace]
    opens = [span for span in trace if span["name"] == "vault.open"]
    assert opens and all(under_root(span) for span in opens)
    assert all(span["attrs"]["latchkey.integration"] == "traced-api" for span in opens)

    # Nothing secret anywhere in what was exported: tokens, the client secret, the query's code and state, the cookie,
    # the admin key, the path of the proxied call.
    exported = b"".join(receiver.bodies).decode()
    for secret in (OLD_TOKEN, REFRESH_TOKEN, NEW_TOKEN, NEW_REFRESH_TOKEN, CLIENT_SECRET, QUERY_CODE, QUERY_STATE, COOKIE, admin_key,
                   "/v1/items"):
        assert secret not in exported, f"the exported spans contain {secret!r}"


def test_no_span_is_exported_unless_asked_for(sqlite_database, tmp_path, servers):
    with OTLPReceiver() as receiver:
        # OTEL_TRACES_EXPORTER=none wins over an endpoint; with no OTEL_* setting at all the tracer is not installed.
        for extra in ({"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.origin, "OTEL_TRACES_EXPORTER": "none", "OTEL_BSP_SCHEDULE_DELAY": "100"}, {}):
            server = servers(tmp_path, args=sqlite_database.cli_args, env=sqlite_database.server_env(**extra)).start_and_wait()
            assert requests.get(server.url("/healthz"), timeout=10).status_code == 200
            server.stop()
            assert not any("exporting traces" in line for line in server.stdout_lines + server.stderr_lines)
        assert receiver.bodies == []


def test_an_unsupported_trace_protocol_refuses_to_start_clearly(sqlite_database, tmp_path, servers):
    env = sqlite_database.server_env(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4317", OTEL_EXPORTER_OTLP_PROTOCOL="grpc")
    server = servers(tmp_path, args=sqlite_database.cli_args, env=env).start()
    assert server.proc.wait(timeout=60) == 2
    poll_until(lambda: "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported" in "".join(server.stderr_lines),
               what="the refusal on standard error")
