#!/usr/bin/env bash
# stress.sh: parallel readers and control writers over hundreds of
# workspaces for a bounded time while random faults are injected; run on
# the ASan + UBSan build (make stress). Asserts no crash, no sanitizer
# report, a mount that still answers, memory that does not grow between the
# first and second half, and nothing left mounted.
#   STRESS_SECONDS  total load time (default 60)   STRESS_WORKSPACES (default 300)
source "$(dirname "$0")/../integration/lib.sh"
SUITE=stress
# every kind of fault is injected at random, so any failure the daemon
# reports in its own error and warning lines is expected; sanitizer and
# valgrind reports, and anything else suspicious, still fail the run
log_expect "$LOG_E"'.+$' "$LOG_W"'.+$'
SECS=${STRESS_SECONDS:-60}
NWS=${STRESS_WORKSPACES:-300}
# a small quarantine so freed memory comes back and RSS means something
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16:detect_leaks=1:abort_on_error=0}

emu_start --seed "$NWS" --pending-delay 0.5 || exit 1
mnt_start -o cache_ttl=1,retries=1,timeout=2,max_stale=5 || exit 1
mapfile -t DIRS < <(ls "$MNT" | head -n 400)
check "mounted $NWS workspaces" test "${#DIRS[@]}" -ge "$NWS"
END=$(( $(date +%s) + SECS ))

rss() { awk '/^VmRSS/ {print $2}' "/proc/$EXFS_PID/status"; }
reader() {
	local n=0
	while [ "$(date +%s)" -lt "$END" ]; do
		local d=${DIRS[RANDOM % ${#DIRS[@]}]}
		timeout 10 cat "$MNT/$d/status.json" "$MNT/$d/status" "$MNT/$d/id" "$MNT/$d/error" >/dev/null 2>&1
		[ $((n++ % 20)) -eq 0 ] && timeout 10 ls -l "$MNT" >/dev/null 2>&1
	done
	echo "$n" >"$T_DIR/reader.$1"
}
writer() {
	local n=0 cmds=(start stop)
	while [ "$(date +%s)" -lt "$END" ]; do
		local d=${DIRS[RANDOM % ${#DIRS[@]}]}
		timeout 10 bash -c "echo ${cmds[RANDOM % 2]} > '$MNT/$d/control'" 2>/dev/null
		if [ $((n++ % 10)) -eq 0 ]; then
			local draft="stress-$1-$n"
			timeout 10 mkdir "$MNT/$draft" 2>/dev/null &&
				timeout 10 bash -c "printf '%s' '$(spec_json "$draft")' > '$MNT/$draft/spec.json'" 2>/dev/null
			timeout 10 rmdir "$MNT/$draft" 2>/dev/null
		fi
	done
	echo "$n" >"$T_DIR/writer.$1"
}
faults() {
	local kinds=('{"status": 500, "count": 3}' '{"status": 503, "count": 2, "endpoint": "list_workspaces"}'
		'{"status": 429, "count": 2, "retry_after": 0}' '{"latency": 0.7, "count": 4}'
		'{"drop": true, "count": 2}' '{"malformed": true, "count": 1}' '{"truncated": true, "count": 1}'
		'{"status": 409, "count": 2, "endpoint": "start_workspace"}')
	while [ "$(date +%s)" -lt "$END" ]; do
		emu_fault "${kinds[RANDOM % ${#kinds[@]}]}" 2>/dev/null
		sleep 1
	done
}

pids=()
for i in 1 2 3 4 5 6; do reader "$i" & pids+=($!); done
for i in 1 2; do writer "$i" & pids+=($!); done
faults & pids+=($!)
sleep $((SECS / 2))
RSS1=$(rss)
for p in "${pids[@]}"; do wait "$p"; done
emu_clear
sleep 2
RSS2=$(rss)
reads=$(cat "$T_DIR"/reader.* | awk "{s += \$1} END {print s + 0}")
writes=$(cat "$T_DIR"/writer.* | awk "{s += \$1} END {print s + 0}")
echo "# $SECS s: $reads read rounds, $writes control writes; RSS ${RSS1} kB at half time, ${RSS2} kB at the end"
check "the daemon is alive" kill -0 "$EXFS_PID"
check "the mount still answers" test -s "$MNT/${DIRS[0]}/status.json"
check "the load ran ($reads reads, $writes writes)" test "$reads" -gt 100 -a "$writes" -gt 20
check "memory did not grow: ${RSS2} kB <= 1.25 x ${RSS1} kB + 8 MiB" test "$RSS2" -le $((RSS1 * 5 / 4 + 8192))
stats=$(cat "$MNT/.stats")
echo "$stats" | grep -E '^(requests_total|retries|cache_(hits|misses|joins|stale_serves)|latency_p(50|99)_ms) ' | sed 's/^/# /'
mnt_stop
check "the daemon exited cleanly (no sanitizer or leak report)" test $? -eq 0
check "no sanitizer report in the log" bash -c "! grep -Eq 'AddressSanitizer|runtime error:|LeakSanitizer' '$T_DIR/exfs.log'"
check "nothing is left mounted" bash -c "! grep -qs ' $MNT fuse' /proc/mounts"
finish
