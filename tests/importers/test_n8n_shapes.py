"""One n8n node at a time, in the parameter shapes of its different typeVersions (as n8n
exports them: parameters at their default are left out), and the flowdesk config it gives."""

from __future__ import annotations

from typing import Any

import pytest

from flowdesk.engine.validation import validate
from flowdesk.importers import convert_n8n, is_n8n_export
from flowdesk.steps import default_registry

TRIGGER = {"parameters": {}, "name": "Start", "type": "n8n-nodes-base.manualTrigger",
           "typeVersion": 1, "position": [0, 0]}


def one(node_type: str, version: float, parameters: dict[str, Any],
        **extra: Any) -> tuple[Any, list[str]]:
    node = {"parameters": parameters, "name": "Node", "type": node_type,
            "typeVersion": version, "position": [200, 0], **extra}
    data = {"name": "one", "nodes": [TRIGGER, node],
            "connections": {"Start": {"main": [[{"node": "Node", "type": "main",
                                                 "index": 0}]]}}}
    assert is_n8n_export(data)
    wf, problems = convert_n8n(data)
    assert validate(wf, default_registry()) == [], wf.to_json()
    return wf.node("node"), [p.message for p in problems]


@pytest.mark.parametrize(("version", "params", "config"), [
    (1, {"url": "https://x.test/a", "requestMethod": "POST", "jsonParameters": True,
         "bodyParametersJson": '={"id": {{$json["id"]}}, "tag": "t-{{$json.tag}}"}',
         "options": {"timeout": 2000}},
     {"method": "POST", "url": "https://x.test/a",
      "json": {"id": "{{ input.id }}", "tag": "t-{{ input.tag }}"}, "timeout_seconds": 2.0}),
    (2, {"url": "https://x.test/a", "headerParametersUi": {"parameter": [
        {"name": "X-Id", "value": "={{$json.id}}"}]}, "options": {"followRedirect": False}},
     {"method": "GET", "url": "https://x.test/a", "headers": {"X-Id": "{{ input.id }}"},
      "follow_redirects": False}),
    (4.1, {"url": "https://x.test/a", "method": "PUT", "sendBody": True, "contentType": "raw",
           "rawContentType": "text/csv", "body": "=a,b\n{{ $json.a }},1"},
     {"method": "PUT", "url": "https://x.test/a", "headers": {"Content-Type": "text/csv"},
      "body": "a,b\n{{ input.a }},1"}),
    (4.2, {"url": "https://x.test/a", "sendQuery": True, "specifyQuery": "json",
           "jsonQuery": '={"page": {{ $json.page + 1 }}}'},
     {"method": "GET", "url": "https://x.test/a", "params": {"page": "{{= (input.page + 1) }}"}}),
])
def test_http_request_versions(version: float, params: dict[str, Any],
                               config: dict[str, Any]) -> None:
    node, _ = one("n8n-nodes-base.httpRequest", version, params)
    assert node.data.config == config


def test_http_authentication_is_a_problem_not_a_silent_drop() -> None:
    _, problems = one("n8n-nodes-base.httpRequest", 4.2, {
        "url": "https://x.test", "authentication": "genericCredentialType",
        "genericAuthType": "httpHeaderAuth"})
    assert any("httpHeaderAuth" in p and "secrets" in p for p in problems)


@pytest.mark.parametrize(("version", "params", "expression"), [
    (1, {"conditions": {"boolean": [{"value1": "={{$json.ok}}", "value2": True}],
                        "string": [{"value1": "={{$json.s}}", "operation": "startsWith",
                                    "value2": "ab"}]},
         "combineOperation": "any"},
     '(startswith(input.s, "ab")) or (input.ok == true)'),
    (2, {"conditions": {"options": {"caseSensitive": True}, "conditions": [
        {"leftValue": "={{ $json.items }}", "rightValue": 2,
         "operator": {"type": "array", "operation": "lengthGte", "rightType": "number"}}],
        "combinator": "and"}}, "len(input.items) >= 2"),
    (2.2, {"conditions": {"conditions": [
        {"leftValue": "={{ $json.note }}", "rightValue": "",
         "operator": {"type": "string", "operation": "notEmpty", "singleValue": True}}]}},
     'not is_empty(get(input, "note"))'),
])
def test_if_versions(version: float, params: dict[str, Any], expression: str) -> None:
    node, _ = one("n8n-nodes-base.if", version, params)
    assert node.data.config == {"expression": expression}


def test_a_regex_condition_is_reported_and_the_rest_kept() -> None:
    node, problems = one("n8n-nodes-base.if", 2, {"conditions": {"conditions": [
        {"leftValue": "={{ $json.a }}", "rightValue": "^x",
         "operator": {"type": "string", "operation": "regex"}},
        {"leftValue": "={{ $json.b }}", "rightValue": 1,
         "operator": {"type": "number", "operation": "equals"}}]}})
    assert node.data.config == {"expression": "input.b == 1"}
    assert any("regex" in p and "^x" in p for p in problems)


def test_switch_v1_rules_and_fallback() -> None:
    data = {"name": "s", "nodes": [TRIGGER, {
        "parameters": {"dataType": "string", "value1": "={{$json.kind}}",
                       "rules": {"rules": [{"value2": "a"}, {"value2": "b", "output": 1}]},
                       "fallbackOutput": 3},
        "name": "Switch", "type": "n8n-nodes-base.switch", "typeVersion": 1,
        "position": [200, 0]}] + [
        {"parameters": {}, "name": f"Out {i}", "type": "n8n-nodes-base.noOp",
         "typeVersion": 1, "position": [400, 100 * i]} for i in (0, 1, 3)],
        "connections": {"Start": {"main": [[{"node": "Switch", "type": "main", "index": 0}]]},
                        "Switch": {"main": [[{"node": "Out 0", "type": "main", "index": 0}],
                                            [{"node": "Out 1", "type": "main", "index": 0}],
                                            [],
                                            [{"node": "Out 3", "type": "main", "index": 0}]]}}}
    wf, _ = convert_n8n(data)
    assert wf.node("switch").data.config == {"expression": 'input.kind == "a"'}
    assert wf.node("switch_rule2").data.config == {"expression": 'input.kind == "b"'}
    assert {(e.source, e.target, e.source_handle) for e in wf.edges} >= {
        ("switch", "out_0", "true"), ("switch", "switch_rule2", "false"),
        ("switch_rule2", "out_1", "true"), ("switch_rule2", "out_3", "false")}


@pytest.mark.parametrize(("version", "params", "config"), [
    (2, {"values": {"number": [{"name": "n", "value": 3}]}},  # keepOnlySet off: merged
     {"jmespath": "merge(@[0], @[1])", "source": ["{{ input }}", {"n": 3}]}),
    (3.2, {"fields": {"values": [{"name": "a.b", "stringValue": "={{ $json.x }}"},
                                 {"name": "n", "type": "numberValue", "numberValue": "7"}]},
           "include": "none"},
     {"output": {"a": {"b": "{{ input.x }}"}, "n": 7}}),
    (3.4, {"assignments": {"assignments": [
        {"name": "flag", "value": "true", "type": "boolean"},
        {"name": "list", "value": "[1, 2]", "type": "array"}]}},
     {"output": {"flag": True, "list": [1, 2]}}),
])
def test_set_versions(version: float, params: dict[str, Any], config: dict[str, Any]) -> None:
    node, _ = one("n8n-nodes-base.set", version, params)
    assert node.data.config == config


@pytest.mark.parametrize(("node_type", "version", "params", "cron"), [
    ("n8n-nodes-base.scheduleTrigger", 1.2, {"rule": {"interval": [{}]}}, "0 0 * * *"),
    ("n8n-nodes-base.scheduleTrigger", 1.1,
     {"rule": {"interval": [{"field": "minutes", "minutesInterval": 15}]}}, "*/15 * * * *"),
    ("n8n-nodes-base.scheduleTrigger", 1.2,
     {"rule": {"interval": [{"field": "cronExpression", "expression": "0 9 * * 1-5"}]}},
     "0 9 * * 1-5"),
    ("n8n-nodes-base.scheduleTrigger", 1,
     {"rule": {"interval": [{"field": "months", "triggerAtDayOfMonth": 15,
                             "triggerAtHour": 6}]}}, "0 6 15 * *"),
    ("n8n-nodes-base.cron", 1, {"triggerTimes": {"item": [{"hour": 7, "minute": 5}]}},
     "5 7 * * *"),
    ("n8n-nodes-base.interval", 1, {"interval": 10, "unit": "minutes"}, "*/10 * * * *"),
])
def test_schedule_shapes(node_type: str, version: float, params: dict[str, Any],
                         cron: str) -> None:
    node = {"parameters": params, "name": "Every", "type": node_type, "typeVersion": version,
            "position": [0, 0]}
    wf, _ = convert_n8n({"name": "t", "nodes": [node], "connections": {}})
    assert wf.node("every").type == "schedule"
    assert wf.node("every").data.config == {"cron": cron, "timezone": "UTC"}


@pytest.mark.parametrize(("version", "params", "step_type", "config"), [
    (1, {}, "delay", {"seconds": 3600.0}),  # v1: 1 hour by default
    (1.1, {"amount": 2, "unit": "minutes"}, "delay", {"seconds": 120.0}),
    (1.1, {"resume": "specificTime", "dateTime": "2027-01-01T09:00:00"}, "delay",
     {"until": "2027-01-01T09:00:00"}),
    (1.1, {"resume": "form", "limitWaitTime": True, "resumeAmount": 2, "resumeUnit": "days"},
     "wait_for_event", {"event_name": "n8n.resume.node", "correlation_key": "{{ run.id }}",
                        "timeout_seconds": 172800.0, "on_timeout": "continue"}),
])
def test_wait_shapes(version: float, params: dict[str, Any], step_type: str,
                     config: dict[str, Any]) -> None:
    node, _ = one("n8n-nodes-base.wait", version, params)
    assert (node.type, node.data.config) == (step_type, config)


def test_execute_workflow_by_id_asks_for_the_name() -> None:
    node, problems = one("n8n-nodes-base.executeWorkflow", 1, {"workflowId": "42"})
    assert node.data.config == {"workflow": "42", "input": "{{ input }}"}
    assert any("by id '42'" in p for p in problems)


def test_webhook_authentication_and_response_mode_are_reported() -> None:
    node = {"parameters": {"path": "in", "authentication": "headerAuth",
                           "responseMode": "responseNode"},
            "name": "Hook", "type": "n8n-nodes-base.webhook", "typeVersion": 1.1,
            "position": [0, 0]}
    wf, problems = convert_n8n({"name": "t", "nodes": [node], "connections": {}})
    assert wf.node("hook").data.config == {"path": "in", "method": "GET"}
    messages = " ".join(p.message for p in problems)
    assert "headerAuth" in messages and "responseNode" in messages


def test_continue_on_fail_disabled_and_keyword_names() -> None:
    node, problems = one("n8n-nodes-base.noOp", 1, {}, continueOnFail=True, disabled=True)
    assert node.data.continue_on_error is True
    assert any("disabled" in p for p in problems)
    data = {"name": "k", "nodes": [{**TRIGGER, "name": "if"}], "connections": {}}
    wf, _ = convert_n8n(data)
    assert [n.id for n in wf.nodes] == ["if_step"]


def test_community_nodes_are_recognised_and_kept_as_placeholders() -> None:
    node = {"parameters": {"x": 1}, "name": "Acme", "type": "@acme/n8n-nodes-crm.lookup",
            "typeVersion": 1, "position": [0, 0]}
    data = {"name": "c", "nodes": [node], "connections": {}}
    assert is_n8n_export(data)
    wf, problems = convert_n8n(data)
    assert wf.node("acme").type == "transform"
    assert "@acme/n8n-nodes-crm.lookup" in problems[0].message


def test_non_n8n_json_is_not_recognised() -> None:
    assert not is_n8n_export({"nodes": [{"id": "a", "type": "transform"}]})
    assert not is_n8n_export({"nodes": []})
    assert not is_n8n_export([1, 2])


def test_literal_braces_are_not_turned_into_templates() -> None:
    node, problems = one("n8n-nodes-base.set", 3.4, {"assignments": {"assignments": [
        {"name": "t", "value": "use {{name}} here", "type": "string"}]}})
    assert node.data.config == {"output": {"t": "use { {name}} here"}}
    assert any("literal text" in p for p in problems)
