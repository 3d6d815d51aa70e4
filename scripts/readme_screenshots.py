"""Take the README's screenshots from the real window: `flowdesk` under Xvfb + openbox, driven
with xdotool (the journey harness in tests/e2e), one fresh home folder per picture.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/readme_screenshots.py
"""
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from flowdesk.resources import examples_dir  # noqa: E402
from tests.e2e.harness import App, Desktop, wait_until  # noqa: E402

d = Desktop((1600, 1000)).start()
out = ROOT / "docs" / "screenshots"

def shot(app, name):
    path = out / name
    app.x(["import", "-window", app.window, str(path)])
    return path

def runs(app):
    return json.loads(app.cli("runs", "--json").stdout)

def session(name, file, title, theme=None):
    home = Path(tempfile.mkdtemp())
    if theme:
        cfg = home / ".local/share/flowdesk"; cfg.mkdir(parents=True)
        (cfg / "settings.ini").write_text(f"[General]\ntheme={theme}\n")
    app = App(d, home, name)
    app.start(str(examples_dir() / file))
    app.wait_window(title); app.window = app.wait_window(); app.activate()
    return app

# 1. a finished run
app = session("run", "order-batch.json", "Order batch")
canvas = app.layout().canvas()
app.click(*canvas.at(0.5, 0.95)); app.key("ctrl+Return")
app.activate(app.wait_window("Run workflow")); app.key("Return")
wait_until("done", lambda: [r for r in runs(app) if r["status"] == "completed"])
time.sleep(1.0)
app.click(*canvas.at(0.5, 0.95))
shot(app, "run.png"); app.key("ctrl+q"); app.wait_exit(10)

# 2. approval waiting
app = session("approval", "approval-gate.json", "Refund approval")
canvas = app.layout().canvas()
app.click(*canvas.at(0.5, 0.95)); app.key("ctrl+Return")
app.activate(app.wait_window("Run workflow"))
app.key("Tab"); app.key("ctrl+a"); app.type("80"); app.key("Return")
wait_until("paused", lambda: [r for r in runs(app) if r["status"] == "paused"])
app.activate(); app.key("ctrl+shift+a"); time.sleep(1.0)
shot(app, "approval.png"); app.key("ctrl+q"); app.wait_exit(10)

# 3. dark
app = session("dark", "lead-scoring.json", "Lead scoring", theme="dark")
canvas = app.layout().canvas("#1b1d22")
app.click(*canvas.at(0.5, 0.95)); app.key("ctrl+Return")
app.activate(app.wait_window("Run workflow")); app.key("ctrl+Return")
wait_until("done", lambda: [r for r in runs(app) if r["status"] in ("completed", "failed")], 30)
time.sleep(1.0)
shot(app, "dark.png"); app.key("ctrl+q"); app.wait_exit(10)
d.stop()
print("ok")
