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

from flowdesk.importers.sniff import is_n8n_export
from flowdesk.model.errors import Problem
from flowdesk.model.workflow import Workflow

__all__ = ["ImportResult", "is_n8n_export", "load_workflow_data", "load_workflow_file"]


@dataclass
class ImportResult:
    workflow: Workflow
    problems: list[Problem] = field(default_factory=list)
    source: str = "flowdesk"


def load_workflow_data(data: Any, where: str = "workflow") -> ImportResult:
    if is_n8n_export(data):
        # the converter is imported only for an n8n file (a flowdesk file needs none of it)
        from flowdesk.importers.n8n import convert_n8n

        workflow, problems = convert_n8n(data, where)
        return ImportResult(workflow, problems, "n8n")
    return ImportResult(Workflow.from_dict(data, where))


def load_workflow_file(path: str | Path) -> ImportResult:
    return load_workflow_data(Workflow.read_data(path), str(path))
