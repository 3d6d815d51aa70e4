"""Long-lived services shared by every step of every run in one engine.

Everything here is created lazily: a workflow without an HTTP step never imports httpx, one
without code never starts a sandbox worker. The secrets are whatever the composition root
passes (``flowdesk.secrets.SecretResolver``); the engine knows them only as ``Secrets``, and
without one it uses ``NoSecrets`` (no secret is configured, nothing to mask).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from flowdesk.engine.functions import FunctionRegistry

if TYPE_CHECKING:
    import httpx

    from flowdesk.engine.persistence import RunStore
    from flowdesk.engine.registry import StepRegistry
    from flowdesk.engine.sandbox import SandboxPool

__all__ = ["ChildRunner", "NoSecrets", "Secrets", "ServiceSettings", "Services"]

# (workflow name, input, parent run id, parent step id, idempotency key) -> child output
ChildRunner = Callable[[str, Any, str, str, str], Awaitable[Any]]


class Secrets(Protocol):
    """``secrets`` in the template scope: a mapping of names to values that remembers which
    values it revealed (``revealed``) so that ``redact`` can mask them in what is recorded."""

    revealed: set[str]

    def __getitem__(self, name: str) -> Any: ...

    def __iter__(self) -> Iterator[str]: ...

    def __len__(self) -> int: ...

    def redact(self, value: Any) -> Any: ...


class NoSecrets(Mapping[str, Any]):
    """No secret is configured: every name is missing and nothing needs masking."""

    def __init__(self) -> None:
        self.revealed: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def redact(self, value: Any) -> Any:
        return value


@dataclass
class ServiceSettings:
    http_max_response_bytes: int = 10 * 1024 * 1024
    sandbox_workers: int = 2
    sandbox_memory_mb: int = 512


class Services:
    def __init__(
        self,
        functions: FunctionRegistry | None = None,
        settings: ServiceSettings | None = None,
        http_client: httpx.AsyncClient | None = None,
        secrets: Secrets | None = None,
    ) -> None:
        self.functions = functions or FunctionRegistry()
        self.settings = settings or ServiceSettings()
        self._http = http_client
        self._owns_http = http_client is None
        self._sandbox: SandboxPool | None = None
        self.run_child: ChildRunner | None = None
        self.registry: StepRegistry | None = None  # set by the engine that owns these services
        self.store: RunStore | None = None  # likewise
        self.on_close: list[Callable[[], None]] = []  # e.g. dispose pooled connections
        self.secrets: Secrets = secrets if secrets is not None else NoSecrets()

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(30.0),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                headers={"User-Agent": "flowdesk"},
            )
        return self._http

    @property
    def sandbox(self) -> SandboxPool:
        if self._sandbox is None:
            from flowdesk.engine.sandbox import SandboxPool

            self._sandbox = SandboxPool(size=self.settings.sandbox_workers)
        return self._sandbox

    async def aclose(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None
        if self._sandbox is not None:
            await self._sandbox.aclose()
            self._sandbox = None
        for callback in self.on_close:
            callback()
        self.on_close.clear()
