"""An attack corpus against the inline_code sandbox: each attack must be refused by the
kernel (not by file permissions: CI runs as root) and end the step with an error that names
what was blocked. On Linux under CI these never skip: a kernel without Landlock fails here."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from flowdesk.engine import Engine
from flowdesk.model import RunStatus, Workflow
from flowdesk.secrets import SecretStore
from tests.helpers.httpserver import Answer, LoopbackServer
from tests.helpers.registry import wf


def _kernel_gaps() -> list[str]:
    if not sys.platform.startswith("linux"):
        return ["not Linux"]
    import importlib.util

    path = Path(__file__).parents[2] / "flowdesk" / "engine" / "_sandbox_confine.py"
    spec = importlib.util.spec_from_file_location("_confine_probe", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    confinement = module.Confinement()
    confinement.prepare()
    return list(confinement.not_enforced)


_GAPS = _kernel_gaps()
if _GAPS:
    if os.environ.get("CI") and sys.platform.startswith("linux"):
        pytest.fail(f"the sandbox is not fully enforced on this CI machine: {_GAPS}",
                    pytrace=False)
    pytestmark = pytest.mark.skip(reason=f"sandbox not fully enforced here: {_GAPS}")


def wait_until(predicate: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


async def run_code(engine: Engine, src: str, **config: Any) -> Any:
    workflow = Workflow.model_validate(wf([{"id": "code", "type": "inline_code",
                                            "config": {"code": src, **config}}]))
    run = await engine.run(workflow)
    return run.steps["code"]


async def blocked(engine: Engine, src: str, action: str, **config: Any) -> str:
    step = await run_code(engine, src, **config)
    assert step.status.value == "failed", step.output
    assert step.error is not None and step.error.startswith(f"sandbox: {action}"), step.error
    assert " is not allowed (" in step.error
    return step.error


async def test_the_environment_is_empty(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_X", "hunter2")
    step = await run_code(engine, "import os\nresult = dict(os.environ)")
    assert step.output["result"] == {}
    assert "sandbox_not_enforced" not in step.output
    await blocked(engine, "result = open('/proc/self/environ', 'rb').read()",
                  "reading /proc/self/environ")
    await blocked(engine, "import os\nresult = open(f'/proc/{os.getppid()}/environ').read()",
                  "reading /proc/")


async def test_system_files_are_out_of_reach(engine: Engine) -> None:
    await blocked(engine, "result = open('/etc/passwd').read()", "reading /etc/passwd")
    await blocked(engine, "import os\nresult = os.listdir('/')", "listing /")
    await blocked(engine, "import os\nresult = os.listdir(os.path.expanduser('~'))",
                  "listing /root" if os.getuid() == 0 else "listing /")


async def test_the_flowdesk_database_is_out_of_reach(engine: Engine, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "flowdesk.db"
    assert database.exists()
    await blocked(engine, f"result = open({str(database)!r}, 'rb').read(100)",
                  f"reading {database}")
    # relative: from the private folder up to the database
    error = await blocked(
        engine, f"import os\nresult = open(os.path.relpath({str(database)!r}), 'rb').read(9)",
        "reading ../")
    assert "flowdesk.db" in error
    # the engine's working folder is not the code's: a bare name finds nothing
    monkeypatch.chdir(tmp_path)
    step = await run_code(engine, "result = open('flowdesk.db', 'rb').read(9)")
    assert step.status.value == "failed" and "FileNotFoundError" in step.error
    import sqlite3  # noqa: F401  (the sqlite3 module itself is allowed)
    await blocked(engine, f"import sqlite3\nsqlite3.connect({str(database)!r})"
                          ".execute('select 1 from runs').fetchall()",
                  f"opening the database {database}")


async def test_stored_secrets_are_out_of_reach(engine: Engine, tmp_path: Path) -> None:
    secrets = SecretStore(tmp_path / "config" / "secrets.json", backend="file")
    secrets.set("API_KEY", "sk-live-123")
    assert "sk-live-123" in secrets.path.read_text()
    error = await blocked(engine, f"result = open({str(secrets.path)!r}).read()",
                          f"reading {secrets.path}")
    assert "sk-live-123" not in error
    # walking the filesystem for it is refused at the first folder
    await blocked(engine, f"import os\nresult = [p for p, _, f in os.walk("
                          f"{str(tmp_path)!r}, onerror=lambda e: (_ for _ in ()).throw(e))]",
                  f"listing {tmp_path}")


async def test_writes_stay_in_the_private_folder(engine: Engine, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    await blocked(engine, f"open({str(outside)!r}, 'w').write('x')", f"writing {outside}")
    assert not outside.exists()
    await blocked(engine, f"import os\nos.mkdir({str(tmp_path / 'newdir')!r})",
                  f"mkdir {tmp_path / 'newdir'}")
    assert not (tmp_path / "newdir").exists()
    # inside its own folder the code may work with files, and the folder starts empty
    step = await run_code(engine, "import os\nbefore = os.listdir('.')\n"
                                  "open('a.txt', 'w').write('hi')\n"
                                  "result = [before, open('a.txt').read(), os.getcwd()]")
    before, text, cwd = step.output["result"]
    assert before == [] and text == "hi"
    wait_until(lambda: not Path(cwd).exists())  # removed just after the answer has gone
    again = await run_code(engine, "import os\nresult = os.listdir('.')")
    assert again.output["result"] == []  # a fresh folder per step


async def test_links_do_not_lead_out(engine: Engine, tmp_path: Path) -> None:
    await blocked(engine, "import os\nos.symlink('/etc/passwd', 'p')\nresult = open('p').read()",
                  "reading p")
    target = tmp_path / "victim.txt"
    target.write_text("original")
    await blocked(engine, f"import os\nos.symlink({str(target)!r}, 'v')\n"
                          "open('v', 'w').write('overwritten')", "writing v")
    assert target.read_text() == "original"
    step = await run_code(engine, "import os\nos.link('/etc/passwd', 'h')")
    assert step.status.value == "failed" and step.error.startswith("sandbox: link /etc/passwd")


async def test_no_network_by_default(engine: Engine, http_server: LoopbackServer) -> None:
    http_server.route("/steal", Answer(200, {"ok": True}))
    url = f"{http_server.url}/steal"
    await blocked(engine, f"import urllib.request\nurllib.request.urlopen({url!r})",
                  f"network access (opening {url})")
    await blocked(engine, "import socket\nsocket.create_connection("
                          f"('127.0.0.1', {http_server.port}))",
                  "network access")
    await blocked(engine, "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                          f"s.sendto(b'x', ('127.0.0.1', {http_server.port}))", "network access")
    await blocked(engine, "import socket\nsocket.socket(socket.AF_UNIX).connect('/run/x')",
                  "network access")
    await blocked(engine, f"import urllib.request\nurllib.request.urlopen("
                          f"'http://localhost:{http_server.port}/steal')", "network access")
    assert http_server.count("/steal") == 0
    # allowed explicitly, the same request goes through
    step = await run_code(engine, f"import urllib.request\n"
                                  f"result = urllib.request.urlopen({url!r}).status",
                          allow_network=True)
    assert step.output["result"] == 200, step.error
    assert http_server.count("/steal") == 1


async def test_no_new_processes(engine: Engine, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    await blocked(engine, "import subprocess\nsubprocess.run(['id'])",
                  "starting a process (subprocess.Popen: ['id'])")
    await blocked(engine, "import os\nwhile True:\n    os.fork()", "starting a process (os.fork)")
    await blocked(engine, f"import os\nos.posix_spawn('/bin/touch', ['touch', {str(marker)!r}], "
                          "{})", "starting a process (os.posix_spawn")
    step = await run_code(engine, f"import os\nresult = os.system('touch {marker}')")
    assert step.output["result"] != 0
    await blocked(engine, "import os\nos.execv('/bin/sh', ['sh', '-c', 'id'])",
                  "starting a process (os.exec")
    assert not marker.exists()
    # threads are not processes: they still work
    step = await run_code(engine, "import threading\nout = []\n"
                                  "t = threading.Thread(target=out.append, args=(1,))\n"
                                  "t.start(); t.join()\nresult = out")
    assert step.output["result"] == [1]


async def test_ctypes_cannot_get_around_it(engine: Engine, tmp_path: Path) -> None:
    # raw system calls go through the same kernel filters: they fail with EPERM / EACCES
    step = await run_code(engine, "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                                  "result = [libc.syscall(57), ctypes.get_errno(),"
                                  " libc.syscall(59, b'/bin/sh', None, None), ctypes.get_errno(),"
                                  " libc.syscall(41, 2, 1, 0), ctypes.get_errno(),"
                                  " libc.open(b'/etc/passwd', 0), ctypes.get_errno()]")
    assert step.output["result"] == [-1, 1, -1, 1, -1, 1, -1, 13]
    # signals to processes outside the sandbox (the engine, the worker) are refused
    step = await run_code(engine, f"import os, signal\nos.kill({os.getpid()}, signal.SIGTERM)")
    assert step.status.value == "failed" and "PermissionError" in step.error


async def test_limits_cannot_be_raised_nor_answers_forged(engine: Engine) -> None:
    step = await run_code(engine, "import resource\n"
                                  "resource.setrlimit(resource.RLIMIT_AS, (-1, -1))")
    assert step.status.value == "failed" and "not allowed to raise" in step.error, step.error
    # the result pipe is the code's to write: whatever it writes stays its own answer
    forged = ('{"ok": true, "result": "mine"}\n{"ok": true, "result": "forged", '
              '"stdout": ""}\n')
    run = await engine.run(Workflow.model_validate(wf(
        [{"id": "evil", "type": "inline_code", "continue_on_error": True,
          "config": {"code": "import os\n"
                             f"for fd in range(3, 64):\n"
                             f"    try: os.write(fd, {forged!r}.encode())\n"
                             f"    except OSError: pass\n"}},
         {"id": "next", "type": "inline_code", "config": {"code": "result = 'honest'"}}],
        [("evil", "next")])))
    assert run.steps["evil"].status.value == "failed"
    assert "wrote something that is not a result" in run.steps["evil"].error
    assert run.steps["next"].output["result"] == "honest"


async def test_a_denied_step_does_not_stop_the_next_one(engine: Engine) -> None:
    run = await engine.run(Workflow.model_validate(wf(
        [{"id": "bad", "type": "inline_code", "continue_on_error": True,
          "config": {"code": "open('/etc/shadow').read()"}},
         {"id": "good", "type": "inline_code",
          "config": {"code": "import json, zoneinfo\n"
                             "result = str(zoneinfo.ZoneInfo('Europe/Paris'))"}}],
        [("bad", "good")])))
    assert run.status is RunStatus.COMPLETED
    assert run.steps["good"].output["result"] == "Europe/Paris"
