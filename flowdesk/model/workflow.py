"""The workflow definition: the JSON file format of DESIGN.md as pydantic models.

Every model keeps fields it does not know (``extra="allow"``), so a file written by a newer
flowdesk or by another tool survives a load and a save. Optional fields that are unset are
left out when dumping, so files stay as small as the user wrote them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from flowdesk.model.errors import WorkflowFileError
from flowdesk.model.jsontext import MAX_FILE_BYTES, JsonTextError, parse_json

__all__ = [
    "ERROR_PORT",
    "ON_ERROR_VALUES",
    "Edge",
    "Node",
    "NodeData",
    "Position",
    "RetryPolicy",
    "RunSettings",
    "Workflow",
    "format_validation_error",
    "readable_message",
]


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _unset(value: Any) -> bool:
    return value is None


def _optional(**kwargs: Any) -> Any:
    """An optional field (default None) that is left out of files while unset: pydantic's
    ``exclude_if``, checked in its serializer for these fields only (a model-wide wrap
    serializer in Python cost ≈18 µs per step of every saved or run workflow)."""
    return Field(None, exclude_if=_unset, **kwargs)


class Position(_FileModel):
    x: float = 0.0
    y: float = 0.0


class RetryPolicy(_FileModel):
    """How often and how patiently a step is retried after a retriable error."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(3, ge=1, le=100)
    backoff: Literal["fixed", "linear", "exponential"] = "exponential"
    base_seconds: float = Field(1.0, ge=0)
    max_seconds: float = Field(60.0, ge=0)
    jitter: float = Field(0.0, ge=0, le=1, description="fraction of each delay drawn at random")


# the output port a step with ``on_error: "error_output"`` sends its failure through
ERROR_PORT = "error"
ON_ERROR_VALUES = ("error_output",)


class NodeData(_FileModel):
    label: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    retry: RetryPolicy | None = _optional()
    timeout_seconds: float | None = _optional(gt=0)
    continue_on_error: bool = False
    # "error_output": a failure (after the retries) leaves through the ``error`` port instead
    # of failing the run (n8n's "continue (using error output)"); unset: left out of files.
    # Any text loads (a newer flowdesk may know more values); validation reports the others.
    on_error: str | None = _optional(
        description="'error_output': route a failure to the step's error port")

    @property
    def error_output(self) -> bool:
        """The step has an ``error`` output port that its failures go through."""
        return self.on_error == "error_output"


class Node(_FileModel):
    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    position: Position = Field(default_factory=Position)
    data: NodeData = Field(default_factory=NodeData)

    @property
    def label(self) -> str:
        return self.data.label or self.id


class Edge(_FileModel):
    id: str = Field(min_length=1)
    source: str
    target: str
    source_handle: str | None = _optional(alias="sourceHandle")
    target_handle: str | None = _optional(alias="targetHandle")


class RunSettings(_FileModel):
    max_concurrency: int = Field(10, ge=1, le=1000)
    timeout_seconds: float | None = _optional(gt=0, description="limit for the whole run")


class Workflow(_FileModel):
    name: str = Field(min_length=1)
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    settings: RunSettings = Field(default_factory=RunSettings)

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Any, source: str = "workflow") -> Workflow:
        if not isinstance(data, dict):
            raise WorkflowFileError(source, f"expected a JSON object, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise WorkflowFileError(source, format_validation_error(exc)) from None

    @classmethod
    def from_json(cls, text: str, source: str = "workflow") -> Workflow:
        try:
            data = parse_json(text)
        except JsonTextError as exc:
            raise WorkflowFileError(source, str(exc)) from None
        return cls.from_dict(data, source)

    @classmethod
    def load(cls, path: str | Path) -> Workflow:
        return cls.from_dict(cls.read_data(path), str(path))

    @staticmethod
    def read_data(path: str | Path) -> Any:
        """The parsed JSON of a workflow file, with its size, encoding and nesting checked
        (also what importers of other tools' files read)."""
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise WorkflowFileError(str(path), f"too large: {size:,} bytes (the limit is "
                                                   f"{MAX_FILE_BYTES:,})")
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise WorkflowFileError(str(path), "no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise WorkflowFileError(str(path), f"cannot read: {exc}") from None
        try:
            return parse_json(text)
        except JsonTextError as exc:
            raise WorkflowFileError(str(path), str(exc)) from None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")


_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def readable_message(message: str) -> str:
    """A pydantic error message as a person reads it: without pydantic's "Value error, "
    or "Assertion failed, " prefix in front of our own validators' sentences."""
    for prefix in _PYDANTIC_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def format_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """One line per pydantic error, each with the dotted location, e.g. ``nodes[2].id``."""
    lines = []
    for err in exc.errors():
        loc = prefix
        for part in err["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
        lines.append(f"{loc or 'value'}: {readable_message(err['msg'])}")
    return "; ".join(lines)
