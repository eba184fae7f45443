#!/usr/bin/env bash
# Copyright streamml authors. Licensed under the Apache License 2.0.
#
# Topics made by `streamml topics create` are what `kcat -L` lists, with the
# partition count asked for; `streamml topics list` agrees.
source "$(dirname "$0")/common.bash"

start_broker
T1=$(unique_topic meta-five)
T2=$(unique_topic meta-one)
"$STREAMML" topics create -b "$B" -p 5 "$T1" >"$WORK/out" 2>"$WORK/err" || fail "topics create failed: $(cat "$WORK/err")"
grep -q "created $T1 (5 partition(s)" "$WORK/out" || fail "topics create printed: $(cat "$WORK/out")"
"$STREAMML" topics create -b "$B" "$T2" >/dev/null 2>"$WORK/err" || fail "topics create failed: $(cat "$WORK/err")"

kcat -L -b "$B" -t "$T1" >"$WORK/meta" || fail "kcat -L failed"
grep -q "topic \"$T1\" with 5 partitions:" "$WORK/meta" || fail "kcat -L does not show $T1 with 5 partitions: $(cat "$WORK/meta")"
for p in 0 1 2 3 4; do
  grep -q "partition $p, leader" "$WORK/meta" || fail "kcat -L: partition $p of $T1 missing"
done
kcat -L -b "$B" -t "$T2" | grep -q "topic \"$T2\" with 1 partitions:" || fail "kcat -L does not show $T2 with 1 partition"

"$STREAMML" topics list -b "$B" >"$WORK/list" 2>"$WORK/err" || fail "topics list failed: $(cat "$WORK/err")"
grep -qx "$T1"$'\t'"5" "$WORK/list" || fail "topics list: $(cat "$WORK/list")"
grep -qx "$T2"$'\t'"1" "$WORK/list" || fail "topics list: $(cat "$WORK/list")"

# Creating it again fails and names the topic.
if "$STREAMML" topics create -b "$B" -p 5 "$T1" >/dev/null 2>"$WORK/err"; then fail "creating $T1 twice succeeded"; fi
grep -q "$T1" "$WORK/err" || fail "the error does not name the topic: $(cat "$WORK/err")"

echo "ok: kcat -L lists the topics streamml created"
