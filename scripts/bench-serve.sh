#!/usr/bin/env bash
# Bursts a real `kycdesk serve` (the binary, worker on) as issue 13 checks it: a fresh data dir with a
# generic hmac integration; `kycdesk bench ingest --url` measures the naive one-commit-per-delivery rate
# in-process on the same disk, then sends a 10 s burst of signed deliveries at 1.5x that rate to the
# server from this separate process and times the drain from the data dir; finally the cases are
# counted through the JSON API. Usage: scripts/bench-serve.sh [extra bench flags, e.g. --rate 3000, or
# --sustain 3000 to follow the drained burst with 10 s at 3,000/s and count the cases the worker makes meanwhile]
# Environment: BIN (default: build ./cmd/kycdesk), PORT (default 18473), SERVE_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${BIN:-}" ]]; then
  BIN=$(mktemp -d)/kycdesk
  go build -o "$BIN" ./cmd/kycdesk
fi
PORT=${PORT:-18473}
D=$(mktemp -d)
trap 'kill "${SPID:-}" 2>/dev/null || true; wait "${SPID:-}" 2>/dev/null || true; rm -rf "$D"' EXIT
out=$("$BIN" integration add --data "$D" --provider generic --auth hmac --json)
SECRET=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])' <<<"$out")
WPATH=$(python3 -c 'import json,sys,urllib.parse; print(urllib.parse.urlparse(json.load(sys.stdin)["webhook_url"]).path)' <<<"$out")
TOKEN=$("$BIN" apitoken create --name bench --data "$D" | sed 's/^token: //')
"$BIN" serve --data "$D" --addr "127.0.0.1:$PORT" --insecure-cookies ${SERVE_ARGS:-} >"$D/serve.log" 2>&1 &
SPID=$!
sleep 2
echo "uptime before: $(uptime)"
"$BIN" bench ingest --url "http://127.0.0.1:$PORT$WPATH" --secret "$SECRET" --data "$D" --seconds 10 --sustain 0 "$@"
echo "uptime after: $(uptime)"
python3 - "$PORT" "$TOKEN" <<'PY'
import json, sys, urllib.request
port, token = sys.argv[1], sys.argv[2]
n, after = 0, None
while True:
    url = f"http://127.0.0.1:{port}/api/v1/cases?limit=1000" + (f"&after={after}" if after else "")
    page = json.load(urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer " + token})))
    n += len(page["cases"])
    after = page.get("next")
    if not after:
        break
print("cases through /api/v1/cases:", n)
PY
