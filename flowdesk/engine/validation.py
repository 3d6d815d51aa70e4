"""Static checks of a workflow: everything that can be known before running it.

``validate`` returns every problem at once, each located on a node, an edge and/or a field:
duplicate ids, unknown step types, edges to missing nodes, cycles (naming their nodes),
config that does not fit the step's model (pydantic's message), malformed templates and
expressions, references to steps that do not exist or are not upstream, bad branch handles
(an edge from the ``error`` port of a step that does not route its failures there),
and triggers with incoming edges, and text kept as typed in a field that is not a valid
value yet (a node's ``drafts``: unfinished JSON, a number that is not one).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from pydantic import ValidationError

from flowdesk.engine.expressions import check_syntax, iter_step_references
from flowdesk.engine.graph import WorkflowGraph
from flowdesk.engine.registry import StepRegistry, StepType
from flowdesk.engine.rules import ERROR_PORT, output_ports
from flowdesk.engine.templates import format_path, iter_references
from flowdesk.model.errors import ExpressionError, Problem, UnknownStepType, WorkflowInvalid
from flowdesk.model.workflow import ON_ERROR_VALUES, Node, Workflow, readable_message

__all__ = ["SCOPE_ROOTS", "WORKFLOW_REF_FIELDS", "check", "check_workflow_refs", "validate"]

# steps that run a saved workflow, and the config key that names it
WORKFLOW_REF_FIELDS = {"workflow": "workflow", "for_each": "workflow"}

SCOPE_ROOTS = ("input", "steps", "run", "secrets")
_ITEM_ROOTS = ("item", "index")


def check(workflow: Workflow, registry: StepRegistry) -> None:
    problems = validate(workflow, registry)
    if problems:
        raise WorkflowInvalid(problems, f"workflow '{workflow.name}'")


def validate(workflow: Workflow, registry: StepRegistry) -> list[Problem]:
    problems: list[Problem] = []
    counts = Counter(n.id for n in workflow.nodes)
    for node_id, n in counts.items():
        if n > 1:
            problems.append(Problem(code="duplicate_node_id", node_id=node_id,
                                    message=f"{n} nodes have the id '{node_id}'"))
    edge_counts = Counter(e.id for e in workflow.edges)
    for edge_id, n in edge_counts.items():
        if n > 1:
            problems.append(Problem(code="duplicate_edge_id", edge_id=edge_id,
                                    message=f"{n} edges have the id '{edge_id}'"))

    types: dict[str, StepType] = {}
    for node in workflow.nodes:
        try:
            types[node.id] = registry.get(node.type)
        except UnknownStepType as exc:
            problems.append(Problem(code="unknown_step_type", node_id=node.id, field="type",
                                    message=str(exc)))
        except ImportError as exc:
            problems.append(Problem(code="step_type_unavailable", node_id=node.id,
                                    field="type",
                                    message=f"step type '{node.type}' cannot load: {exc}"))

    node_ids = set(counts)
    nodes_by_id: dict[str, Node] = {n.id: n for n in workflow.nodes}
    seen_links: set[tuple[str, str, str | None]] = set()
    for edge in workflow.edges:
        for end, ref in (("source", edge.source), ("target", edge.target)):
            if ref not in node_ids:
                problems.append(Problem(code="edge_missing_node", edge_id=edge.id, field=end,
                                        message=f"{end} node '{ref}' does not exist"))
        link = (edge.source, edge.target, edge.source_handle)
        if link in seen_links:
            problems.append(Problem(code="duplicate_edge", edge_id=edge.id,
                                    message=f"'{edge.source}' is already connected to "
                                            f"'{edge.target}' through this output"))
        seen_links.add(link)
        if edge.source == edge.target:
            problems.append(Problem(code="self_loop", edge_id=edge.id, node_id=edge.source,
                                    message="a step cannot be connected to itself"))
        source_type = types.get(edge.source)
        source_node = nodes_by_id.get(edge.source)
        if edge.source_handle == ERROR_PORT and source_node is not None \
                and not source_node.data.error_output:
            problems.append(Problem(
                code="no_error_port", edge_id=edge.id, node_id=edge.source,
                field="sourceHandle",
                message=f"this edge leaves the error port of '{edge.source}', which does not "
                        "route its failures there: set its on_error to \"error_output\" "
                        "(Behaviour: Send failures to an error port) or remove the edge"))
        elif source_type is not None and source_node is not None \
                and source_type.catalog.ports:
            ports = output_ports(source_node, source_type.catalog.ports)
            if edge.source_handle not in ports:
                problems.append(Problem(
                    code="bad_handle", edge_id=edge.id, node_id=edge.source,
                    field="sourceHandle",
                    message=f"an edge from {source_type.catalog.type} step '{edge.source}' "
                            f"must leave through one of {', '.join(map(repr, ports))}, "
                            f"not {edge.source_handle!r}"))
        target_type = types.get(edge.target)
        if target_type is not None and target_type.catalog.trigger:
            problems.append(Problem(code="trigger_has_input", edge_id=edge.id,
                                    node_id=edge.target,
                                    message=f"trigger step '{edge.target}' cannot have "
                                            "incoming edges"))

    graph = WorkflowGraph(workflow)
    cycle = graph.find_cycle()
    if cycle is not None:
        path = " → ".join([*cycle, cycle[0]])
        problems.append(Problem(code="cycle", node_id=cycle[0],
                                message=f"the workflow has a cycle: {path}"))

    for node in workflow.nodes:
        if node.data.on_error is not None and node.data.on_error not in ON_ERROR_VALUES:
            problems.append(Problem(
                code="bad_on_error", node_id=node.id, field="on_error",
                message=f"on_error {node.data.on_error!r} is not known: use "
                        f"{', '.join(map(repr, ON_ERROR_VALUES))} or leave it out"))
        step_type = types.get(node.id)
        if step_type is None:
            continue
        drafts = _drafts(node.data.__pydantic_extra__)
        problems.extend(p for p in _check_config(node.id, step_type, node.data.config)
                        if (p.field or "").split(".")[0] not in drafts)
        problems.extend(_check_drafts(node.id, step_type, drafts))
        problems.extend(_check_references(node.id, step_type, node.data.config, node_ids,
                                          graph if cycle is None else None))
    return problems


def check_workflow_refs(workflow: Workflow, saved: set[str]) -> list[Problem]:
    """Sub-workflow references to workflows that are not saved (checked where the saved
    names are known: the editor, with the library's list)."""
    problems = []
    for node in workflow.nodes:
        key = WORKFLOW_REF_FIELDS.get(node.type)
        name = node.data.config.get(key) if key else None
        if isinstance(name, str) and name and not _has_template(name) and name not in saved:
            problems.append(Problem(
                code="unknown_workflow", node_id=node.id, field=key,
                message=f"there is no saved workflow named '{name}'; choose one from the "
                        "list"))
    return problems


def _drafts(extra: dict[str, Any] | None) -> dict[str, str]:
    drafts = (extra or {}).get("drafts")
    return {str(k): str(v) for k, v in drafts.items()} if isinstance(drafts, dict) else {}


def _check_drafts(node_id: str, step_type: StepType, drafts: dict[str, str]) -> list[Problem]:
    problems = []
    fields = {f.alias or name: f for name, f in step_type.config_model.model_fields.items()}
    for key, text in drafts.items():
        short = text if len(text) <= 40 else text[:39] + "…"
        if key.startswith("@"):  # a node setting (the timeout), not a config field
            problems.append(Problem(code="invalid_value", node_id=node_id, field=key,
                                    message=f"{key[1:].replace('_', ' ')}: {short!r} is not "
                                            "a number above 0; it is kept as typed until "
                                            "you fix it or clear the field"))
            continue
        field = fields.get(key)
        annotation = str(field.annotation) if field is not None else ""
        if "int" in annotation or "float" in annotation:
            why = "is not a number or a {{ template }}"
        else:
            try:
                json.loads(text)
                why = "is not a valid value"
            except json.JSONDecodeError as exc:
                why = f"is not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
        problems.append(Problem(code="invalid_value", node_id=node_id, field=key,
                                message=f"{short!r} {why}; it is kept as typed until you "
                                        "fix it or clear the field"))
    return problems


def _has_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _check_config(node_id: str, step_type: StepType, config: dict[str, Any]) -> list[Problem]:
    try:
        step_type.config_model.model_validate(config)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            # a template may stand for any type: its value is only known at run time (but
            # a step's own checks of the text, "value_error", still apply)
            if _has_template(err.get("input")) and err.get("type") != "value_error":
                continue
            field = ".".join(str(p) for p in err["loc"]) or None
            problems.append(Problem(code="bad_config", node_id=node_id, field=field,
                                    message=readable_message(err["msg"])))
        return problems
    return []


def _check_references(
    node_id: str,
    step_type: StepType,
    config: dict[str, Any],
    node_ids: set[str],
    graph: WorkflowGraph | None,
) -> list[Problem]:
    problems = []

    def check_step_ref(field: str, ref: str, what: str) -> None:
        if ref not in node_ids:
            problems.append(Problem(code="unknown_reference", node_id=node_id, field=field,
                                    message=f"{what} refers to step '{ref}', which does "
                                            "not exist"))
        elif graph is not None and ref not in graph.ancestors(node_id):
            problems.append(Problem(code="not_upstream", node_id=node_id, field=field,
                                    message=f"{what} refers to step '{ref}', which is not "
                                            "upstream of this step"))

    for key, value in config.items():
        if key in step_type.expression_fields and isinstance(value, str):
            try:
                check_syntax(value)
            except ExpressionError as exc:
                problems.append(Problem(code="bad_expression", node_id=node_id, field=key,
                                        message=str(exc)))
            for ref in iter_step_references(value):
                check_step_ref(key, ref, "the expression")
            continue
        allowed = SCOPE_ROOTS + (_ITEM_ROOTS if key in step_type.item_scope_fields else ())
        for field, parts, raw in iter_references(value, key):
            if parts is None and raw.startswith("unclosed template") \
                    and key in step_type.raw_fields and key not in step_type.item_scope_fields:
                continue  # code is not rendered: '{{' there is the code's own business
            if parts is None:
                problems.append(Problem(code="bad_template", node_id=node_id, field=field,
                                        message=raw))
                continue
            root = parts[0]
            if root not in allowed:
                hint = " (only inside a for_each step spec)" if root in _ITEM_ROOTS else ""
                problems.append(Problem(
                    code="bad_template", node_id=node_id, field=field,
                    message=f"template '{format_path(parts)}' starts with unknown name "
                            f"'{root}'{hint}; use one of {', '.join(allowed)}"))
            elif root == "steps":
                if len(parts) < 2 or not isinstance(parts[1], str):
                    problems.append(Problem(code="bad_template", node_id=node_id, field=field,
                                            message=f"template '{format_path(parts)}' must "
                                                    "name a step: steps.<id>.output"))
                    continue
                check_step_ref(field, parts[1], f"template '{format_path(parts)}'")
                if len(parts) >= 3 and parts[2] not in ("output", "status"):
                    problems.append(Problem(code="bad_template", node_id=node_id, field=field,
                                            message=f"template '{format_path(parts)}': use "
                                                    f"steps.{parts[1]}.output or "
                                                    f"steps.{parts[1]}.status"))
    return problems
