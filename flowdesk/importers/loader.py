"""The shared loader: a JSON file → a flowdesk ``Workflow`` plus import problems.

Errors are ``WorkflowFileError``s naming the file (unreadable, not JSON, not a workflow), as
``Workflow.load`` gives; an n8n export is converted by ``flowdesk.importers.n8n`` and its
untranslatable parts come back as ``Problem``s (``source`` says where the workflow came from:
``"flowdesk"`` or ``"n8n"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowdesk.importers.n8n import convert_n8n, is_n8n_export
from flowdesk.model.errors import Problem
from flowdesk.model.workflow import Workflow

__all__ = ["ImportResult", "load_workflow_data", "load_workflow_file"]


@dataclass
class ImportResult:
    workflow: Workflow
    problems: list[Problem] = field(default_factory=list)
    source: str = "flowdesk"


def load_workflow_data(data: Any, where: str = "workflow") -> ImportResult:
    if is_n8n_export(data):
        workflow, problems = convert_n8n(data, where)
        return ImportResult(workflow, problems, "n8n")
    return ImportResult(Workflow.from_dict(data, where))


def load_workflow_file(path: str | Path) -> ImportResult:
    return load_workflow_data(Workflow.read_data(path), str(path))
