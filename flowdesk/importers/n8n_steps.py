"""The mappers: one function per n8n node type, each building flowdesk node(s) from the
node's parameters (as n8n exports them: defaults are left out, so every read has n8n's
default) and reporting what it could not translate on the node."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flowdesk.importers.n8n_conditions import conditions_expression
from flowdesk.importers.n8n_nodes import Converted, NodeContext, json_with_expressions
from flowdesk.importers.n8n_services import SERVICES, code_config, http_config

__all__ = ["MAPPERS", "convert_node", "placeholder"]

Mapper = Callable[[NodeContext], Converted]
MAPPERS: dict[str, Mapper] = {}


def _maps(*types: str) -> Callable[[Mapper], Mapper]:
    def register(fn: Mapper) -> Mapper:
        for t in types:
            MAPPERS[t] = fn
        return fn
    return register


def placeholder(cx: NodeContext, message: str) -> Converted:
    cx.problem(message)
    node = cx.make("transform", {"output": {
        "n8n_type": cx.node.get("type"),
        "n8n_parameters": cx.value(cx.params, "parameters")}})
    node["data"]["n8n"]["parameters"] = cx.params
    return Converted([node], node["id"], {0: (node["id"], None)})


# -- triggers ----------------------------------------------------------------------------------
@_maps("n8n-nodes-base.manualTrigger", "n8n-nodes-base.start",
       "n8n-nodes-base.executeWorkflowTrigger")
def _manual(cx: NodeContext) -> Converted:
    # flowdesk runs any workflow by hand; this step passes the run input on
    return cx.single("transform", {"output": "{{ input }}"})


@_maps("n8n-nodes-base.webhook")
def _webhook(cx: NodeContext) -> Converted:
    p = cx.params
    config: dict[str, Any] = {"path": str(p.get("path") or cx.node.get("webhookId") or cx.id),
                              "method": str(p.get("httpMethod", "GET"))}
    if p.get("authentication", "none") != "none":
        cx.problem(f"n8n's webhook authentication '{p['authentication']}' is not translated: "
                   "set 'secret' (callers send it as X-Flowdesk-Secret)", "secret")
    if p.get("responseMode", "onReceived") != "onReceived":
        cx.problem("flowdesk answers a webhook at once (202 with the run id); n8n's "
                   f"responseMode '{p['responseMode']}' is not translated")
    return cx.single("webhook", config)


def _cron_of_rule(rule: dict[str, Any], cx: NodeContext) -> str | None:
    field = rule.get("field", "days")
    minute, hour = int(rule.get("triggerAtMinute", 0) or 0), int(rule.get("triggerAtHour", 0)
                                                                 or 0)
    if field == "cronExpression":
        return str(rule.get("expression", "")).strip() or None
    if field == "seconds":
        return f"* * * * * */{int(rule.get('secondsInterval', 30))}"
    if field == "minutes":
        return f"*/{int(rule.get('minutesInterval', 5))} * * * *"
    if field == "hours":
        return f"{minute} */{int(rule.get('hoursInterval', 1))} * * *"
    if field == "days":
        n = int(rule.get("daysInterval", 1))
        return f"{minute} {hour} {'*' if n == 1 else f'*/{n}'} * *"
    if field == "weeks":
        if int(rule.get("weeksInterval", 1)) != 1:
            cx.problem("an interval of several weeks is not translated: it runs weekly",
                       "cron")
        days = rule.get("triggerAtDay") or [0]
        return f"{minute} {hour} * * {','.join(str(int(d)) for d in days)}"
    if field == "months":
        n = int(rule.get("monthsInterval", 1))
        return (f"{minute} {hour} {int(rule.get('triggerAtDayOfMonth', 1))} "
                f"{'*' if n == 1 else f'*/{n}'} *")
    return None


@_maps("n8n-nodes-base.scheduleTrigger", "n8n-nodes-base.cron", "n8n-nodes-base.interval")
def _schedule(cx: NodeContext) -> Converted:
    p = cx.params
    kind = cx.node.get("type")
    if kind == "n8n-nodes-base.interval":
        unit = {"seconds": "seconds", "minutes": "minutes", "hours": "hours"}.get(
            str(p.get("unit", "seconds")), "seconds")
        rules = [{"field": unit, f"{unit}Interval": int(p.get("interval", 1))}]
    elif kind == "n8n-nodes-base.cron":
        rules = []
        for item in (p.get("triggerTimes") or {}).get("item") or [{"mode": "everyDay"}]:
            mode = item.get("mode", "everyDay")
            h, m = item.get("hour", 14), item.get("minute", 0)
            rules.append({"everyMinute": {"field": "cronExpression", "expression": "* * * * *"},
                          "everyHour": {"field": "hours", "triggerAtMinute": m},
                          "everyDay": {"field": "days", "triggerAtHour": h,
                                       "triggerAtMinute": m},
                          "everyWeek": {"field": "weeks", "triggerAtDay": [item.get(
                              "weekday", 1)], "triggerAtHour": h, "triggerAtMinute": m},
                          "custom": {"field": "cronExpression",
                                     "expression": item.get("cronExpression", "")},
                          }.get(mode, {"field": mode}))
    else:
        rules = (p.get("rule") or {}).get("interval") or [{}]
    cron = _cron_of_rule(rules[0], cx)
    if cron is None:
        cx.problem(f"the schedule rule {json.dumps(rules[0])} is not translated; it was set to "
                   "daily at midnight", "cron")
        cron = "0 0 * * *"
    if len(rules) > 1:
        cx.problem(f"only the first of {len(rules)} schedule rules is kept (flowdesk has one "
                   "cron per trigger: add another workflow for the others)", "cron")
    zone = str(getattr(cx.tracer, "settings", {}).get("timezone") or "UTC")
    return cx.single("schedule", {"cron": cron, "timezone": zone})


# -- flow --------------------------------------------------------------------------------------
def _condition(cx: NodeContext, conditions: Any, combine: str = "and", suffix: str = "",
               label: str | None = None, dx: float = 0, dy: float = 0) -> dict[str, Any]:
    def operand(value: Any, hint: str, missing_ok: bool) -> str:
        return cx.operand(value, hint, "expression", missing_ok)

    expression, skipped = conditions_expression(conditions, operand, combine)
    for message in skipped:
        cx.problem(f"condition not translated: {message}", "expression")
    return cx.make("condition", {"expression": expression}, suffix, label, dx, dy)


@_maps("n8n-nodes-base.if", "n8n-nodes-base.filter")
def _if(cx: NodeContext) -> Converted:
    combine = "or" if cx.params.get("combineOperation") == "any" else "and"
    node = _condition(cx, cx.params.get("conditions"), combine)
    outputs: dict[int, tuple[str, str | None]] = {0: (node["id"], "true")}
    outputs[1] = (node["id"], "false")
    return Converted([node], node["id"], outputs)


@_maps("n8n-nodes-base.switch")
def _switch(cx: NodeContext) -> Converted:
    """flowdesk has no multi-way step: rule i becomes condition i, whose ``false`` leads to
    condition i+1 (n8n's first-match order); the last ``false`` is the fallback output."""
    p = cx.params
    rules: list[tuple[Any, int, str]] = []  # (conditions block or expression, output, label)
    if p.get("mode", "rules") == "expression":
        count = int(p.get("numberOutputs", 4))
        out = p.get("output", "")
        for i in range(count):
            rules.append(({"conditions": [{"leftValue": out, "rightValue": i,
                                           "operator": {"type": "number",
                                                        "operation": "equals"}}]}, i, str(i)))
    elif cx.version >= 3:
        for i, rule in enumerate((p.get("rules") or {}).get("values") or []):
            label = rule.get("outputKey") or str(i)
            rules.append((rule.get("conditions"), i, str(label)))
        if (p.get("options") or {}).get("allMatchingOutputs"):
            cx.problem("'send data to all matching outputs' is not translated: the first "
                       "matching rule wins")
    else:
        kind = str(p.get("dataType", "number"))
        for i, rule in enumerate((p.get("rules") or {}).get("rules") or []):
            block = {kind: [{"value1": p.get("value1", ""), "operation": rule.get(
                "operation", "equal"), "value2": rule.get("value2", "")}]}
            rules.append((block, int(rule.get("output", i)), str(rule.get("output", i))))
    if not rules:
        cx.problem("the switch has no rules; every item goes to its fallback output")
        rules.append(({}, 0, "0"))
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    outputs: dict[int, tuple[str, str | None]] = {}
    for i, (block, output, label) in enumerate(rules):
        node = _condition(cx, block, suffix="" if i == 0 else f"_rule{i + 1}",
                          label=f"{cx.name} · {label}", dy=i * 90)
        nodes.append(node)
        outputs.setdefault(output, (node["id"], "true"))
        if i:
            edges.append({"source": nodes[i - 1]["id"], "target": node["id"],
                          "sourceHandle": "false"})
    fallback = (p.get("options") or {}).get("fallbackOutput", p.get("fallbackOutput"))
    if fallback == "extra":
        outputs[len(rules)] = (nodes[-1]["id"], "false")
    elif isinstance(fallback, int) and fallback >= 0 and fallback not in outputs:
        outputs[fallback] = (nodes[-1]["id"], "false")
    if len(rules) > 1:
        cx.problem(f"flowdesk has no multi-way switch: the {len(rules)} rules became a chain "
                   "of conditions (first match wins)")
    return Converted(nodes, nodes[0]["id"], outputs, edges)


@_maps("n8n-nodes-base.noOp")
def _noop(cx: NodeContext) -> Converted:
    return cx.single("transform", {"output": cx.incoming_template()})


@_maps("n8n-nodes-base.merge")
def _merge(cx: NodeContext) -> Converted:
    p = cx.params
    mode = str(p.get("mode", "append"))
    tracer: Any = cx.tracer
    sources: list[str | None] = []
    selectors: list[str] = []
    for index in range(int(p.get("numberInputs", 2) or 2)):
        names = tracer.graph.input_of(cx.name, index)
        if not names:
            sources.append(None)
            selectors.append(f"[{index}]")
            continue
        template, rest = _split_root(cx.path_of(names[0]))
        sources.append(template)
        selectors.append(_jmes(index, rest))
    combine = mode in ("combine", "mergeByIndex", "mergeByKey", "multiplex",
                       "combineByPosition", "combineByFields", "combineAll")
    if mode in ("mergeByKey", "multiplex") or p.get("combineBy", p.get("combinationMode")) in (
            "combineByFields", "mergeByFields", "combineAll", "multiplex"):
        cx.problem("n8n matched items by fields here; flowdesk merges the two inputs' objects "
                   "key by key (one item each)")
    if mode == "chooseBranch":
        chosen = 1 if p.get("output", "input1") == "input2" else 0
        selectors = [selectors[chosen]]
    # a branch not taken has a null output: the prefix is applied inside the query, where a
    # missing key is null instead of an error
    picked = "[" + ", ".join(selectors) + "]"
    if combine:
        query = "merge(" + ", ".join(f"{picked}[{i}] || `{{}}`"
                                     for i in range(len(selectors))) + ")"
    else:
        # one item per step in flowdesk: the first input that arrived
        query = picked + " | [?@ != `null`] | [0]"
    return cx.single("transform", {"jmespath": query, "source": sources})


def _split_root(path: list[Any]) -> tuple[str, list[Any]]:
    """A scope path as (template of the step output or input, the rest of the path)."""
    from flowdesk.importers.n8n_expr import py_path

    cut = 3 if path[:1] == ["steps"] else 1
    return "{{ " + py_path(path[:cut]) + " }}", path[cut:]


def _jmes(index: int, rest: list[Any]) -> str:
    out = f"[{index}]"
    for part in rest:
        out += f"[{part}]" if isinstance(part, int) else "." + json.dumps(str(part))
    return out


@_maps("n8n-nodes-base.wait")
def _wait(cx: NodeContext) -> Converted:
    p = cx.params
    resume = p.get("resume", "timeInterval")
    if resume == "timeInterval":
        factor = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
        default_unit = "hours" if cx.version < 1.1 else "seconds"
        unit = str(p.get("unit", default_unit))
        amount = cx.value(p.get("amount", 1), "seconds")
        if isinstance(amount, int | float):
            return cx.single("delay", {"seconds": float(amount) * factor.get(unit, 1)})
        cx.problem(f"the wait amount {p.get('amount')!r} is an expression; set 'seconds'",
                   "seconds")
        return cx.single("delay", {"seconds": 0})
    if resume == "specificTime":
        return cx.single("delay", {"until": cx.value(p.get("dateTime", ""), "until")})
    event = f"n8n.resume.{cx.id}"
    cx.problem(f"n8n resumed this wait by {resume}; in flowdesk send the event: "
               f"`flowdesk send-event {event} --key RUN_ID --data JSON`", "event_name")
    config: dict[str, Any] = {"event_name": event, "correlation_key": "{{ run.id }}"}
    if p.get("limitWaitTime"):
        factor = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
        amount = p.get("resumeAmount", 1)
        if isinstance(amount, int | float):
            config["timeout_seconds"] = float(amount) * factor.get(
                str(p.get("resumeUnit", "hours")), 1)
            config["on_timeout"] = "continue"
    return cx.single("wait_for_event", config)


@_maps("n8n-nodes-base.executeWorkflow")
def _execute_workflow(cx: NodeContext) -> Converted:
    p = cx.params
    ref = p.get("workflowId", "")
    name = ref.get("cachedResultName") if isinstance(ref, dict) else None
    wid = ref.get("value") if isinstance(ref, dict) else ref
    if p.get("source", "database") != "database":
        cx.problem(f"n8n loaded the sub-workflow from '{p.get('source')}'; import it and set "
                   "its name", "workflow")
    if not name:
        cx.problem(f"n8n names the sub-workflow by id {wid!r}: import it into flowdesk and "
                   "set its name here", "workflow")
    return cx.single("workflow", {"workflow": str(name or wid or "sub-workflow"),
                                  "input": cx.incoming_template()})


# -- data --------------------------------------------------------------------------------------
def _nest(out: dict[str, Any], name: str, value: Any, dotted: bool) -> None:
    keys = name.split(".") if dotted else [name]
    target = out
    for key in keys[:-1]:
        target = target.setdefault(key, {}) if isinstance(target.get(key, {}), dict) else \
            target
    target[keys[-1]] = value


def _typed(value: Any, kind: str) -> Any:
    if isinstance(value, str) and not value.startswith("="):
        if kind in ("number", "numberValue"):
            try:
                return float(value) if "." in value else int(value)
            except ValueError:
                return value
        if kind in ("boolean", "booleanValue"):
            return value.lower() == "true"
        if kind in ("array", "object", "arrayValue", "objectValue"):
            try:
                return json.loads(value)
            except ValueError:
                return value
    return value


@_maps("n8n-nodes-base.set")
def _set(cx: NodeContext) -> Converted:
    p = cx.params
    options = p.get("options") or {}
    dotted = bool(options.get("dotNotation", True))
    out: dict[str, Any] = {}
    if cx.version < 3:
        for kind in ("string", "number", "boolean"):
            for item in (p.get("values") or {}).get(kind) or []:
                value = cx.value(_typed(item.get("value", ""), kind),
                                 f"output.{item.get('name')}")
                _nest(out, str(item.get("name", "")), value, dotted)
        keep_others = not p.get("keepOnlySet", False)
    else:
        if p.get("mode", "manual") == "raw":
            raw = p.get("jsonOutput", "{}")
            parsed = json_with_expressions(str(raw), cx, "output")
            out = parsed if isinstance(parsed, dict) else {"value": parsed}
        elif "assignments" in p:
            for item in (p.get("assignments") or {}).get("assignments") or []:
                name = str(item.get("name", ""))
                value = cx.value(_typed(item.get("value", ""), str(item.get("type", "string"))),
                                 f"output.{name}")
                _nest(out, name, value, dotted)
        else:  # v3.0-3.2 "fields.values"
            for item in (p.get("fields") or {}).get("values") or []:
                kind = str(item.get("type", "stringValue"))
                name = str(item.get("name", ""))
                value = cx.value(_typed(item.get(kind, ""), kind), f"output.{name}")
                _nest(out, name, value, dotted)
        include = p.get("include", "all" if p.get("includeOtherFields") else "none")
        keep_others = bool(p.get("includeOtherFields", False)) and include == "all" \
            if cx.version >= 3.3 else include == "all"
        if include in ("selected", "except"):
            cx.problem(f"'include {include} fields' is not translated: only the set fields are "
                       "kept")
            keep_others = False
    if keep_others:
        return cx.single("transform", {"jmespath": "merge(@[0], @[1])",
                                       "source": [cx.incoming_template(), out]})
    return cx.single("transform", {"output": out})


@_maps("n8n-nodes-base.httpRequest")
def _http(cx: NodeContext) -> Converted:
    return cx.single("http_request", http_config(cx))


@_maps("n8n-nodes-base.code", "n8n-nodes-base.function", "n8n-nodes-base.functionItem")
def _code(cx: NodeContext) -> Converted:
    return cx.single("inline_code", code_config(cx))


@_maps("n8n-nodes-base.emailSend", "n8n-nodes-base.postgres", "n8n-nodes-base.mySql",
       "n8n-nodes-base.openAi", "@n8n/n8n-nodes-langchain.openAi",
       "@n8n/n8n-nodes-langchain.chainLlm", "@n8n/n8n-nodes-langchain.agent")
def _service(cx: NodeContext) -> Converted:
    step_type, config = SERVICES[str(cx.node["type"])](cx)
    return cx.single(step_type, config)


def convert_node(node: dict[str, Any], cx: NodeContext) -> Converted:
    kind = str(node.get("type", ""))
    mapper = MAPPERS.get(kind)
    if node.get("disabled"):
        cx.problem("this node is disabled in n8n; flowdesk runs it (delete it or "
                   "reconnect around it)")
    if mapper is None:
        conv = placeholder(cx, f"the n8n node type '{kind}' has no flowdesk equivalent; "
                               "this placeholder keeps its parameters — replace it")
    else:
        conv = mapper(cx)
    if node.get("onError") == "continueErrorOutput":
        _error_output(conv)
    return conv


def _error_output(conv: Converted) -> None:
    """n8n's "continue (using error output)": its error output is the node's last one, after
    the ordinary outputs; every flowdesk node made from it routes its failures to its
    ``error`` port, which that output's connections leave through."""
    for made in conv.nodes:
        made["data"].pop("continue_on_error", None)
        made["data"]["on_error"] = "error_output"
    conv.error_index = max(conv.outputs, default=-1) + 1
    conv.error_sources = [made["id"] for made in conv.nodes]
