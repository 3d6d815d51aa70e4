"""The built-in step types, one module each (config model + handler + catalog entry).

``default_registry()`` registers them lazily: a module is imported the first time a workflow
uses its type (or when the palette asks for the whole catalog).
"""

from __future__ import annotations

from flowdesk.engine.registry import StepRegistry

__all__ = ["BUILTIN_STEPS", "default_registry"]

BUILTIN_STEPS: dict[str, str] = {
    "webhook": "flowdesk.steps.webhook:STEP",
    "schedule": "flowdesk.steps.schedule:STEP",
    "transform": "flowdesk.steps.transform:STEP",
    "condition": "flowdesk.steps.condition:STEP",
    "delay": "flowdesk.steps.delay:STEP",
    "inline_code": "flowdesk.steps.inline_code:STEP",
    "http_request": "flowdesk.steps.http_request:STEP",
    "function_call": "flowdesk.steps.function_call:STEP",
    "for_each": "flowdesk.steps.for_each:STEP",
    "wait_for_approval": "flowdesk.steps.wait_for_approval:STEP",
    "wait_for_event": "flowdesk.steps.wait_for_event:STEP",
    "llm_call": "flowdesk.steps.llm_call:STEP",
    "database_query": "flowdesk.steps.database_query:STEP",
    "send_email": "flowdesk.steps.send_email:STEP",
    "workflow": "flowdesk.steps.workflow:STEP",
}


def default_registry() -> StepRegistry:
    registry = StepRegistry()
    for name, target in BUILTIN_STEPS.items():
        registry.register_lazy(name, target)
    return registry
