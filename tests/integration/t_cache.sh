#!/usr/bin/env bash
# Cache rules, counted by the emulator: one list call serves ls plus every
# file within the TTL; repeats are free; negative lookups are free;
# concurrent misses share one call; mutations invalidate; changes made
# elsewhere show within the TTL; cache_ttl=0 always asks.
source "$(dirname "$0")/lib.sh"

# long enough for a sweep to finish inside it, also under valgrind
TTL=${EXFS_VALGRIND:+25}
TTL=${TTL:-3}
emu_start --demo --seed 60 || exit 1
mnt_start -o cache_ttl=$TTL || exit 1
N=$(api GET /workspaces | jq '.workspaces | length')

sweep() {
	ls -l "$MNT" >/dev/null && cat "$MNT"/*/status.json >/dev/null &&
		cat "$MNT"/*/status >/dev/null && cat "$MNT"/*/id >/dev/null
}

emu_reset
t0=$(date +%s%N)
check "cold sweep over $N workspaces succeeds" sweep
expect "the cold sweep costs exactly 1 API call" "$(emu_count total)" "1"
expect "and it is a list call" "$(emu_count list_workspaces)" "1"
check "a warm sweep succeeds" sweep
expect "a repeat within the TTL costs 0 calls" "$(emu_count total)" "1"
expect "a lookup of a missing name costs 0 calls" "$(errno_of stat "$MNT/no-such-workspace") $(emu_count total)" "ENOENT@stat 1"
# wait out the TTL (measured from the cold sweep)
while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt $((TTL * 1000 + 300)) ]; do sleep 0.1; done
check "a sweep after the TTL succeeds" sweep
expect "after the TTL, 1 call again" "$(emu_count total)" "2"

# a change made by another client appears within the TTL
WS=$MNT/train-llama
id=$(cat "$WS/id")
api POST "/workspace/$id/stop" >/dev/null
st=
for _ in $(seq $((TTL * 10 + 20))); do st=$(cat "$WS/status"); [ "$st" = STOPPED ] && break; sleep 0.1; done
expect "a change made elsewhere shows within the TTL" "$st" "STOPPED"

# concurrent misses share one call: expire, slow the list down, read in parallel
sleep $((TTL + 1))
emu_reset
emu_fault '{"latency": 1.0, "count": 5, "endpoint": "list_workspaces"}'
pids=()
for i in $(seq 32); do cat "$WS/status.json" >"$T_DIR/par.$i" & pids+=($!); done
okc=0
for p in "${pids[@]}"; do wait "$p" && okc=$((okc + 1)); done
emu_clear
expect "32 concurrent cold readers all succeed" "$okc" "32"
expect "and share 1 list call" "$(emu_count list_workspaces)" "1"
expect "every reader saw the same bytes" "$(md5sum "$T_DIR"/par.* | awk '{print $1}' | sort -u | wc -l)" "1"

# mutations invalidate what they change (start: one describe, no list)
emu_reset
echo start >"$WS/control"
expect "after start, status is fresh" "$(cat "$WS/status")" "RUNNING"
expect "at the cost of one describe" "$(emu_count describe_workspace) $(emu_count list_workspaces)" "1 0"
expect "other workspaces still come from the cache" "$(cat "$MNT"/*/status >/dev/null; emu_count list_workspaces)" "0"
# delete: gone at once, and the next listing is one call
mkdir "$MNT/tmpdraft" && rmdir "$MNT/tmpdraft"
emu_reset
rmdir "$MNT/notebook-a100"
check "rmdir'd workspace is gone from ls at once" bash -c "! ls '$MNT' | grep -qx notebook-a100"
expect "delete + one fresh list" "$(emu_count delete_workspace) $(emu_count list_workspaces)" "1 1"
mnt_stop
check "daemon exited cleanly" test $? -eq 0

# The open that first sees a file's bytes hands them to the kernel's page
# cache: a cold sweep is read without a READ request (counted in -d's
# log), and what is read is what the API says, also after a change.
log_expect "$LOG_D"' *unique: [0-9]+, error: -[0-9]+ \([A-Za-z/ ]+\), outsize: [0-9]+$'
mnt_start -d -o cache_ttl=60 || exit 1
reads_since() { tail -n +"$(($1 + 1))" "$T_DIR/exfs.log" | grep -c 'opcode: READ ('; }
l0=$(wc -l <"$T_DIR/exfs.log")
check "a cold sweep succeeds" sweep
expect "it sends no READ" "$(reads_since "$l0")" "0"
expect "its status.json files parse" "$(cat "$MNT"/*/status.json | jq -s length)" "$(ls "$MNT" | wc -l)"
id=$(cat "$WS/id")
expect "status.json holds the workspace's own object" "$(jq -r .id "$WS/status.json")" "$id"
was=$(cat "$WS/status")
api POST "/workspace/$id/$([ "$was" = RUNNING ] && echo stop || echo start)" >/dev/null
st=$was
for _ in $(seq 50); do
	echo refresh >"$MNT/.ctl"
	st=$(cat "$WS/status")
	[ "$st" != "$was" ] && break
	sleep 0.1
done
check "a change made elsewhere shows in status ($was -> $st)" test "$st" != "$was"
expect "and in status.json" "$(jq -r .workspace_status "$WS/status.json")" "$st"
# a status.json over the 16 KiB handed over at open: the kernel reads it
big=$(head -c 20000 /dev/zero | tr '\0' d)
emu_admin POST workspaces "$(jq -nc --arg d "$big" '{id: "0b160000-0000-4000-8000-000000000001",
	name: "big-object", workspace_status: "RUNNING", created_at: "2026-01-01T00:00:00Z", description: $d}')" >/dev/null
echo refresh >"$MNT/.ctl"
l0=$(wc -l <"$T_DIR/exfs.log")
expect "a status.json over 16 KiB is read whole" "$(jq -r '.description | length' "$MNT/big-object/status.json")" "20000"
check "through READ requests" test "$(reads_since "$l0")" -ge 1
mnt_stop
check "daemon exited cleanly" test $? -eq 0

# cache_ttl=0: every access asks
mnt_start -o cache_ttl=0 || exit 1
emu_reset
cat "$MNT/train-llama/status" >/dev/null
a=$(emu_count list_workspaces)
cat "$MNT/train-llama/status" >/dev/null
b=$(emu_count list_workspaces)
check "cache_ttl=0: the first read asks the API ($a calls)" test "$a" -ge 1
check "cache_ttl=0: a second read asks again ($b > $a)" test "$b" -gt "$a"
mnt_stop
check "daemon exited cleanly" test $? -eq 0
finish
