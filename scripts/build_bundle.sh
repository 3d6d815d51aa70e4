#!/usr/bin/env bash
# Build the one-folder bundle with PyInstaller and smoke-test it: its size, the CLI on an
# example workflow, and the app's time to first paint (offscreen).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
$PY -m pip install -q 'pyinstaller>=6.10'
rm -rf build dist
$PY -m PyInstaller --noconfirm --log-level WARN flowdesk.spec
echo "bundle size: $(du -sh dist/flowdesk | cut -f1)"
tmp=$(mktemp -d)
export FLOWDESK_HOME="$tmp" FLOWDESK_DB="$tmp/flowdesk.db" QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
dist/flowdesk/flowdesk run resources/examples/order-batch.json --sample-input -q --json > "$tmp/run.json"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['status']=='completed', d; print('CLI run:', d['status'], len(d['steps']), 'steps')" "$tmp/run.json"
start=$(date +%s%N)
FLOWDESK_EXIT_AFTER_PAINT=1 dist/flowdesk/flowdesk
echo "app start to first paint: $(( ($(date +%s%N) - start) / 1000000 )) ms"
