"""``trusted`` builds exactly what ``model_construct`` builds, for every model it is used on."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from flowdesk.model.events import EventType, RunEvent
from flowdesk.model.run import AttemptRecord, RunSnapshot, StepRunSnapshot
from flowdesk.model.status import RunStatus, StepStatus
from flowdesk.model.trusted import collector_paused, trusted

EVENT = {"run_id": "r1", "seq": 3, "type": EventType.STEP_COMPLETED, "step_id": "s1",
         "ts": 12.5, "payload": {"output": {"a": [1, 2]}, "duration_ms": 0.2}}
ATTEMPT = {"attempt": 1, "run_attempt": 1, "started_at": 1.0, "finished_at": 2.0,
           "error": None}
STEP = {"step_id": "s1", "status": StepStatus.COMPLETED, "output": {"x": 1}, "error": None,
        "attempts": 1, "attempt_log": [AttemptRecord(**ATTEMPT)], "started_at": 1.0,
        "finished_at": 2.0, "state": {}, "branch": "true"}


def _same(a: BaseModel, b: BaseModel) -> None:
    assert type(a) is type(b)
    assert a == b
    assert a.__dict__ == b.__dict__
    assert a.model_fields_set == b.model_fields_set
    assert a.__pydantic_extra__ == b.__pydantic_extra__
    assert a.__pydantic_private__ == b.__pydantic_private__
    assert a.model_dump(mode="json") == b.model_dump(mode="json")
    assert a.model_dump_json() == b.model_dump_json()
    assert repr(a) == repr(b)


@pytest.mark.parametrize(("cls", "values"), [
    (RunEvent, EVENT), (AttemptRecord, ATTEMPT), (StepRunSnapshot, STEP)])
def test_every_field_given_is_the_same_model_as_model_construct(
        cls: type[BaseModel], values: dict[str, Any]) -> None:
    _same(trusted(cls, dict(values)), cls.model_construct(**values))


def test_assigning_a_field_of_one_model_changes_no_other() -> None:
    one, two = trusted(AttemptRecord, dict(ATTEMPT)), trusted(AttemptRecord, dict(ATTEMPT))
    one.error = "boom"
    one.finished_at = 9.0
    assert (two.error, two.finished_at) == (None, 2.0)
    assert two.model_fields_set == set(AttemptRecord.model_fields)
    copied = one.model_copy(update={"attempt": 5})
    assert copied.attempt == 5 and one.attempt == 1
    _same(two, AttemptRecord.model_construct(**ATTEMPT))


def test_a_missing_field_gets_its_default_as_model_construct_gives_it() -> None:
    partial = {"attempt": 2, "started_at": 5.0}
    built = trusted(AttemptRecord, dict(partial))
    _same(built, AttemptRecord.model_construct(**partial))
    assert built.run_attempt is None and built.error is None


def test_an_unknown_key_is_left_to_model_construct() -> None:
    values = {**ATTEMPT, "retry_of": 1}  # written by another version: not a field
    values.pop("error")
    _same(trusted(AttemptRecord, dict(values)), AttemptRecord.model_construct(**values))


def test_a_model_that_keeps_extras_goes_through_model_construct() -> None:
    class Loose(BaseModel):
        model_config = ConfigDict(extra="allow")
        a: int

    built = trusted(Loose, {"a": 1})
    _same(built, Loose.model_construct(a=1))
    assert built.__pydantic_extra__ == {}


def test_a_nested_snapshot_dumps_as_the_store_reads_it_back() -> None:
    run = RunSnapshot.model_construct(
        id="r1", workflow_name="w", status=RunStatus.COMPLETED, created_at=1.0,
        steps={"s1": trusted(StepRunSnapshot, dict(STEP))})
    again = RunSnapshot.model_validate(run.model_dump(mode="json"))
    assert again.steps["s1"].output == {"x": 1}
    assert again.steps["s1"].attempt_log[0].finished_at == 2.0


@pytest.fixture
def collector_state() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("on", [True, False])
def test_the_collector_is_paused_inside_and_as_it_was_after(on: bool,
                                                            collector_state: None) -> None:
    (gc.enable if on else gc.disable)()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled() is on
    with pytest.raises(KeyError), collector_paused():
        raise KeyError("x")  # an error inside leaves it as it was, too
    assert gc.isenabled() is on
