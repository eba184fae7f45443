#!/usr/bin/env bash
# Copyright streamml authors. Licensed under the Apache License 2.0.
#
# kcat produces keyed messages with a header; `streamml consume` reads back
# exactly those (keys, values, headers), and range specs select by offset.
source "$(dirname "$0")/common.bash"

T=$(unique_topic kcat-in)
start_broker "$T:3"

for i in $(seq 1 300); do echo "key$((i % 17)):value-$i"; done >"$WORK/input"
kcat -P -b "$B" -t "$T" -K: -H src=kcat <"$WORK/input" || fail "kcat -P failed"

"$STREAMML" consume -b "$B" -e -f '%k:%s\n' "$T" >"$WORK/got" 2>"$WORK/err" ||
  fail "streamml consume failed: $(cat "$WORK/err")"
expect_same "kcat -> streamml consume" "$WORK/input" "$WORK/got"
[[ $(wc -l <"$WORK/got") -eq 300 ]] || fail "expected 300 records, got $(wc -l <"$WORK/got")"

# Headers written by kcat are visible.
"$STREAMML" consume -b "$B" -e -f '%h\n' "$T" | sort -u >"$WORK/headers"
[[ "$(cat "$WORK/headers")" == "src=kcat" ]] || fail "headers: expected only src=kcat, got: $(cat "$WORK/headers")"

# Per-partition offsets agree between kcat and streamml, and the inclusive end holds.
kcat -C -b "$B" -t "$T" -p 0 -o beginning -e -q "${KCAT_CONSUMER_OPTS[@]}" -c 3 -f '%o %k:%s\n' >"$WORK/kcat_p0"
"$STREAMML" consume -b "$B" -f '%o %k:%s\n' "$T:0:0:2" >"$WORK/streamml_p0"
cmp -s "$WORK/kcat_p0" "$WORK/streamml_p0" ||
  fail "partition 0 offsets 0..2 differ: kcat: $(cat "$WORK/kcat_p0") / streamml: $(cat "$WORK/streamml_p0")"
[[ $(wc -l <"$WORK/streamml_p0") -eq 3 ]] || fail "range $T:0:0:2 must print 3 records (end inclusive)"

# The same command line works for both: kcat's -t/-p/-o/-c/-e/-f.
KCAT_ARGS=(-t "$T" -p 1 -o 2 -c 4 -e -f '%p %o %k:%s\n')
kcat -C -b "$B" -q "${KCAT_CONSUMER_OPTS[@]}" "${KCAT_ARGS[@]}" >"$WORK/kcat_p1"
"$STREAMML" consume -b "$B" "${KCAT_ARGS[@]}" >"$WORK/streamml_p1" 2>"$WORK/err" ||
  fail "streamml consume -t/-p/-o failed: $(cat "$WORK/err")"
cmp -s "$WORK/kcat_p1" "$WORK/streamml_p1" ||
  fail "kcat-style -t -p 1 -o 2 -c 4 differs: kcat: $(cat "$WORK/kcat_p1") / streamml: $(cat "$WORK/streamml_p1")"
# -o -N: the last N records of the partition, as kcat.
kcat -C -b "$B" -q "${KCAT_CONSUMER_OPTS[@]}" -t "$T" -p 2 -o -3 -e -f '%o\n' >"$WORK/kcat_tail"
"$STREAMML" consume -b "$B" -t "$T" -p 2 -o -3 -e -f '%o\n' >"$WORK/streamml_tail" 2>"$WORK/err" ||
  fail "streamml consume -o -3 failed: $(cat "$WORK/err")"
cmp -s "$WORK/kcat_tail" "$WORK/streamml_tail" ||
  fail "-o -3 differs: kcat: $(cat "$WORK/kcat_tail") / streamml: $(cat "$WORK/streamml_tail")"

echo "ok: 300 records from kcat read back by streamml"
