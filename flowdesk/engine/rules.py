"""The graph rules, written once: may two ports be connected, is an edge live after a decision.

Contract:
- ``connect_problem(workflow, source, handle, target, registry)`` returns ``None`` when an edge
  ``source → target`` through output port ``handle`` may be added, else a ``ConnectError``
  whose ``reason`` (a ``ConnectReason``) says why and whose message says it to a person.
  ``check_connect`` is the same question, raising that error. No I/O, no Qt.
- ``edge_state(source_status, source_branch, handle, ...)`` says whether an edge leaving a
  step is ``LIVE`` (its target may run), ``DEAD`` (its target is skipped if no other incoming
  edge is live) or ``UNDECIDED`` (the source has not finished in a way that decides it).
  ``edge_live`` is ``edge_state(...) is EdgeState.LIVE``. The executor schedules with it; the
  canvas draws taken and dead edges with it.
- The ``error`` port (``ERROR_PORT``): a step with ``on_error: "error_output"`` has it beside
  its ordinary outputs (``output_ports``). A failure of such a step (recorded as ``failed``
  with the branch ``error``) makes only its ``error`` edges live; a success makes them dead.
"""

from __future__ import annotations

import enum

from flowdesk.engine.graph import WorkflowGraph
from flowdesk.engine.registry import StepRegistry
from flowdesk.model.errors import FlowdeskError, UnknownStepType
from flowdesk.model.status import StepStatus
from flowdesk.model.workflow import ERROR_PORT, Node, Workflow

__all__ = [
    "ERROR_PORT",
    "ConnectError",
    "ConnectReason",
    "EdgeState",
    "check_connect",
    "connect_problem",
    "edge_live",
    "edge_state",
    "output_ports",
]


class ConnectReason(enum.Enum):
    MISSING_STEP = "missing_step"
    SELF_LOOP = "self_loop"
    INTO_TRIGGER = "into_trigger"
    UNKNOWN_HANDLE = "unknown_handle"
    DUPLICATE = "duplicate"
    CYCLE = "cycle"


class ConnectError(FlowdeskError):
    """An edge that may not be added; ``reason`` is the machine-readable why."""

    def __init__(self, reason: ConnectReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class EdgeState(enum.Enum):
    UNDECIDED = "undecided"
    LIVE = "live"
    DEAD = "dead"


def _ports(registry: StepRegistry | None, node_type: str) -> tuple[str, ...] | None:
    """The named output ports of a type (``()`` = one output); None when it is unknown."""
    if registry is None:
        return None
    try:
        return registry.get(node_type).catalog.ports
    except (UnknownStepType, ImportError):
        return None


def _is_trigger(registry: StepRegistry | None, node_type: str) -> bool:
    if registry is None:
        return False
    try:
        return registry.get(node_type).catalog.trigger
    except (UnknownStepType, ImportError):
        return False


def output_ports(node: Node, type_ports: tuple[str, ...]) -> tuple[str | None, ...]:
    """The handles edges may leave ``node`` through: its type's named ports (``None`` for the
    one output of a non-branching type), then ``error`` when the node routes its failures."""
    ports: tuple[str | None, ...] = type_ports if type_ports else (None,)
    return (*ports, ERROR_PORT) if node.data.error_output else ports


def connect_problem(workflow: Workflow, source: str, handle: str | None, target: str,
                    registry: StepRegistry | None = None) -> ConnectError | None:
    """None if ``source → target`` through ``handle`` may be added, else why not."""
    nodes = {n.id: n for n in workflow.nodes}
    if source not in nodes or target not in nodes:
        return ConnectError(ConnectReason.MISSING_STEP, "both ends must be steps")
    if source == target:
        return ConnectError(ConnectReason.SELF_LOOP, "a step cannot be connected to itself")
    if _is_trigger(registry, nodes[target].type):
        return ConnectError(ConnectReason.INTO_TRIGGER,
                            f"'{target}' is a trigger: it takes no input")
    ports = _ports(registry, nodes[source].type)
    if handle == ERROR_PORT and not nodes[source].data.error_output:
        return ConnectError(ConnectReason.UNKNOWN_HANDLE,
                            f"'{source}' has no error port: turn on \"Send failures to an "
                            "error port\" in its Behaviour settings")
    if ports and handle not in output_ports(nodes[source], ports):
        return ConnectError(ConnectReason.UNKNOWN_HANDLE,
                            f"'{source}' has the output ports "
                            f"{', '.join(map(str, output_ports(nodes[source], ports)))}, "
                            f"not {handle!r}")
    for edge in workflow.edges:
        if edge.source == source and edge.target == target and edge.source_handle == handle:
            return ConnectError(ConnectReason.DUPLICATE, "these steps are already connected")
    if WorkflowGraph(workflow).would_create_cycle(source, target):
        return ConnectError(ConnectReason.CYCLE, "this connection would create a cycle")
    return None


def check_connect(workflow: Workflow, source: str, handle: str | None, target: str,
                  registry: StepRegistry | None = None) -> None:
    """Raise ``ConnectError`` if ``source → target`` through ``handle`` may not be added."""
    problem = connect_problem(workflow, source, handle, target, registry)
    if problem is not None:
        raise problem


def edge_state(source_status: StepStatus, source_branch: str | None, handle: str | None, *,
               branching: bool | None = None, continue_on_error: bool = False,
               error_output: bool = False) -> EdgeState:
    """Whether an edge through ``handle`` out of a step in ``source_status`` is live.

    ``branching``: the source type has named output ports (None: not known here; judged by
    whether the source recorded a branch). A completed branching step keeps only the edge of
    the port it took; a step that failed with ``continue_on_error`` keeps its single output
    live (a branching one took no port, so all its edges are dead).

    ``error_output``: the source routes its failures to its ``error`` port (a caller that has
    only the recorded run may leave it out: a failure that took the port recorded the branch
    ``error``). A failed such step keeps only its ``error`` edges live, whatever
    ``continue_on_error`` says; a step that finished otherwise never takes its error port."""
    if source_status is StepStatus.FAILED and (error_output or source_branch == ERROR_PORT):
        return EdgeState.LIVE if handle == ERROR_PORT else EdgeState.DEAD
    if handle == ERROR_PORT and source_status in (StepStatus.COMPLETED, StepStatus.SKIPPED):
        return EdgeState.DEAD
    if source_status is StepStatus.COMPLETED:
        if branching is not False and source_branch is not None:
            return EdgeState.LIVE if handle == source_branch else EdgeState.DEAD
        return EdgeState.LIVE
    if source_status is StepStatus.SKIPPED:
        return EdgeState.DEAD
    if source_status is StepStatus.FAILED and continue_on_error:
        return EdgeState.DEAD if branching else EdgeState.LIVE
    # a failed step that stops the run decides nothing: a retry runs it again
    return EdgeState.UNDECIDED


def edge_live(source_status: StepStatus, source_branch: str | None, handle: str | None, *,
              branching: bool | None = None, continue_on_error: bool = False,
              error_output: bool = False) -> bool:
    """True if the edge lets its target run (see ``edge_state``)."""
    return edge_state(source_status, source_branch, handle, branching=branching,
                      continue_on_error=continue_on_error,
                      error_output=error_output) is EdgeState.LIVE
