#!/usr/bin/env bash
# Fault injection: what the user sees and how many API calls were made when
# the API fails: 5xx bursts, 429 with Retry-After, latency beyond the
# timeout, dropped connections, malformed and truncated bodies, lost create
# replies, stale-on-error, an API restart, unmount with requests in flight.
source "$(dirname "$0")/lib.sh"
# the warnings and errors this suite provokes on purpose (see finish)
log_expect \
	"$LOG_E"'draft dropped: create failed: POST '"$LOG_URL"'/workspaces: Empty reply from server; the listing confirms nothing was created, write spec\.json again to retry$' \
	"$LOG_E"'draft five-hundred: create failed: HTTP 500: Injected fault: HTTP 500; the listing confirms nothing was created, write spec\.json again to retry$' \
	"$LOG_E"'listing workspaces: API reply is not valid JSON \('"'"'\]'"'"' expected near end of file at offset [0-9]+\)$' \
	"$LOG_E"'listing workspaces: GET '"$LOG_URL"'/workspaces: Operation timed out after [0-9]+ milliseconds with [0-9]+ bytes received$' \
	"$LOG_E"'listing workspaces: GET '"$LOG_URL"'/workspaces: transfer closed with [0-9]+ bytes remaining to read$' \
	"$LOG_E"'listing workspaces: list failed: HTTP (401|500): Injected fault: HTTP \1$' \
	"$LOG_E"'listing workspaces: list failed: HTTP 503: Injected fault: HTTP 503 \(after retries\)$' \
	"$LOG_W"'draft lost-reply: create reply lost \(POST '"$LOG_URL"'/workspaces: Empty reply from server\); the listing shows it was created as '"$LOG_UUID"'$' \
	"$LOG_W"'listing workspaces: GET '"$LOG_URL"'/workspaces: Failed to connect to 127\.0\.0\.1 port [0-9]+ after [0-9]+ ms: Couldn'"'"'t connect to server \(serving the last listing\)$' \
	"$LOG_W"'listing workspaces: list failed: HTTP 500: Injected fault: HTTP 500 \(serving the last listing\)$'

stat_of() { awk -v k="$1" '$1 == k {print $2}' "$MNT/.stats"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

emu_start --demo --pending-delay 0.2 || exit 1
PORT=$(cat "$T_DIR/port")
mnt_start -o cache_ttl=0,retries=2,timeout=3,max_stale=0 || exit 1
WS=$MNT/train-llama

# a burst of 500s shorter than the retries is invisible, and counted
emu_reset
r0=$(stat_of retries)
emu_fault '{"status": 500, "count": 2, "endpoint": "list_workspaces"}'
expect "2 x 500 then success: ls works" "$(errno_of listdir "$MNT")" "OK"
expect "3 list requests were made" "$(emu_count list_workspaces)" "3"
expect ".stats counts the 2 retries" "$(( $(stat_of retries) - r0 ))" "2"
check ".stats counts the 5xx answers" test "$(stat_of responses_list_5xx)" -ge 2
emu_fault '{"status": 503, "count": 10, "endpoint": "list_workspaces"}'
emu_reset
expect "a longer burst: EIO" "$(errno_of listdir "$MNT")" "EIO@listdir"
expect "after 1 + 2 retries" "$(emu_count list_workspaces)" "3"
emu_clear

# 429 with Retry-After is honoured
emu_reset
emu_fault '{"status": 429, "count": 1, "retry_after": 1, "endpoint": "list_workspaces"}'
t=$(date +%s%N)
expect "429 with Retry-After: 1, then success" "$(errno_of listdir "$MNT")" "OK"
ms=$(ms_since "$t")
check "the retry waited the Retry-After (${ms} ms >= 900)" test "$ms" -ge 900
expect "2 requests" "$(emu_count list_workspaces)" "2"

# latency beyond the timeout: ETIMEDOUT within the request's time budget
emu_fault '{"latency": 5, "count": 3, "endpoint": "list_workspaces"}'
t=$(date +%s%N)
expect "a hung API is ETIMEDOUT" "$(errno_of listdir "$MNT")" "ETIMEDOUT@listdir"
ms=$(ms_since "$t")
check "within the 3 s budget, retries included (${ms} ms < 4500)" test "$ms" -lt 4500
emu_clear
sleep 5	# the emulator finishes its delayed replies

# dropped connections are retried for reads
emu_reset
emu_fault '{"drop": true, "count": 1, "endpoint": "list_workspaces"}'
expect "a dropped connection on list is retried away" "$(errno_of listdir "$MNT")" "OK"
expect "2 list requests" "$(emu_count list_workspaces)" "2"

# malformed and truncated bodies: EIO, the mount keeps answering
emu_fault '{"malformed": true, "count": 3, "endpoint": "list_workspaces"}'
expect "a malformed list body is EIO" "$(errno_of listdir "$MNT")" "EIO@listdir"
emu_clear
emu_fault '{"truncated": true, "count": 5, "endpoint": "list_workspaces"}'
expect "a truncated list body is EIO" "$(errno_of listdir "$MNT")" "EIO@listdir"
emu_clear
expect "the mount answers again" "$(errno_of listdir "$MNT")" "OK"

# a create whose reply is lost: found by listing, never sent twice
mkdir "$MNT/lost-reply"
emu_reset
emu_fault '{"drop_after": true, "count": 1, "endpoint": "create_workspace"}'
expect "create with a lost reply still succeeds" "$(errno_of write "$MNT/lost-reply/spec.json" "$(spec_json lost-reply)")" "OK"
expect "exactly 1 create request" "$(emu_count create_workspace)" "1"
expect "exactly 1 workspace of that name" "$(api GET /workspaces | jq '[.workspaces[] | select(.name == "lost-reply")] | length')" "1"
check "the directory is the workspace" test -s "$MNT/lost-reply/id"
expect_match "the log tells what happened" "$(cat "$T_DIR/exfs.log")" "create reply lost"

# a create dropped before the server acted: not created, told so, retry works
mkdir "$MNT/dropped"
emu_reset
emu_fault '{"drop": true, "count": 1, "endpoint": "create_workspace"}'
expect "create dropped before processing fails (EIO)" "$(errno_of write "$MNT/dropped/spec.json" "$(spec_json dropped)")" "EIO@write"
expect "1 create request, no blind retry" "$(emu_count create_workspace)" "1"
expect_match "error says nothing was created" "$(cat "$MNT/dropped/error")" "nothing was created"
expect "0 workspaces of that name" "$(api GET /workspaces | jq '[.workspaces[] | select(.name == "dropped")] | length')" "0"
expect "writing again creates it" "$(errno_of write "$MNT/dropped/spec.json" "$(spec_json dropped)")" "OK"
emu_fault '{"status": 500, "count": 1, "endpoint": "create_workspace"}'
mkdir "$MNT/five-hundred"
emu_reset
expect "500 on create: EIO, not retried" "$(errno_of write "$MNT/five-hundred/spec.json" "$(spec_json five-hundred)") $(emu_count create_workspace)" "EIO@write 1"
expect "its error says what failed once" "$(cat "$MNT/five-hundred/error")" \
	"create failed: HTTP 500: Injected fault: HTTP 500; the listing confirms nothing was created, write spec.json again to retry"
mnt_stop
check "daemon exited cleanly" test $? -eq 0

# stale-on-error: serve the last listing for max_stale, say so, then EIO
mnt_start -o cache_ttl=1,retries=0,timeout=2,max_stale=4 || exit 1
check "listing works" test -d "$WS"
emu_fault '{"status": 500, "count": -1, "endpoint": "list_workspaces"}'
sleep 1.2
expect "a failing API within max_stale: the last listing is served" "$(cat "$WS/status")" "RUNNING"
# that read started a refresh in the background; its failure shows soon
note=
for _ in $(seq 30); do note=$(cat "$WS/error"); [[ $note == *"listing failed"* ]] && break; sleep 0.1; done
expect_match "the error file says it is stale" "$note" "listing failed"
check ".stats counts stale serves" test "$(stat_of cache_stale_serves)" -ge 1
sleep 4
expect "past max_stale: EIO" "$(errno_of stat "$WS/status")" "EIO@stat"
emu_clear
sleep 1.1
expect "the mount recovers when the API does" "$(cat "$WS/status")" "RUNNING"
expect "and the stale note is gone" "$(cat "$WS/error")" ""
emu_fault '{"status": 401, "count": -1, "endpoint": "list_workspaces"}'
sleep 1.2
# the first request past the TTL may be served while the refresh runs;
# once the refresh has met the 401, nothing held is served any more
got=
for _ in $(seq 30); do
	got=$(errno_of stat "$WS/status")
	[ "$got" = EACCES@stat ] && break
	sleep 0.1
done
expect "a 401 is never masked by stale data" "$got" "EACCES@stat"
expect "not even on the next request" "$(errno_of stat "$WS/status")" "EACCES@stat"
emu_clear

# the emulator killed and restarted on the same port: the mount recovers
sleep 1.1
cat "$WS/status" >/dev/null
emu_stop
sleep 1.2
expect "API down within max_stale: still served" "$(cat "$WS/status")" "RUNNING"
rm -f "$T_DIR/port"
EXALSIUS_TOKEN=$T_TOKEN "$PY" "$ROOT/scripts/emulator.py" --port "$PORT" \
	--port-file "$T_DIR/port" --quiet --demo >>"$T_DIR/emu.log" 2>&1 &
EMU_PID=$!
for _ in $(seq 100); do [ -s "$T_DIR/port" ] && break; sleep 0.1; done
check "the emulator restarted on port $PORT" test "$(cat "$T_DIR/port")" = "$PORT"
st=
for _ in $(seq 30); do st=$(cat "$WS/status" 2>/dev/null); [ -s "$WS/error" ] || break; sleep 0.2; done
expect "after the restart the mount answers by itself" "$st" "RUNNING"
expect "with fresh data (no stale note)" "$(cat "$WS/error")" ""
mnt_stop
check "daemon exited cleanly" test $? -eq 0

# a slow API call never blocks unrelated reads served from the cache
mnt_start -o cache_ttl=60 || exit 1
cat "$MNT"/*/status >/dev/null
emu_fault '{"latency": 3, "count": 1, "endpoint": "stop_workspace"}'
echo stop >"$WS/control" &
SLOW_PID=$!
sleep 0.3
t=$(date +%s%N)
for _ in 1 2 3 4 5; do cat "$MNT/vscode dev/status.json" "$MNT/notebook-a100/status" >/dev/null; done
ms=$(ms_since "$t")
check "10 cached reads during a 3 s control write took ${ms} ms (< 1000)" test "$ms" -lt 1000
wait "$SLOW_PID"
expect "and the slow write succeeded" "$?" "0"
emu_clear
mnt_stop

# unmount while a request is in flight: the daemon exits, cleanly. libfuse
# 3.14 itself leaks the request it was serving when the kernel aborts the
# connection (allocated in libfuse, see tests/valgrind.supp), so
# LeakSanitizer is off for this one mount; every other mount checks leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
# a worker reading the device when the kernel aborts the connection: libfuse
# 3.14 reports it with perror(3), straight to stderr, past our log
log_expect '^fuse: reading device: Software caused connection abort$'
mnt_start -o cache_ttl=0,timeout=10,max_stale=0 || exit 1
emu_fault '{"latency": 2, "count": 1, "endpoint": "list_workspaces"}'
ls "$MNT" >/dev/null 2>&1 &
LS_PID=$!
sleep 0.5
fusermount3 -u -z "$MNT"
wait "$LS_PID"
rc=0
for _ in $(seq 100); do kill -0 "$EXFS_PID" 2>/dev/null || break; sleep 0.1; done
wait "$EXFS_PID" || rc=$?
EXFS_PID=
expect "unmount with a request in flight: the daemon exits 0" "$rc" "0"
finish
