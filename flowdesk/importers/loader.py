"""The shared loader: a JSON file → a flowdesk ``Workflow`` plus import problems.

Errors are ``WorkflowFileError``s naming the file (unreadable, not JSON, not a workflow), as
``Workflow.load`` gives; an n8n export is converted by ``flowdesk.importers.n8n`` and its
untranslatable parts come back as ``Problem``s (``source`` says where the workflow came from:
``"flowdesk"`` or ``"n8n"``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowdesk.importers.n8n import convert_n8n, is_n8n_export
from flowdesk.model.errors import Problem, WorkflowFileError
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
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkflowFileError(str(path), "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkflowFileError(str(path), f"cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkflowFileError(
            str(path), f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    return load_workflow_data(data, str(path))
