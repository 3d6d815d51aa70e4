"""The composition root: the one place that builds what runs workflows.

``build_runtime(db)`` opens the store and builds, in this order, the step registry with the
built-in steps, the secrets (the user's ``SecretStore`` behind a ``SecretResolver``), the
functions (the ``flowdesk.functions`` entry points and the plugin folder, with every load
error kept in ``Runtime.load_errors``), the shared ``Services`` and the ``Engine``, which is
handed all of them: it imports none. The command line, the desktop app and ``flowdesk serve``
all get their parts here, so a plugin, a secret or a step type is seen the same way by each.

``Runtime.aclose()`` releases everything (HTTP clients, sandbox workers, pooled connections,
then the store); runs still going stay resumable. Nothing heavy is imported until
``build_runtime`` is called, so importing this module costs the command line nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowdesk.engine import Engine, Services, StepRegistry
    from flowdesk.engine.functions import FunctionRegistry
    from flowdesk.secrets import SecretResolver, SecretStore
    from flowdesk.store import Store

__all__ = ["Runtime", "build_runtime", "step_registry"]


@dataclass(eq=False)
class Runtime:
    """Everything one process needs to run workflows, built once by ``build_runtime``."""

    store: Store
    registry: StepRegistry
    secret_store: SecretStore
    secrets: SecretResolver
    functions: FunctionRegistry
    services: Services
    engine: Engine

    @property
    def load_errors(self) -> list[str]:
        """Entry points and plugin files that could not be loaded, one message each."""
        return list(self.functions.load_errors)

    async def aclose(self) -> None:
        """Release the engine's services, then the store. Call it once, at the end."""
        try:
            await self.engine.aclose()
        finally:
            self.store.close()


def step_registry() -> StepRegistry:
    """The step types flowdesk knows (the built-in steps), for commands that validate or
    list steps without running anything (no database is opened)."""
    from flowdesk.steps import default_registry

    return default_registry()


def build_runtime(db: str | Path | None = None, *, home: Path | None = None,
                  store: Store | None = None) -> Runtime:
    """Build the runtime on the database ``db`` (a path or SQLAlchemy URL; ``None``:
    ``$FLOWDESK_DB`` or ``flowdesk.db`` in the data folder), or on an already open ``store``.
    ``home`` is the data folder to take the plugins and the secrets file from (default:
    ``$FLOWDESK_HOME`` or the user's data folder)."""
    from flowdesk.engine import Engine, Services
    from flowdesk.engine.functions import default_functions
    from flowdesk.paths import default_db_path, plugin_dir
    from flowdesk.secrets import SecretResolver, SecretStore, default_secrets_file
    from flowdesk.store import open_store

    if store is None:
        store = open_store(db if db is not None else default_db_path(home))
    registry = step_registry()
    secret_store = SecretStore(default_secrets_file(home))
    secrets = SecretResolver(secret_store)
    functions = default_functions(plugin_dir(home))
    services = Services(functions=functions)
    services.secrets = secrets
    engine = Engine(store, registry, services=services)
    return Runtime(store=store, registry=registry, secret_store=secret_store,
                   secrets=secrets, functions=functions, services=services, engine=engine)
