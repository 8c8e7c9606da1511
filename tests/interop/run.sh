#!/usr/bin/env bash
# Interop: drive the imagedesk-sandbox binary with Alibaba Cloud's official Python SDKs.
# Usage: bash tests/interop/run.sh   (creates a venv under ~/.cache, builds and starts the sandbox)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${IMAGEDESK_INTEROP_VENV:-$HOME/.cache/imagedesk-interop-venv}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

(cd "$root" && cargo build --quiet --bin imagedesk-sandbox)
target="${CARGO_TARGET_DIR:-$root/target}"
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$target/debug/imagedesk-sandbox" --port "$port" --data-dir "$data" --time-scale 200 \
  --access-key LTAIinterop:interop-secret --access-key LTAI5tImageDeskDemo:imagedesk-sandbox-demo-secret \
  >"$data/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true; wait $sandbox 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/__sandbox/health" >/dev/null && break
  sleep 0.1
done
SANDBOX_PORT="$port" "$venv/bin/python" "$here/interop.py" || { echo "--- sandbox log"; tail -50 "$data/sandbox.log"; exit 1; }
