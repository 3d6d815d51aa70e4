"""The webhook listener against hostile input: bad bodies get a clear 400 and start no run,
and a fuzzed stream of requests always gets an answer while /health keeps answering."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdesk.engine import Engine
from flowdesk.model import Workflow
from flowdesk.steps import default_registry
from flowdesk.store import open_store
from flowdesk.trigger_server import TriggerServer


class Served:
    """A real TriggerServer on 127.0.0.1 on its own loop in a thread; the test speaks raw
    HTTP to it with blocking sockets."""

    def __init__(self, db: Path, busy_timeout: float = 10.0) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.store = open_store(db, busy_timeout=busy_timeout)
        self.store.save_workflow(Workflow.model_validate({"name": "in", "nodes": [
            {"id": "hook", "type": "webhook", "data": {"config": {"path": "in"}}}]}))
        self.engine = Engine(self.store, default_registry())
        self.service = TriggerServer(self.engine, port=0, tick_seconds=3600)
        self._call(self.service.start())
        self.port = self.service.port

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self._call(self.service.stop())
        self._call(self.engine.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        self.store.close()

    def raw(self, data: bytes) -> bytes:
        """Send bytes, half-close, read the whole answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            try:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server may answer and close before it has read everything
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def post(self, body: bytes, content_type: str = "application/json") -> tuple[int, Any]:
        answer = self.raw(b"POST /hooks/in HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          + content_type.encode() + b"\r\nContent-Length: "
                          + str(len(body)).encode() + b"\r\n\r\n" + body)
        return status_of(answer), json.loads(answer.split(b"\r\n\r\n", 1)[1])


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:100]
    return int(answer[9:12])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(tmp_path / "f.db")
    yield server
    server.close()


def test_bodies_that_are_not_utf8_or_not_the_json_they_claim_are_refused(
        served: Served) -> None:
    status, answer = served.post(b'{"total": "\xff\xfe"}')
    assert status == 400
    assert answer["error"] == ("the body is not valid UTF-8 (byte 11): send UTF-8 text or JSON")
    status, answer = served.post(b"\xff", content_type="text/plain")
    assert status == 400 and "not valid UTF-8" in answer["error"]
    status, answer = served.post(b'{"total": 3', content_type="application/json; charset=utf-8")
    assert status == 400
    assert answer["error"].startswith("the body is sent as application/json but is not valid "
                                      "JSON: Expecting")
    status, answer = served.post(b"[" * 100_000)
    assert status == 400 and "nested more than 200 levels deep" in answer["error"]
    assert served.service.started_runs == []
    # what is accepted, as before: JSON, and plain text that is not JSON
    assert served.post(b'{"total": 3}')[0] == 202
    assert served.post("ünïcode text".encode(), content_type="text/plain")[0] == 202
    assert len(served.service.started_runs) == 2


# weighted towards well-formed webhook calls, so the body parser is reached often
_METHODS = st.one_of(st.just(b"POST"), st.sampled_from([b"GET", b"PUT", b"DELETE", b"G\xffT",
                                                        b"", b"POST POST"]))
_TARGETS = st.one_of(st.just(b"/hooks/in"),
                     st.sampled_from([b"/health", b"/hooks/", b"/", b"*", b"/hooks/%00",
                                      b"/hooks/in?secret=%ff&a=1&a=2"]),
                     st.binary(max_size=40))
_HEADER = st.tuples(st.binary(min_size=0, max_size=20), st.binary(max_size=60))
_CONTENT_TYPES = st.sampled_from([b"application/json", b"text/plain", b"application/x+json",
                                  b"", b"\xff"])
_BODIES = st.one_of(st.binary(max_size=300), st.text(max_size=100).map(str.encode),
                    st.recursive(st.none() | st.integers() | st.text(max_size=10),
                                 lambda inner: st.lists(inner, max_size=3)
                                 | st.dictionaries(st.text(max_size=5), inner, max_size=3))
                    .map(lambda v: json.dumps(v).encode()))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=_METHODS, target=_TARGETS, headers=st.lists(_HEADER, max_size=4),
       content_type=_CONTENT_TYPES, body=_BODIES,
       length_delta=st.sampled_from([0, 0, 0, -1, 5]), garbage=st.booleans())
def test_fuzzed_requests_always_get_an_answer_and_the_server_stays_up(
        served: Served, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]],
        content_type: bytes, body: bytes, length_delta: int, garbage: bool) -> None:
    if garbage:
        request = body + b"\r\n\r\n"
    else:
        head = [method + b" " + target + b" HTTP/1.1", b"Host: fuzz",
                b"Content-Type: " + content_type,
                b"Content-Length: " + str(max(0, len(body) + length_delta)).encode()]
        head += [name + b": " + value for name, value in headers]
        request = b"\r\n".join(head) + b"\r\n\r\n" + body
    answer = served.raw(request)
    if answer:  # a request cut short by the client may be closed without an answer
        assert status_of(answer) in {200, 202, 400, 401, 404, 405, 413, 422}, answer[:200]
    else:
        assert length_delta > 0 and not garbage
    health = served.raw(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(health) == 200


def _read_answer(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One HTTP answer from a kept-alive socket: status, headers, body."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection before answering"
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk
        rest += chunk
    del buffer[:]
    buffer += rest[length:]
    return int(lines[0].split()[1]), headers, rest[:length]


def _post(path: str, body: bytes, extra: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


def test_connections_are_kept_alive_until_the_client_asks_to_close(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        buffer = bytearray()
        run_ids = []
        for i in range(3):  # three requests, one connection
            sock.sendall(_post("/hooks/in", json.dumps({"n": i}).encode()))
            status, headers, body = _read_answer(sock, buffer)
            assert status == 202 and headers.get("connection") != "close"
            run_ids.append(json.loads(body)["run_id"])
        assert len(set(run_ids)) == 3
        # a pipelined pair: both answered, in order
        sock.sendall(_post("/hooks/in", b"{}") + _post("/hooks/nope", b"{}"))
        assert _read_answer(sock, buffer)[0] == 202
        assert _read_answer(sock, buffer)[0] == 404
        sock.sendall(_post("/hooks/in", b"{}", "Connection: close\r\n"))
        status, headers, _ = _read_answer(sock, buffer)
        assert status == 202 and headers["connection"] == "close"
        assert sock.recv(1) == b""  # and the server closed it


def test_a_workflow_saved_elsewhere_is_served_at_once(served: Served, tmp_path: Path) -> None:
    other = open_store(tmp_path / "f.db")  # another process's view of the same database
    try:
        other.save_workflow(Workflow.model_validate({"name": "in", "nodes": [
            {"id": "hook", "type": "webhook", "data": {"config": {"path": "moved"}}}]}),
            new_version=True)
        assert served.post(b"{}")[0] == 404  # the old path is gone at once
        answer = served.raw(_post("/hooks/moved", b"{}", "Connection: close\r\n"))
        assert status_of(answer) == 202
        run_id = json.loads(answer.split(b"\r\n\r\n", 1)[1])["run_id"]
        run = served.store.get_run(run_id)
        assert run.workflow_version == 2  # the run belongs to the version that served it
        other.delete_workflow("in")
        answer = served.raw(_post("/hooks/moved", b"{}", "Connection: close\r\n"))
        assert status_of(answer) == 404
    finally:
        other.close()


def test_a_locked_database_gets_503_and_keeps_nothing(tmp_path: Path) -> None:
    import sqlite3

    server = Served(tmp_path / "f.db", busy_timeout=0.3)
    try:
        before = len(server.store.list_runs())
        locker = sqlite3.connect(tmp_path / "f.db", isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        try:
            answer = server.raw(_post("/hooks/in", b"{}", "Connection: close\r\n"))
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert status_of(answer) == 503
        assert b"retry-after: 1" in answer.lower()
        assert b"nothing was kept" in answer
        assert len(server.store.list_runs()) == before  # nothing half-written
        assert server.post(b"{}")[0] == 202  # and once the lock is gone it works again
    finally:
        server.close()


def test_a_half_edited_draft_is_never_what_a_webhook_runs(served: Served,
                                                          tmp_path: Path) -> None:
    desk = open_store(tmp_path / "f.db")  # the editor's autosave, in another process
    try:
        desk.save_workflow(Workflow.model_validate({"name": "in", "nodes": [
            {"id": "hook", "type": "webhook", "data": {"config": {"path": "draft-path"}}}]}))
        assert served.post(b"{}")[0] == 202  # the published version still listens on /in
        answer = served.raw(_post("/hooks/draft-path", b"{}", "Connection: close\r\n"))
        assert status_of(answer) == 404
    finally:
        desk.close()


def test_a_key_recorded_by_another_worker_meanwhile_gets_that_run_not_a_503(
        served: Served, tmp_path: Path) -> None:
    """Two workers can look a key up at the same moment and both find nothing; the second
    to record it is refused by the database. Its request then gets the first worker's run
    (202, created false), not a 503. The other worker writes through its own connection
    in the window between this worker's look-up and its insert."""
    other = open_store(tmp_path / "f.db")  # the other worker's connection
    intake = served.store.intake
    real_accept = intake.accept
    recorded: list[str] = []

    def accept_after_the_other_worker(*args: Any, **kwargs: Any) -> None:
        if not recorded:
            workflow, version = other.get_workflow("in")
            run, created = other.create_run(workflow, {}, workflow_version=version,
                                            idempotency_key="K-race")
            assert created
            recorded.append(run.id)
        real_accept(*args, **kwargs)

    intake.accept = accept_after_the_other_worker  # type: ignore[method-assign]
    try:
        answer = served.raw(_post("/hooks/in", b"{}",
                                  "Idempotency-Key: K-race\r\nConnection: close\r\n"))
    finally:
        intake.accept = real_accept  # type: ignore[method-assign]
        other.close()
    assert status_of(answer) == 202, answer
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["run_id"] == recorded[0] and body["created"] is False
    keyed = [r for r in served.store.list_runs() if r.id == recorded[0]]
    assert len(keyed) == 1 and len(served.store.list_runs()) == 1  # one run, the other's
