"""Test one step: run a single step of a workflow on given upstream outputs, recording no run.

Contract:
- ``upstream_data(workflow, step_id, pins, history)`` finds what the step's template scope
  ``steps.<id>`` holds for its upstream steps: a pinned output first, else the step's newest
  recorded output in the workflow's runs (``StepHistory.last_outputs``). An upstream step the
  step refers to (a template, an expression, ``steps.x``/``steps["x"]`` in code) that has
  neither is a ``MissingUpstreamData`` naming it; upstream steps it does not refer to are
  given when known and left out otherwise.
- ``trial_step(...)`` does both; its run input is the one given, else the newest run's
  input, else the workflow's ``sample_input``, else ``{}``.
- ``run_one_step(...)`` runs the step's real handler exactly as a run would — templates
  rendered on that scope, config validated, its retry policy and time limit, the shared
  services (secrets, code sandbox, HTTP client) — and returns a ``StepTrial``: status
  (completed, failed, or waiting when the step would pause the run), output, error, the
  rendered input, attempts, duration, branch and where each upstream output came from.
  Secrets it used are masked in all of it. Nothing is written to the store.
- Problems of the workflow that concern this step (or the whole workflow, such as a cycle)
  are a ``WorkflowInvalid``; problems of other steps do not stop a test.
- ``workflow_up_to(workflow, step_id)`` is "Run to here": the step and its upstream steps
  only, to run as a real run (pins do not apply to it).
- Pins are used here only. A workflow *run* (``flowdesk run``, the app, ``flowdesk serve``,
  webhooks, schedules) never reads them.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from flowdesk.engine.context import StepContext, StepWaiting
from flowdesk.engine.expressions import iter_step_references
from flowdesk.engine.graph import WorkflowGraph
from flowdesk.engine.persistence import StepHistory
from flowdesk.engine.registry import StepRegistry, StepType
from flowdesk.engine.services import Services
from flowdesk.engine.stepexec import run_attempts
from flowdesk.engine.templates import iter_references
from flowdesk.engine.validation import validate
from flowdesk.model.errors import (
    FlowdeskError,
    InternalStepError,
    NotFound,
    StepError,
    WorkflowInvalid,
)
from flowdesk.model.status import StepStatus
from flowdesk.model.workflow import Workflow

__all__ = [
    "MissingUpstreamData",
    "StepHistory",
    "StepTrial",
    "Upstream",
    "referenced_steps",
    "run_one_step",
    "trial_step",
    "upstream_data",
    "workflow_up_to",
]

_CODE_REF = re.compile(r"""\bsteps\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*["']([^"']+)["']\s*\])""")


class MissingUpstreamData(FlowdeskError):
    """An upstream step the tested step reads has no pinned output and no recorded one."""

    def __init__(self, step_id: str, missing: list[str], workflow: str) -> None:
        names = ", ".join(f"'{m}'" for m in missing)
        super().__init__(
            f"step '{step_id}' reads the output of {names}, which "
            f"{'has' if len(missing) == 1 else 'have'} no pinned output and no output in any "
            f"run of '{workflow}': pin {'its' if len(missing) == 1 else 'their'} output "
            "or run the workflow once")
        self.step_id = step_id
        self.missing = missing


@dataclass(frozen=True)
class Upstream:
    """One upstream step's output as the tested step sees it, and where it came from."""

    output: Any
    source: str  # "pin" or "run"
    run_id: str | None = None

    def describe(self) -> str:
        return "pinned" if self.source == "pin" else f"run {(self.run_id or '')[:8]}"


@dataclass
class StepTrial:
    """The result of testing one step."""

    step_id: str
    status: StepStatus
    output: Any = None
    error: str | None = None
    input: Any = None
    attempts: int = 0
    duration_ms: float = 0.0
    branch: str | None = None
    upstream: dict[str, Upstream] = field(default_factory=dict)
    run_input: Any = None

    @property
    def ok(self) -> bool:
        return self.status is StepStatus.COMPLETED

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step_id, "status": self.status.value, "output": self.output,
                "error": self.error, "input": self.input, "attempts": self.attempts,
                "duration_ms": self.duration_ms, "branch": self.branch,
                "upstream": {k: v.describe() for k, v in self.upstream.items()}}


def referenced_steps(step_type: StepType, config: dict[str, Any]) -> set[str]:
    """The step ids a config reads: in templates, expressions and code (``steps.x``)."""
    found: set[str] = set()
    for key, value in config.items():
        if key in step_type.expression_fields and isinstance(value, str):
            found.update(iter_step_references(value))
            continue
        if key in step_type.raw_fields:
            for text in _strings(value):
                found.update(a or b for a, b in _CODE_REF.findall(text))
        for _field, parts, _raw in iter_references(value, key):
            if parts and parts[0] == "steps" and len(parts) > 1 and isinstance(parts[1], str):
                found.add(parts[1])
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _node(workflow: Workflow, step_id: str) -> Any:
    try:
        return workflow.node(step_id)
    except KeyError:
        known = ", ".join(n.id for n in workflow.nodes) or "none"
        raise NotFound(f"workflow '{workflow.name}' has no step '{step_id}' "
                       f"(its steps: {known})") from None


def upstream_data(workflow: Workflow, step_id: str, registry: StepRegistry,
                  pins: dict[str, Any], history: StepHistory | None) -> dict[str, Upstream]:
    """The upstream outputs the step is tested on: pins, else the newest recorded ones."""
    node = _node(workflow, step_id)
    ancestors = WorkflowGraph(workflow).ancestors(step_id)
    data = {s: Upstream(pins[s], "pin") for s in ancestors if s in pins}
    wanted = sorted(ancestors - set(data))
    if wanted and history is not None:
        for sid, (run_id, output) in history.last_outputs(workflow.name, wanted).items():
            data[sid] = Upstream(output, "run", run_id)
    needed = referenced_steps(registry.get(node.type), node.data.config) & ancestors
    missing = sorted(needed - set(data))
    if missing:
        raise MissingUpstreamData(step_id, missing, workflow.name)
    return {s: data[s] for s in sorted(data)}


def _check(workflow: Workflow, step_id: str, registry: StepRegistry) -> None:
    problems = [p for p in validate(workflow, registry)
                if p.node_id == step_id or (p.node_id is None and p.edge_id is None)]
    if problems:
        raise WorkflowInvalid(problems, f"step '{step_id}' of '{workflow.name}'")


async def run_one_step(workflow: Workflow, step_id: str, *, registry: StepRegistry,
                       services: Services, upstream: dict[str, Upstream],
                       run_input: Any = None) -> StepTrial:
    """Run ``step_id``'s handler once (with its retries and time limit) on ``upstream``."""
    node = _node(workflow, step_id)
    _check(workflow, step_id, registry)
    step_type = registry.get(node.type)
    run_input = run_input if run_input is not None else {}
    secrets = services.secrets
    scope: dict[str, Any] = {
        "input": run_input,
        "steps": {sid: {"output": up.output, "status": StepStatus.COMPLETED.value}
                  for sid, up in upstream.items()},
        "run": {"id": f"test-{uuid.uuid4().hex}", "workflow": workflow.name},
        "secrets": secrets,
    }
    trial = StepTrial(step_id=step_id, status=StepStatus.RUNNING, upstream=upstream,
                      run_input=run_input)

    def record_input(config: Any) -> None:
        trial.input = config.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    def make_ctx(attempt: int) -> StepContext:
        trial.attempts = attempt
        return StepContext(run_id=scope["run"]["id"], step_id=step_id, attempt=attempt,
                           scope=scope, services=services, input_cb=record_input)

    started = time.perf_counter()
    try:
        output, _ = await run_attempts(step_type, node.data.config, make_ctx,
                                       retry=node.data.retry, timeout=node.data.timeout_seconds)
    except StepWaiting as waiting:
        trial.status = StepStatus.WAITING
        trial.output = waiting.info
        trial.error = (f"this step would wait ({waiting.info.get('kind', 'waiting')}); a test "
                       "does not wait: run the workflow to decide it")
    except (StepError, InternalStepError) as error:
        trial.status = StepStatus.FAILED
        trial.error = str(error)
    else:
        trial.status = StepStatus.COMPLETED
        trial.output = output
        trial.branch = step_type.branch(output) if step_type.branch is not None else None
    trial.duration_ms = round((time.perf_counter() - started) * 1000, 3)
    if secrets.revealed:
        trial.output = secrets.redact(trial.output)
        trial.error = secrets.redact(trial.error)
        trial.input = secrets.redact(trial.input)
    return trial


async def trial_step(workflow: Workflow, step_id: str, *, registry: StepRegistry,
                     services: Services, history: StepHistory | None,
                     pins: dict[str, Any] | None = None, run_input: Any = None) -> StepTrial:
    """Test ``step_id``: its upstream outputs from ``pins``, else from past runs."""
    _node(workflow, step_id)
    _check(workflow, step_id, registry)
    upstream = upstream_data(workflow, step_id, registry, pins or {}, history)
    if run_input is None and history is not None:
        last = history.last_input(workflow.name)
        run_input = last[1] if last is not None else None
    if run_input is None:
        run_input = (workflow.model_extra or {}).get("sample_input")
    return await run_one_step(workflow, step_id, registry=registry, services=services,
                              upstream=upstream, run_input=run_input)


def workflow_up_to(workflow: Workflow, step_id: str) -> Workflow:
    """"Run to here": the workflow cut down to ``step_id`` and the steps upstream of it (with
    the edges between them), keeping its name, settings and other fields."""
    _node(workflow, step_id)
    keep = WorkflowGraph(workflow).ancestors(step_id) | {step_id}
    data = workflow.to_dict()
    data["nodes"] = [n for n in data.get("nodes", []) if n["id"] in keep]
    data["edges"] = [e for e in data.get("edges", [])
                     if e["source"] in keep and e["target"] in keep]
    return Workflow.model_validate(data)
