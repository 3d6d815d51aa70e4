"""A real HTTP server on 127.0.0.1 for tests, with scripted answers and a hit log."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    gate: threading.Event | None = None  # the answer waits until the test sets it


@dataclass
class Hit:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    raw_query: str = ""  # as sent, percent-encoding and order kept


class LoopbackServer:
    def __init__(self) -> None:
        self.routes: dict[str, deque[Answer] | Callable[[Hit], Answer]] = {}
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                hit = Hit(self.command, parts.path, parse_qs(parts.query),
                          {k.lower(): v for k, v in self.headers.items()}, body, parts.query)
                with server.lock:
                    server.hits.append(hit)
                    route = server.routes.get(parts.path)
                    if route is None:
                        answer = Answer(404, {"error": "no route"})
                    elif callable(route):
                        answer = route(hit)
                    else:
                        answer = route[0] if len(route) == 1 else route.popleft()
                if answer.delay:
                    threading.Event().wait(answer.delay)
                if answer.gate is not None:
                    answer.gate.wait(30)
                payload = answer.body
                if isinstance(payload, bytes):
                    data, ctype = payload, "application/octet-stream"
                elif isinstance(payload, str):
                    data, ctype = payload.encode(), "text/plain; charset=utf-8"
                else:
                    data, ctype = json.dumps(payload).encode(), "application/json"
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.headers.get("Content-Type", ctype))
                    for k, v in answer.headers.items():
                        if k != "Content-Type":
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, path: str, *answers: Answer | Callable[[Hit], Answer]) -> None:
        """Answers are given in turn; the last one repeats."""
        if len(answers) == 1 and callable(answers[0]) and not isinstance(answers[0], Answer):
            self.routes[path] = answers[0]
        else:
            self.routes[path] = deque(a for a in answers if isinstance(a, Answer))

    def wait_for_hit(self, path: str, count: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.count(path) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no request to {path} within {timeout} s")
            time.sleep(0.01)

    def headers_of(self, path: str, name: str) -> list[str]:
        with self.lock:
            return [h.headers.get(name.lower(), "") for h in self.hits if h.path == path]

    def count(self, path: str) -> int:
        with self.lock:
            return Counter(h.path for h in self.hits)[path]

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
