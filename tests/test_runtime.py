"""One composition root: the command line, the desktop app and ``flowdesk serve`` get their
store, steps, secrets, functions and engine from ``flowdesk.runtime``, so a plugin function
in the plugin folder and a secret in the secret store are seen the same way by all three."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flowdesk.model import RunStatus
from flowdesk.runtime import build_runtime
from flowdesk.store import open_store
from tests.helpers.processes import free_port

PACKAGE = Path(__file__).resolve().parents[1] / "flowdesk"

PLUGIN = '''
from flowdesk.engine.functions import function

@function("probe.echo")
def echo(v, token):
    return {"v": v, "token_length": len(token)}
'''

ECHO = {"name": "echo", "nodes": [
    {"id": "hook", "type": "webhook", "data": {"config": {"path": "echo"}}},
    {"id": "call", "type": "function_call", "data": {"config": {
        "function": "probe.echo",
        "args": {"v": "{{ input.body.v }}", "token": "{{ secrets.PROBE_TOKEN }}"}}}}],
    "edges": [{"id": "e", "source": "hook", "target": "call"}]}

# what only the composition root may construct (the engine's own parts build their insides)
PARTS = {"Engine", "Services", "SecretResolver", "default_functions", "default_registry"}
BUILDERS = {"runtime.py"}
HEADLESS = ("engine", "steps", "store", "model")


def calls_in(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.id if isinstance(func, ast.Name) else
                      func.attr if isinstance(func, ast.Attribute) else "")
    return names


def test_only_the_runtime_builds_the_engine_and_its_parts() -> None:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in BUILDERS or relative.split("/")[0] in HEADLESS:
            continue
        for name in sorted(calls_in(path) & PARTS):
            bad.append(f"flowdesk/{relative} calls {name}()")
    assert bad == []
    # and the entry points do use it: the CLI's commands, the app and serve
    assert "build_runtime" in calls_in(PACKAGE / "cli" / "common.py")
    assert "build_runtime" in calls_in(PACKAGE / "app.py")
    assert "open_runtime" in calls_in(PACKAGE / "cli" / "serve.py")


# entry module -> the only modules that may import it (imports under TYPE_CHECKING count)
IMPORTED_BY = {
    "flowdesk.runtime": ("cli/", "app.py"),
    "flowdesk.app": ("cli/gui.py",),
    "flowdesk.trigger_server": ("cli/serve.py", "app.py"),
    "flowdesk.cli": ("cli/", "__main__.py"),
}


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_entry_points_sit_on_top_and_nothing_below_imports_them() -> None:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for name in imported_modules(path):
            for entry, allowed in IMPORTED_BY.items():
                if (name == entry or name.startswith(entry + ".")) and \
                        not relative.startswith(allowed):
                    bad.append(f"flowdesk/{relative} imports {name}")
    assert bad == []


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A data folder with a plugin, a broken plugin and a secret in the secrets file; the
    environment every process of the test runs with."""
    plugins = tmp_path / "home" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "probe.py").write_text(PLUGIN)
    (plugins / "broken.py").write_text("raise RuntimeError('this plugin is broken')\n")
    env = {**os.environ, "FLOWDESK_HOME": str(tmp_path / "home"),
           "FLOWDESK_DB": str(tmp_path / "f.db"), "FLOWDESK_SECRETS": "file",
           "QT_QPA_PLATFORM": "offscreen"}
    env.pop("FLOWDESK_SECRETS_FILE", None)
    result = subprocess.run([sys.executable, "-m", "flowdesk", "secrets", "set", "PROBE_TOKEN"],
                            input="s3cr3t-value", env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return env


def test_the_cli_runs_the_plugin_function_with_the_secret(home: dict[str, str],
                                                          tmp_path: Path) -> None:
    workflow = tmp_path / "echo.json"
    workflow.write_text(json.dumps(ECHO))
    result = subprocess.run([sys.executable, "-m", "flowdesk", "run", str(workflow),
                             "--input", '{"body": {"v": 7}}', "--json"],
                            env=home, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["steps"]["call"]["output"] == {"v": 7, "token_length": 12}
    assert "flowdesk: warning: plugin" in result.stderr
    assert "broken.py: RuntimeError: this plugin is broken" in result.stderr


def test_the_app_runs_the_plugin_function_and_tells_the_broken_plugin(
        home: dict[str, str], tmp_path: Path) -> None:
    script = (
        "import asyncio, json, sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from flowdesk.app import build_app\n"
        "from flowdesk.model.workflow import Workflow\n"
        "w = build_app(None, housekeeping=False)\n"
        "engine = w.controller.engine\n"
        "assert w.library.registry is engine.registry and w.library.store is engine.store\n"
        "run, _ = engine.start(Workflow.load(sys.argv[1]), {'body': {'v': 5}})\n"
        "async def go():\n"
        "    try:\n"
        "        return await engine.execute(run.id)\n"
        "    finally:\n"
        "        await w.controller.aclose()\n"
        "done = asyncio.run(go())\n"
        "print(json.dumps({'output': done.steps['call'].output, 'notice': w.last_notice}))\n"
        "w.library.store.close()\n"
    )
    workflow = tmp_path / "echo.json"
    workflow.write_text(json.dumps(ECHO))
    result = subprocess.run([sys.executable, "-c", script, str(workflow)], env=home,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["output"] == {"v": 5, "token_length": 12}
    assert seen["notice"].startswith("Not loaded: plugin ")
    assert "this plugin is broken" in seen["notice"]


def wait_for(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not in {timeout:g} s"
        time.sleep(0.05)


def test_serve_runs_the_plugin_function_with_the_secret(home: dict[str, str],
                                                        tmp_path: Path) -> None:
    workflow = tmp_path / "echo.json"
    workflow.write_text(json.dumps(ECHO))
    imported = subprocess.run([sys.executable, "-m", "flowdesk", "import", str(workflow)],
                              env=home, capture_output=True, text=True, timeout=60)
    assert imported.returncode == 0, imported.stderr
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "flowdesk", "serve", "--port", str(port)],
                            env=home, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{base}/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, "serve answering /health")
        answer = httpx.post(f"{base}/hooks/echo", json={"v": 9})
        assert answer.status_code == 202, answer.text
        store = open_store(tmp_path / "f.db")
        run_id = answer.json()["run_id"]
        wait_for(lambda: store.get_run(run_id).status.is_terminal, "the webhook's run to end")
        run = store.get_run(run_id)
        store.close()
        assert run.status is RunStatus.COMPLETED, run.error
        assert run.steps["call"].output == {"v": 9, "token_length": 12}
    finally:
        proc.terminate()
        proc.wait(15)
        stderr = proc.stderr.read() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    assert "broken.py: RuntimeError: this plugin is broken" in stderr


def test_build_runtime_takes_plugins_and_secrets_from_the_home_it_is_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWDESK_SECRETS_FILE", raising=False)
    monkeypatch.setenv("FLOWDESK_SECRETS", "file")
    given = tmp_path / "given"
    (given / "plugins").mkdir(parents=True)
    (given / "plugins" / "bad.py").write_text("import a_module_that_is_not_there\n")
    (given / "secrets.json").write_text(json.dumps({"K": {"value": "v4lue"}}))
    runtime = build_runtime(tmp_path / "r.db", home=given)
    try:
        assert runtime.engine.registry is runtime.registry
        assert runtime.engine.services is runtime.services
        assert runtime.services.functions is runtime.functions
        assert runtime.services.secrets is runtime.secrets
        assert runtime.secrets["K"] == "v4lue"
        assert runtime.secret_store.path == given / "secrets.json"
        assert [e for e in runtime.load_errors if "bad.py" in e] == [
            f"plugin {given / 'plugins' / 'bad.py'}: ModuleNotFoundError: No module named "
            "'a_module_that_is_not_there'"]
        assert "transform" in {c.type for c in runtime.registry.catalog()}
    finally:
        import asyncio

        asyncio.run(runtime.aclose())
    assert (tmp_path / "r.db").exists()
