#!/usr/bin/env bash
# Live logs through the mount: cat logs ends after a short quiet time with
# what the API sent; tail -f and logs.follow follow new lines; one stream
# per workspace however many follow; reconnects neither repeat nor lose a
# line; the cap bounds memory while offsets grow; delete ends followers;
# Ctrl-C ends a blocked reader; poll(2); tar; grep -r; ndjson; the caps;
# an id that is not a UUID is refused at once.
source "$(dirname "$0")/lib.sh"
# the warnings and errors this suite provokes on purpose (see finish)
log_expect \
	"$LOG_W"'logs of '"$LOG_UUID"': GET '"$LOG_URL"'/workspace/'"$LOG_UUID"'/logs: .* \(reconnecting in [0-9]+ ms\)$' \
	"$LOG_W"'logs of '"$LOG_UUID"': logs failed: HTTP 500: Injected fault: HTTP 500 \(reconnecting in [0-9]+ ms\)$' \
	"$LOG_W"'logs of '"$LOG_UUID"': [0-9]+ log streams are open and read \(-o logs_streams\)$'

# time bounds stretch on the slow builds (valgrind, sanitizers)
SLOW=1
case $EXFS_BIN in */tsan/* | */asan/*) SLOW=3 ;; esac
[ "${EXFS_VALGRIND:-}" ] && SLOW=8
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
ms_since() { echo $(( $(now_ms) - $1 )); }
# wait_until SECONDS CMD...: poll CMD every 50 ms; 0 when it succeeded
wait_until() {
	local end=$(( $(now_ms) + $1 * 1000 * SLOW )); shift
	while [ "$(now_ms)" -lt "$end" ]; do "$@" 2>/dev/null && return 0; sleep 0.05; done
	"$@" 2>/dev/null
}
# emu_log ID MESSAGE...: the emulator appends these lines to ID's log
emu_log() {
	local id=$1; shift
	emu_admin POST logs "$(jq -nc --arg id "$id" '{id: $id, lines: $ARGS.positional}' --args "$@")" >/dev/null
}
emu_lines() { emu_admin GET "logs?id=$1" | jq '.lines | length'; }
streams_open() { emu_admin GET streams | jq -r --arg id "$1" '.open[$id] // 0'; }
streams_total() { emu_admin GET streams | jq -r '.total'; }
streams_started() { emu_admin GET streams | jq -r '.started'; }
has_line() { grep -qxF -- "$2" "$1"; }
has_text() { grep -qF -- "$2" "$1"; }
count_text() { grep -cF -- "$2" "$1"; }
# a background job's pids, killed at exit whatever happens
BG=()
ON_EXIT+=('for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done')
# sigint_able CMD...: run CMD with SIGINT at its default (a background
# job of a script starts with it ignored)
sigint_able() { exec "$PY" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' "$@"; }

emu_start --demo --pending-delay 1 || exit 1
mnt_start -o logs_grace=2 || exit 1
WS=$MNT/train-llama
ID=$(cat "$WS/id")
NB=$MNT/notebook-a100
NB_ID=$(cat "$NB/id")

# 1. cat logs: what the API sent, ending after a short quiet time
expect "before any read, logs holds nothing (size 0)" "$(stat -c %s "$WS/logs")" "0"
n_api=$(emu_lines "$ID")
t=$(now_ms)
cat "$WS/logs" >"$T_DIR/cat1.out"
ms=$(ms_since "$t")
check "cat logs of an open stream ends after the quiet time (${ms} ms < $((2500 * SLOW)))" test "$ms" -lt $((2500 * SLOW))
expect "it prints every line the API sent" "$(grep -c . "$T_DIR/cat1.out")" "$n_api"
first=$(emu_admin GET "logs?id=$ID" | jq -r '.lines[0] | "\(.timestamp) \(.pod_name) \(.log_message)"')
expect "as TIMESTAMP POD MESSAGE" "$(head -1 "$T_DIR/cat1.out")" "$first"
expect "st_size is what is held" "$(stat -c %s "$WS/logs")" "$(stat -c %s "$T_DIR/cat1.out")"
t=$(now_ms)
cat "$WS/logs" >/dev/null
ms=$(ms_since "$t")
check "a second cat is served from what is held (${ms} ms < $((500 * SLOW)))" test "$ms" -lt $((500 * SLOW))
expect "one stream for both" "$(streams_open "$ID")" "1"
check "ls does not list logs.follow" test -z "$(ls "$WS" | grep -F logs.follow)"
check "logs.follow is there by name" test -f "$WS/logs.follow"

# 2. tail -f sees a new line within 2 s, and never "file truncated"
tail -f "$WS/logs" >"$T_DIR/tail.out" 2>"$T_DIR/tail.err" &
TAIL=$!
BG+=("$TAIL")
wait_until 5 has_text "$T_DIR/tail.out" "$(tail -1 "$T_DIR/cat1.out")"
t=$(now_ms)
emu_log "$ID" "hello from the API 1"
wait_until 5 has_text "$T_DIR/tail.out" "hello from the API 1"
ms=$(ms_since "$t")
check "tail -f prints a new line within 2 s (${ms} ms)" test "$ms" -le $((2000 * SLOW))
emu_log "$ID" "hello from the API 2" "hello from the API 3"
wait_until 5 has_text "$T_DIR/tail.out" "hello from the API 3"
expect "and the next ones, each once" "$(count_text "$T_DIR/tail.out" "hello from the API")" "3"
check "tail -f never says the file was truncated" test ! -s "$T_DIR/tail.err"
expect "the size grew by exactly the new lines" "$(stat -c %s "$WS/logs")" \
	"$(( $(stat -c %s "$T_DIR/cat1.out") + $(grep -F "hello from the API" "$T_DIR/tail.out" | wc -c) ))"
kill "$TAIL" 2>/dev/null
wait "$TAIL" 2>/dev/null

# 3. 20 followers of one workspace make one stream
emu_reset
pids=()
for i in $(seq 20); do
	if [ $((i % 2)) -eq 0 ]; then
		tail -f "$NB/logs" >"$T_DIR/f$i.out" 2>/dev/null &
	else
		cat "$NB/logs.follow" >"$T_DIR/f$i.out" &
	fi
	pids+=($!)
	BG+=($!)
done
wait_until 5 eval 'test "$(streams_open "$NB_ID")" -ge 1'
sleep 1
expect "20 followers of one workspace: 1 open stream" "$(streams_open "$NB_ID")" "1"
expect "started once" "$(streams_started)" "1"
emu_log "$NB_ID" "to all followers"
ok=0
for i in $(seq 20); do wait_until 5 has_text "$T_DIR/f$i.out" "to all followers" && ok=$((ok + 1)); done
expect "each of the 20 followers got the new line" "$ok" "20"
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null

# 4. logs.follow: grep -m1 waits for the line and ends; so does a pipe
# (cat notices grep is gone at its next write: one more line)
(grep -m1 'Ready now' "$WS/logs.follow" >"$T_DIR/g.out"; echo $? >"$T_DIR/g.rc") &
BG+=($!)
(cat "$WS/logs.follow" | grep -m1 'Ready now' >"$T_DIR/p.out"; echo $? >"$T_DIR/p.rc") &
BG+=($!)
sleep 1
check "grep -m1 on logs.follow waits for its line" test ! -e "$T_DIR/g.rc"
emu_log "$ID" "Ready now"
wait_until 3 test -s "$T_DIR/g.rc"
expect "and ends when it comes" "$(cat "$T_DIR/g.rc" 2>/dev/null)" "0"
check "with the line" has_text "$T_DIR/g.out" "Ready now"
emu_log "$ID" "after ready"
wait_until 3 test -s "$T_DIR/p.rc"
expect "cat logs.follow | grep -m1 ends at the next line" "$(cat "$T_DIR/p.rc" 2>/dev/null)" "0"

# 5. poll(2) and O_NONBLOCK on logs.follow
(sleep 0.7; emu_log "$ID" "wakes the poller") &
BG+=($!)
res=$("$PY" - "$WS/logs.follow" <<'EOF'
import errno, os, select, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
out = []
while True:
    try:
        if not os.read(fd, 65536):
            out.append("EOF"); break
    except OSError as e:
        out.append(errno.errorcode[e.errno]); break
p = select.poll(); p.register(fd, select.POLLIN)
t = time.monotonic()
ev = p.poll(5000)
ms = int((time.monotonic() - t) * 1000)
out.append("POLLIN" if ev and ev[0][1] & select.POLLIN else "none")
out.append(str(ms))
out.append("line" if b"wakes the poller" in os.read(fd, 65536) else "noline")
print(" ".join(out))
EOF
)
read -r r_nb r_poll r_ms r_line <<<"$res"
expect "a nonblocking read at the end: EAGAIN" "$r_nb" "EAGAIN"
expect "poll reports POLLIN when a line arrives" "$r_poll" "POLLIN"
check "within 2 s (${r_ms} ms)" test "${r_ms:-99999}" -lt $((2000 * SLOW))
expect "and the read gets it" "$r_line" "line"

# 6. Ctrl-C ends a blocked reader at once; the mount still answers
sigint_able cat "$WS/logs.follow" >/dev/null &
CP=$!
BG+=("$CP")
sleep 1
t=$(now_ms)
kill -INT "$CP"
# alive: not gone and not a zombie (this shell has not reaped it yet)
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
gone() { ! alive "$1"; }
for _ in $(seq $((400 * SLOW))); do alive "$CP" || break; sleep 0.005; done
ms=$(ms_since "$t")
check "the reader is gone" gone "$CP"
check "Ctrl-C ends a blocked logs.follow read (${ms} ms < $((1000 * SLOW)))" test "$ms" -lt $((1000 * SLOW))
expect "the mount still answers" "$(cat "$WS/status")" "RUNNING"

# 7. reconnects: a dropped connection and a clean end repeat no line and
# lose none
H=$(emu_lines "$ID")
cat "$WS/logs.follow" >"$T_DIR/rc.out" &
FP=$!
BG+=("$FP")
wait_until 5 eval 'test "$(grep -c . "$T_DIR/rc.out")" -ge "$H"'
emu_admin POST config "{\"log_drop_after\": $((H + 2))}" >/dev/null
emu_log "$ID" "reconnect r1"
emu_log "$ID" "reconnect r2"
emu_admin POST config '{"log_drop_after": 0}' >/dev/null
emu_log "$ID" "reconnect r3"
wait_until 5 has_text "$T_DIR/rc.out" "reconnect r3"
emu_log "$ID" "reconnect r4"
wait_until 5 has_text "$T_DIR/rc.out" "reconnect r4"
dups=0
for r in r1 r2 r3 r4; do [ "$(count_text "$T_DIR/rc.out" "reconnect $r")" = 1 ] || dups=$((dups + 1)); done
expect "after a dropped connection: r1..r4 each exactly once" "$dups" "0"
expect "and no old line again" "$(grep -c . "$T_DIR/rc.out")" "$((H + 4))"
check "the daemon reconnected" test "$(emu_count get_workspace_logs)" -ge 2
emu_admin POST config '{"log_end_after": 0.3}' >/dev/null
sleep 0.6
emu_log "$ID" "after a clean end"
emu_admin POST config '{"log_end_after": 0}' >/dev/null
wait_until 5 has_text "$T_DIR/rc.out" "after a clean end"
expect "after a clean end: the new line once" "$(count_text "$T_DIR/rc.out" "after a clean end")" "1"
expect "and nothing repeated" "$(grep -c . "$T_DIR/rc.out")" "$((H + 5))"
check "the daemon logged the end" grep -q "logs of $ID: the API closed the stream; reconnecting" "$T_DIR/exfs.log"
check "the follower is still there" kill -0 "$FP"

# 8. a failing log stream: the open fails, error says why, then it works
emu_reset
VS=$MNT/vscode\ dev
VS_ID=$(cat "$VS/id")
emu_fault '{"status": 500, "count": 1, "endpoint": "get_workspace_logs"}'
expect "a log stream refused before any line: the open fails EIO" "$(errno_of read "$VS/logs")" "EIO@open"
check "error says the logs failed" grep -q "logs failed: HTTP 500" "$VS/error"
wait_until 4 eval 'test "$(emu_count get_workspace_logs)" -ge 2'
wait_until 3 test -s "$VS/logs"
check "the stream reconnects by itself: logs are there" test -s "$VS/logs"
check "and the error is cleared" test ! -s "$VS/error"
emu_clear
# an API slower to answer than the quiet time, and a token refused once
# (renewed and asked again): the first cat still prints the lines
n_vs=$(emu_lines "$VS_ID")
printf refresh >"$MNT/.ctl"
wait_until 3 eval 'test "$(streams_open "$VS_ID")" -eq 0'
emu_fault '{"latency": 1.5, "count": 1, "endpoint": "get_workspace_logs"}'
expect "an API 1.5 s slow to answer: cat logs still prints every line" "$(grep -c . "$VS/logs")" "$n_vs"
emu_clear
printf refresh >"$MNT/.ctl"
wait_until 3 eval 'test "$(streams_open "$VS_ID")" -eq 0'
emu_fault '{"status": 401, "count": 1, "endpoint": "get_workspace_logs"}'
expect "a 401 once: asked again with the token, cat logs prints every line" "$(grep -c . "$VS/logs")" "$n_vs"
emu_clear
# streams the API ends after a while (a proxy's idle limit) reconnect
# at once each time: the delay only grows while they fail or end at once
RS=$MNT/résumé-ü
RS_ID=$(cat "$RS/id")
emu_admin POST config '{"log_end_after": 2.2}' >/dev/null
cat "$RS/logs.follow" >/dev/null &
RP=$!
BG+=("$RP")
wait_until 10 eval 'test "$(grep -c "logs of $RS_ID: the API closed the stream" "$T_DIR/exfs.log")" -ge 2'
emu_admin POST config '{"log_end_after": 0}' >/dev/null
check "a stream ended after 2.2 s reconnects twice" test "$(grep -c "logs of $RS_ID: the API closed the stream" "$T_DIR/exfs.log")" -ge 2
check "each time after 500 ms" test -z "$(grep "logs of $RS_ID: the API closed the stream" "$T_DIR/exfs.log" | grep -v 'in 500 ms$')"
kill "$RP" 2>/dev/null

# 9. delete while followed: followers get end-of-file, new opens ENOENT
DEL=$MNT/eval\ run%2F2
DEL_ID=$(cat "$DEL/id")
(cat "$DEL/logs.follow" >/dev/null; echo $? >"$T_DIR/del.rc") &
BG+=($!)
wait_until 5 eval 'test "$(streams_open "$DEL_ID")" -ge 1'
rmdir "$DEL"
wait_until 3 test -s "$T_DIR/del.rc"
expect "rmdir ends a follower with end-of-file" "$(cat "$T_DIR/del.rc" 2>/dev/null)" "0"
expect "a new open: ENOENT" "$(errno_of read "$DEL/logs")" "ENOENT@open"
# deleted elsewhere: the API ends the stream and answers 404 after
(cat "$VS/logs.follow" >/dev/null; echo $? >"$T_DIR/del2.rc") &
BG+=($!)
tail -f "$VS/logs" >/dev/null 2>"$T_DIR/tail2.err" &
TAIL=$!
BG+=("$TAIL")
wait_until 5 eval 'test "$(streams_open "$VS_ID")" -ge 1'
sleep 1.2
api DELETE "/workspace/$VS_ID" >/dev/null
wait_until 5 test -s "$T_DIR/del2.rc"
expect "deleted elsewhere: the follower gets end-of-file" "$(cat "$T_DIR/del2.rc" 2>/dev/null)" "0"
sleep 1.5
check "and tail -f never sees the file shrink" test -z "$(grep truncated "$T_DIR/tail2.err")"
kill "$TAIL" 2>/dev/null

# 10. tar of a workspace directory holds the logs; grep -r ends (after
# a refresh: the workspace deleted elsewhere is gone from the listing)
printf refresh >"$MNT/.ctl"
mkdir -p "$T_DIR/x"
tar cf "$T_DIR/ws.tar" -C "$MNT" train-llama 2>"$T_DIR/tar.err"
expect "tar of a workspace succeeds" "$?" "0"
tar xf "$T_DIR/ws.tar" -C "$T_DIR/x"
check "the archive's logs are the logs" cmp -s "$T_DIR/x/train-llama/logs" "$WS/logs"
check "and not empty" test -s "$T_DIR/x/train-llama/logs"
check "without logs.follow" test ! -e "$T_DIR/x/train-llama/logs.follow"
timeout 60 grep -r "no such text anywhere" "$MNT" >/dev/null 2>&1
expect "grep -r over the mount ends (no match)" "$?" "1"

# 11. the stream closes a grace time after its last reader
for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
wait "${BG[@]}" 2>/dev/null
wait_until 6 eval 'test "$(streams_total)" -eq 0'
expect "2 s after the last reader, no stream is open" "$(streams_total)" "0"
mnt_stop
check "daemon exited cleanly" test $? -eq 0

# 12. the cap: memory bounded, offsets keep growing, followers never
# read a line twice; logs_format=ndjson; logs_streams
mnt_start -o logs_max=64,logs_streams=2,logs_grace=1,logs_format=ndjson || exit 1
cat "$NB/logs.follow" >"$T_DIR/cap.out" &
FP=$!
BG+=("$FP")
wait_until 5 eval 'test "$(streams_open "$NB_ID")" -ge 1'
rss() { awk '/^VmRSS/ {print $2}' "/proc/$EXFS_PID/status"; }
rss0=$(rss)
for i in 1 2 3; do emu_admin POST logs "{\"id\": \"$NB_ID\", \"count\": 3000, \"size\": 1000}" >/dev/null; done
wait_until 10 eval 'test "$(stat -c %s "$NB/logs")" -gt 9000000'
# everything sent is in once the follower has the last line
wait_until 10 has_text "$T_DIR/cap.out" '"fill 9000 '
size=$(stat -c %s "$NB/logs")
check "the size counts everything sent (${size} bytes > 9,000,000)" test "$size" -gt 9000000
held=$(cat "$NB/logs" | wc -c)
check "what is held stays under the 64 KiB cap (${held} bytes)" test "$held" -le 65536 -a "$held" -gt 0
rss1=$(rss)
# (RSS means nothing under valgrind or ASan's quarantine: asserted on the
# plain build, which make check runs)
if [ "$SLOW" = 1 ]; then
	check "daemon RSS grew by less than 16 MiB for 9 MB of logs ($(( (rss1 - rss0) / 1024 )) MiB)" \
		test $((rss1 - rss0)) -lt 16384
fi
nums=$(jq -r '.log_message | select(startswith("fill ")) | split(" ")[1]' "$T_DIR/cap.out" | tr '\n' ' ')
check "a follower that fell behind the cap skips ahead, never back" \
	"$PY" -c 'import sys; v=[int(x) for x in sys.argv[1:]]; sys.exit(0 if v and all(a < b for a, b in zip(v, v[1:])) and v[-1] == 9000 else 1)' $nums
check "every line is JSON (logs_format=ndjson)" jq -e . "$NB/logs"
expect "with the API's fields" "$(head -1 "$NB/logs" | jq -r 'keys_unsorted | join(",")')" \
	"pod_name,pod_namespace,timestamp,log_message"
cat "$WS/logs.follow" >/dev/null &
BG+=($!)
wait_until 5 eval 'test "$(streams_open "$ID")" -ge 1'
expect "a third stream beyond logs_streams=2, both read: EAGAIN" \
	"$(errno_of read "$MNT/résumé-ü/logs")" "EAGAIN@open"
for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
wait "${BG[@]}" 2>/dev/null
wait_until 4 eval 'test "$(streams_total)" -eq 0'
expect_match "once they are closed it opens" "$(errno_of read "$MNT/résumé-ü/logs")" "^OK [1-9]"
mnt_stop
check "daemon exited cleanly" test $? -eq 0

# 13. .ctl refresh closes the streams nobody reads (the grace is 30 s
# here); a workspace starting: tail -f shows its start-up lines
mnt_start || exit 1
cat "$WS/logs" >/dev/null
expect "a read log stays open after its reader" "$(streams_open "$ID")" "1"
printf refresh >"$MNT/.ctl"
wait_until 2 eval 'test "$(streams_open "$ID")" -eq 0'
expect ".ctl refresh closes it" "$(streams_open "$ID")" "0"
ST=$(for d in "$MNT"/*/; do [ "$(cat "$d/status" 2>/dev/null)" = STOPPED ] && { basename "$d"; break; }; done)
if [ -n "$ST" ]; then
	tail -f "$MNT/$ST/logs" >"$T_DIR/start.out" 2>/dev/null &
	BG+=($!)
	sleep 1.5
	echo start >"$MNT/$ST/control"
	wait_until 6 has_text "$T_DIR/start.out" "Started container workspace"
	check "tail -f on a starting workspace shows its start-up" has_text "$T_DIR/start.out" "Started container workspace"
else
	fail "the demo has a STOPPED workspace"
fi
for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
wait "${BG[@]}" 2>/dev/null

# 14. logs of a workspace whose id is not a UUID: refused at once, for good
# (no stream, no retries), and the error file says why
emu_admin POST workspaces '{"id": "../../clusters", "name": "logs-bad-id",
	"workspace_status": "RUNNING", "created_at": "2026-01-01T00:00:00Z"}' >/dev/null
printf refresh >"$MNT/.ctl"
expect "logs of an id that is not a UUID: EIO" "$(errno_of read "$MNT/logs-bad-id/logs")" "EIO@open"
check "error says why" grep -q "logs failed: workspace id from the API is not a UUID" "$MNT/logs-bad-id/error"
sleep $((2 * SLOW))
expect "and nothing retries it (daemon log lines about it)" "$(grep -c 'logs of \.\./\.\./clusters' "$T_DIR/exfs.log")" "0"

mnt_stop
check "daemon exited cleanly" test $? -eq 0
finish
