#!/usr/bin/env bash
# Control: start/stop through write(), the API call inside the write,
# cache invalidation after a command, EINVAL with no API call for a bogus
# command, EBUSY for a state conflict, and the error file.
source "$(dirname "$0")/lib.sh"
# the warnings and errors this suite provokes on purpose (see finish)
log_expect \
	"$LOG_E"'workspace '"$LOG_UUID"': control: unknown command "(bogus|reboot)" \(known: start, stop\)$' \
	"$LOG_E"'workspace '"$LOG_UUID"': start failed: HTTP 404: The workspace with ID '"$LOG_UUID"' was not found\.$' \
	"$LOG_E"'workspace '"$LOG_UUID"': stop failed: HTTP 409: Workspace is already stopped$' \
	"$LOG_E"'workspace '"$LOG_UUID"': start failed: HTTP 409: Workspace is already running$' \
	"$LOG_E"'workspace '"$LOG_UUID"': control: a NUL byte at offset 5 \(commands are text, one a line: start, stop\)$' \
	"$LOG_E"'workspace '"$LOG_UUID"': control: unknown command "(start\\x01stop|x\\x1B\[31m\\xFF\\x1B)" \(known: start, stop\)$' \
	"$LOG_E"'workspace '"$LOG_UUID"': start failed: HTTP 409: Injected fault: HTTP 409$'

emu_start --demo --pending-delay 0.3 || exit 1
mnt_start -o cache_ttl=60 || exit 1

WS=$MNT/train-llama
expect "train-llama starts RUNNING" "$(cat "$WS/status")" "RUNNING"
emu_reset
echo stop >"$WS/control"
expect "echo stop > control succeeds" "$?" "0"
expect "one stop call" "$(emu_count stop_workspace)" "1"
expect "status is STOPPED right after the write (cache invalidated)" "$(cat "$WS/status")" "STOPPED"
expect "status.json agrees" "$(jq -r .workspace_status "$WS/status.json")" "STOPPED"
expect "the refresh was one describe call, no list" \
	"$(emu_count describe_workspace) $(emu_count list_workspaces)" "1 0"

emu_reset
out=$(errno_of write "$WS/control" "stop")
expect "stop of a stopped workspace (409) is EBUSY from write" "$out" "EBUSY@write"
expect_match "error file holds the API's message" "$(cat "$WS/error")" "409"
echo start >"$WS/control" && sleep 0
expect "start after the failure works" "$(cat "$WS/status")" "RUNNING"
expect "a successful command clears the error file" "$(cat "$WS/error")" ""

emu_reset
out=$(errno_of write "$WS/control" "reboot")
expect "a bogus command is EINVAL" "$out" "EINVAL@write"
expect "and sends nothing to the API" "$(emu_count total)" "0"
expect_match "error names the bad command" "$(cat "$WS/error")" "reboot"
out=$(errno_of write "$WS/control" "")
# an empty write(2) never reaches the filesystem; the close succeeds
expect "an empty write is a no-op" "$out" "OK"
out=$(errno_of write "$WS/control" $'stop\nbogus\n')
expect "a batch with one bad line is EINVAL" "$out" "EINVAL@write"
expect "and sends nothing" "$(emu_count total)" "0"

emu_reset
printf '  STOP \n' >"$WS/control"
expect "white space and case are ignored" "$(cat "$WS/status")" "STOPPED"
printf 'start' >"$WS/control"
expect "printf without newline works" "$(cat "$WS/status")" "RUNNING"
expect "two commands, two calls" "$(emu_count stop_workspace) $(emu_count start_workspace)" "1 1"
out=$(errno_of write "$WS/control" $'stop\nstart\n')
expect "two commands in one write run in order" "$out" "OK"
expect "ends RUNNING" "$(cat "$WS/status")" "RUNNING"

# bash's printf writes each line apart: after a failed line, the rest of
# the output is refused and sends nothing; error keeps the reason
expect "RUNNING before" "$(cat "$WS/status")" "RUNNING"
emu_reset
printf 'start\nstop\n' >"$WS/control" 2>/dev/null
expect "printf 'start\\nstop\\n' on a RUNNING one fails" "$?" "1"
expect "start was sent, stop was not" "$(emu_count start_workspace) $(emu_count stop_workspace)" "1 0"
expect "still RUNNING" "$(cat "$WS/status")" "RUNNING"
expect_match "error keeps the 409" "$(cat "$WS/error")" "HTTP 409"

# NUL bytes are named, garbage is escaped when echoed into error
emu_reset
expect "start NUL stop is EINVAL" "$(errno_of write "$WS/control" $'start\x01stop' | head -1)" "EINVAL@write"
printf 'start\0stop' >"$T_DIR/nul"
expect "start NUL stop (a real NUL) is EINVAL" "$(cat "$T_DIR/nul" >"$WS/control" 2>/dev/null; echo $?)" "1"
# the error file: "TIME message"
expect "error names the NUL byte" "$(cut -d' ' -f2- "$WS/error")" \
	"control: a NUL byte at offset 5 (commands are text, one a line: start, stop)"
printf 'x\033[31m\xff\033' | cat >"$WS/control" 2>/dev/null
expect "garbage is escaped in error" "$(cut -d' ' -f2- "$WS/error")" \
	'control: unknown command "x\x1B[31m\xFF\x1B" (known: start, stop)'
expect "and nothing was sent" "$(emu_count total)" "0"

# a start retried after a cut reply meets its own effect (409): success
emu_reset
echo stop >"$WS/control"
emu_fault '{"truncated": true, "count": 1, "endpoint": "start_workspace"}'
expect "a start whose reply was lost, retried into a 409, succeeds" "$(errno_of write "$WS/control" start)" "OK"
expect "two start attempts and a describe" "$(emu_count start_workspace) $(emu_count describe_workspace)" "2 1"
expect_match "it is starting or running" "$(cat "$WS/status")" "^(PENDING|RUNNING)$"
expect "and error is empty" "$(cat "$WS/error")" ""
emu_clear
emu_fault '{"truncated": true, "count": 1, "endpoint": "stop_workspace"}'
expect "the same for stop" "$(errno_of write "$WS/control" stop)" "OK"
expect "STOPPED" "$(cat "$WS/status")" "STOPPED"
emu_clear
emu_fault '{"status": 409, "count": 1, "endpoint": "start_workspace"}'
expect "a 409 on the first attempt stays EBUSY" "$(errno_of write "$WS/control" start)" "EBUSY@write"
emu_clear
echo start >"$WS/control"

# the write returns only after the API answered: && chains see the result
emu_fault '{"latency": 1.0, "count": 1, "endpoint": "stop_workspace"}'
start=$(date +%s%N)
echo stop >"$WS/control" && st=$(cat "$WS/status")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect "echo stop > control && cat status sees STOPPED" "$st" "STOPPED"
check "the write waited for the slow API (${ms} ms >= 900)" test "$ms" -ge 900
emu_clear

# control of a workspace deleted by another client: 404 -> ENOENT
victim=$MNT/notebook-a100
vid=$(cat "$victim/id")
api DELETE "/workspace/$vid" >/dev/null
out=$(errno_of write "$victim/control" "start")
expect "command on a workspace deleted elsewhere is ENOENT" "$out" "ENOENT@write"
check "and its directory disappears at once" test ! -e "$victim"

check "control of a read-only file is refused" test "$(errno_of write "$WS/status" x)" = "EACCES@open"
mnt_stop
check "daemon exited cleanly" test $? -eq 0
finish
