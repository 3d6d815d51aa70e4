"""Secrets and credentials, kept apart from workflows.

Values live in the OS keyring when one works (the ``keyring`` library), otherwise in
``secrets.json`` in the user's config folder, readable only by the user (mode 0600).
``FLOWDESK_SECRETS=file`` forces the file (and ``FLOWDESK_SECRETS_FILE`` its path). A value is
a string or a JSON object (a credential: an SMTP login, an API key and base URL...). The
names are listed in the file in both cases; keyring holds the values.

Workflows refer to secrets by name (``{{ secrets.NAME }}``, ``credential: NAME``); values are
resolved only while a step runs, and ``SecretResolver.redact`` masks every value that was
resolved wherever a step's input, output, error or events are recorded.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["SecretResolver", "SecretStore", "SecretsError", "default_secrets_file"]

_SERVICE = "flowdesk"
MASK = "••••••"


class SecretsError(Exception):
    pass


def default_secrets_file(home: Path | None = None) -> Path:
    """``$FLOWDESK_SECRETS_FILE``, else ``secrets.json`` in ``home`` (or ``$FLOWDESK_HOME``),
    else in the user's config folder."""
    env = os.environ.get("FLOWDESK_SECRETS_FILE")
    if env:
        return Path(env).expanduser()
    folder = home if home is not None else os.environ.get("FLOWDESK_HOME")
    if folder:
        return Path(folder).expanduser() / "secrets.json"
    from platformdirs import user_config_path

    return user_config_path("flowdesk", appauthor=False) / "secrets.json"


class SecretStore:
    def __init__(self, path: Path | None = None, backend: str | None = None) -> None:
        self.path = path or default_secrets_file()
        self._wanted = backend or os.environ.get("FLOWDESK_SECRETS", "auto")
        self._probed = False
        self._keyring_module: Any = None

    @property
    def _keyring(self) -> Any:
        """The keyring module when a real OS keyring works; probed on first use only (it
        is slow to import, and most runs use no secret)."""
        if not self._probed:
            self._probed = True
            if self._wanted != "file":
                self._keyring_module = _working_keyring()
        return self._keyring_module

    @property
    def backend(self) -> str:
        return "keyring" if self._keyring is not None else "file"

    # -- the file: names always, values when there is no keyring ----------------------------
    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SecretsError(f"cannot read the secrets file {self.path}: {exc}") from None
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
        os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR)
        os.replace(tmp, self.path)

    def names(self) -> list[str]:
        return sorted(self._read())

    def set(self, name: str, value: Any) -> None:
        if not name or not name.replace("_", "").replace("-", "").replace(".", "").isalnum():
            raise SecretsError(f"invalid secret name {name!r}: use letters, digits, _ - .")
        data = self._read()
        if self._keyring is not None:
            self._keyring.set_password(_SERVICE, name, json.dumps(value))
            data[name] = {"stored_in": "keyring"}
        else:
            data[name] = {"value": value}
        self._write(data)

    def get(self, name: str) -> Any:
        data = self._read()
        if name not in data:
            raise SecretsError(f"no secret named '{name}' (set it with `flowdesk secrets set "
                               f"{name}`)")
        entry = data[name]
        if isinstance(entry, dict) and "value" in entry:
            return entry["value"]
        if self._keyring is None:
            raise SecretsError(f"secret '{name}' is in the OS keyring, which is not available")
        raw = self._keyring.get_password(_SERVICE, name)
        if raw is None:
            raise SecretsError(f"secret '{name}' is missing from the OS keyring")
        return json.loads(raw)

    def delete(self, name: str) -> None:
        data = self._read()
        if name not in data:
            raise SecretsError(f"no secret named '{name}'")
        if self._keyring is not None and data[name].get("stored_in") == "keyring":
            try:
                self._keyring.delete_password(_SERVICE, name)
            except Exception:
                pass
        del data[name]
        self._write(data)


def _working_keyring() -> Any:
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or "null" in type(backend).__name__.lower():
            return None
        if getattr(backend, "priority", 1) < 1:
            return None
        return keyring
    except Exception:
        return None


class SecretResolver(Mapping[str, Any]):
    """``secrets`` in the template scope: looks values up on use and remembers them so they
    can be masked in everything that is recorded."""

    def __init__(self, store: SecretStore | None = None,
                 values: Mapping[str, Any] | None = None) -> None:
        self.store = store
        self.fixed = dict(values or {})
        self.revealed: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        if name in self.fixed:
            value = self.fixed[name]
        elif self.store is not None:
            try:
                value = self.store.get(name)
            except SecretsError:
                raise KeyError(name) from None
        else:
            raise KeyError(name)
        self._remember(value)
        return value

    def _remember(self, value: Any) -> None:
        if isinstance(value, str):
            if len(value) >= 4:
                self.revealed.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                self._remember(v)
        elif isinstance(value, list):
            for v in value:
                self._remember(v)

    def __iter__(self) -> Iterator[str]:
        names = set(self.fixed)
        if self.store is not None:
            names |= set(self.store.names())
        return iter(sorted(names))

    def __len__(self) -> int:
        return len(list(iter(self)))

    def redact(self, value: Any) -> Any:
        if not self.revealed:
            return value
        if isinstance(value, str):
            for secret in self.revealed:
                if secret in value:
                    value = value.replace(secret, MASK)
            return value
        if isinstance(value, dict):
            return {k: self.redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact(v) for v in value]
        return value
