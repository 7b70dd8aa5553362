#!/usr/bin/env bash
# How long an ordinary request (whoami) waits while big YAML bodies are being read (issue 14's
# YAML bodies, backend/src/heavy.rs). Four clients post a ~700 KB YAML image stream over and
# over (each refused under fieldValidation=Strict for a key it repeats at the end, so nothing
# grows between rounds) while whoami is asked ROUNDS times, one at a time. Prints a Markdown
# row per binary: whoami p50, p90 and max, and how many big bodies were answered meanwhile.
#   TAGSTREAM_BIN=/path/to/tagstream [BEFORE_BIN=/path/to/older] scripts/bench-bodies.sh
# Builds the server with --release when TAGSTREAM_BIN is not given. Loopback only.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
ROUNDS="${ROUNDS:-40}"

python3 - "$WORK/big.yaml" <<'PY'
import sys
out = ["apiVersion: image.openshift.io/v1", "kind: ImageStream", "metadata:", "  name: big",
       "spec:", "  tags:"]
i = 0
while sum(len(l) + 1 for l in out) < 700_000:
    out += [f"  - name: t{i}", "    from:", "      kind: DockerImage",
            f"      name: quay.io/demo/app:v{i}", "    annotations:",
            f"      description: tag {i} of a stream large enough to take a while to read"]
    i += 1
out.append("    name: repeated")
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY

# run NAME BINARY: prints the Markdown row.
run() {
  serve "$1" "$2"
  local auth="Authorization: Bearer $TOKEN"
  curl -fsS -o /dev/null -H "$auth" -H 'Content-Type: application/json' \
    -d '{"metadata":{"name":"demo"}}' "$url/apis/project.openshift.io/v1/projects"
  : >"$WORK/$1.posts"
  local posters=()
  for _ in 1 2 3 4; do
    (while [[ ! -e "$WORK/$1.stop" ]]; do
      curl -sS -o /dev/null -w '%{http_code}\n' -H "$auth" -H 'Content-Type: application/yaml' \
        --data-binary @"$WORK/big.yaml" \
        "$url/apis/image.openshift.io/v1/namespaces/demo/imagestreams?fieldValidation=Strict" \
        >>"$WORK/$1.posts" || true
    done) &
    posters+=($!)
  done
  sleep 2
  local started=$SECONDS
  : >"$WORK/$1.times"
  for _ in $(seq 1 "$ROUNDS"); do
    curl -fsS -o /dev/null -w '%{time_total}\n' -H "$auth" \
      "$url/apis/user.openshift.io/v1/users/~" >>"$WORK/$1.times"
  done
  touch "$WORK/$1.stop"
  wait "${posters[@]}" 2>/dev/null || true
  python3 - "$1" "$WORK/$1.times" "$WORK/$1.posts" "$((SECONDS - started + 2))" <<'PY'
import sys
t = sorted(float(x) * 1000 for x in open(sys.argv[2]).read().split())
codes = open(sys.argv[3]).read().split()
pct = lambda p: t[min(len(t) - 1, int(len(t) * p))]
secs = max(1, int(sys.argv[4]))
print(f"| {sys.argv[1]} | {len(t)} | {pct(0.5):.1f} | {pct(0.9):.1f} | {t[-1]:.1f} | "
      f"{len(codes)} in {secs} s ({', '.join(sorted(set(codes)))}) |")
PY
}

echo "| binary | whoami requests | p50 ms | p90 ms | max ms | big bodies answered meanwhile (codes) |"
echo "|---|---:|---:|---:|---:|---|"
run after "$TAGSTREAM_BIN"
if [[ -n "${BEFORE_BIN:-}" ]]; then run before "$BEFORE_BIN"; fi
