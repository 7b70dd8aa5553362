#!/usr/bin/env bash
# Parallel `kubectl label`-style merge patches of one large image stream (review J2,
# backend/src/api/object_turns.rs). Builds a stream of ~4.8 MB (38 tags with annotations, so
# that its managedFields record is large too), times one label alone, then WRITERS labels sent
# at once. Prints a Markdown row per binary: the stream's size, the one label's time, the wall
# time of the parallel ones, their answers, and the slowest of them.
#   TAGSTREAM_BIN=/path/to/tagstream [BEFORE_BIN=/path/to/older] scripts/bench-labels.sh
# Builds the server with --release when TAGSTREAM_BIN is not given. Loopback only: the tags
# follow another stream's tag, so nothing is imported.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
WRITERS="${WRITERS:-16}"

# The stream with its first 25 tags (one POST, under the 4 MiB body limit), and 13 tag bodies.
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
def tag(i):
    notes = {f"example.com/note-{i:02}-{k:04}": "x" * 170 for k in range(500)}
    return {"name": f"t{i}", "annotations": notes,
            "from": {"kind": "ImageStreamTag", "name": "base:latest"}}
stream = {"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
          "metadata": {"name": "big"}, "spec": {"tags": [tag(i) for i in range(25)]}}
open(f"{work}/stream.json", "w").write(json.dumps(stream))
for i in range(25, 38):
    body = {"kind": "ImageStreamTag", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": f"big:t{i}"}, "tag": tag(i)}
    open(f"{work}/tag{i}.json", "w").write(json.dumps(body))
PY

# run NAME BINARY: prints the Markdown row.
run() {
  serve "$1" "$2"
  local auth="Authorization: Bearer $TOKEN" json='Content-Type: application/json'
  local streams="$url/apis/image.openshift.io/v1/namespaces/demo/imagestreams"
  curl -fsS -o /dev/null -H "$auth" -H "$json" \
    -d '{"metadata":{"name":"demo"}}' "$url/apis/project.openshift.io/v1/projects"
  say "$1: creating the stream"
  curl -fsS -o /dev/null -H "$auth" -H "$json" --data-binary @"$WORK/stream.json" "$streams"
  for i in $(seq 25 37); do
    curl -fsS -o /dev/null -H "$auth" -H "$json" -X PUT --data-binary @"$WORK/tag$i.json" \
      "$url/apis/image.openshift.io/v1/namespaces/demo/imagestreamtags/big:t$i"
  done
  local size record
  size="$(curl -fsS -H "$auth" "$streams/big" | wc -c)"
  record="$(curl -fsS -H "$auth" "$streams/big" |
    python3 -c 'import json,sys; print(len(json.dumps(json.load(sys.stdin)["metadata"]["managedFields"])))')"
  local merge='Content-Type: application/merge-patch+json'
  local one
  one="$(curl -sS -o /dev/null -w '%{time_total}' -H "$auth" -H "$merge" -X PATCH \
    -d '{"metadata":{"labels":{"alone":"v"}}}' "$streams/big")"
  say "$1: $WRITERS labels at once"
  local started writers=()
  started="$(date +%s.%N)"
  for i in $(seq 1 "$WRITERS"); do
    curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' -H "$auth" -H "$merge" -X PATCH \
      -d "{\"metadata\":{\"labels\":{\"l$i\":\"v\"}}}" "$streams/big" >"$WORK/$1.label$i" &
    writers+=($!)
  done
  wait "${writers[@]}" || true
  local wall
  wall="$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")"
  local labels
  labels="$(curl -fsS -H "$auth" "$streams/big" |
    python3 -c "import json,sys; l=json.load(sys.stdin)['metadata'].get('labels',{}); print(sum(f'l{i}' in l for i in range(1, $WRITERS + 1)))")"
  python3 - "$1" "$size" "$record" "$one" "$wall" "$labels" "$WORK/$1".label* <<'PY'
import collections, sys
name, size, record, one, wall, labels, *files = sys.argv[1:]
answers = [open(f).read().split() for f in files]
codes = collections.Counter(a[0] for a in answers if a)
slowest = max(float(a[1]) for a in answers if a)
print(f"| {name} | {int(size) / 1e6:.2f} MB (managedFields {int(record) / 1e6:.2f} MB) | "
      f"{float(one):.1f} s | {wall} s | {', '.join(f'{n} x {c}' for c, n in sorted(codes.items()))} | "
      f"{slowest:.1f} s | {labels} of {len(files)} |")
PY
}

echo "| binary | stream | one label | $WRITERS labels at once: wall | answers | slowest | labels present |"
echo "|---|---|---:|---:|---|---:|---|"
run after "$TAGSTREAM_BIN"
if [[ -n "${BEFORE_BIN:-}" ]]; then run before "$BEFORE_BIN"; fi
