#!/usr/bin/env bash
# Canary token: mount at debug level (-d) with a recognisable token, do
# every kind of operation including failures, then look for the token in
# every log, every file of the mount, the daemon's argv, and its environment.
# Then the same for a login: every access, id and refresh token and device
# code the login service handed out (login, renewals, a 401 storm, a
# refused refresh) must be in no log, no output and no file but the 0600
# login file.
source "$(dirname "$0")/lib.sh"
# the warnings and errors this suite provokes on purpose (see finish)
log_expect \
	"$LOG_E"'draft canary-bad: spec\.json: "cluster_id" must be a UUID$' \
	"$LOG_E"'listing workspaces: list failed: HTTP (401|500): Injected fault: HTTP \1( \(after retries\))?$' \
	"$LOG_E"'workspace '"$LOG_UUID"': control: unknown command "bogus" \(known: start, stop\)$' \
	"$LOG_E"'workspace '"$LOG_UUID"': stop failed: HTTP 409: Workspace is already stopped$' \
	"$LOG_D"' *unique: [0-9]+, error: -[0-9]+ \([A-Za-z/ ]+\), outsize: [0-9]+$' \
	"$LOG_E"'access token: renewing the access token: HTTP 403: invalid_grant: Unknown or invalid refresh token\.; log in again \(exls login or exalsiusfs login\)$' \
	"$LOG_E"'listing workspaces: list failed: HTTP 401: Missing or invalid bearer token$' \
	"$LOG_E"'listing workspaces: the login can no longer be renewed: log in again \(exls login or exalsiusfs login\)$' \
	"$LOG_D"' *(LOOKUP|getattr\[[^]]*\]|open(\[[0-9]+\])? flags: 0x[0-9a-f]+) /[^/]+/error$'

CANARY="CANARY$RANDOM$RANDOM$RANDOM"
T_TOKEN=$CANARY
emu_start --demo --pending-delay 0.2 || exit 1
mnt_start -d -o cache_ttl=0,retries=1,timeout=2,max_stale=0 || exit 1
WS=$MNT/train-llama

ls -la "$MNT" >/dev/null
cat "$MNT"/*/status.json "$MNT"/*/status "$MNT"/*/id "$MNT"/*/error "$MNT/.stats" >/dev/null
echo stop >"$WS/control"; echo stop >"$WS/control" 2>/dev/null; echo bogus >"$WS/control" 2>/dev/null
mkdir "$MNT/canary-ws"
spec_json canary-ws >"$MNT/canary-ws/spec.json"
mkdir "$MNT/canary-bad"
printf '{"cluster_id": "x"}' >"$MNT/canary-bad/spec.json" 2>/dev/null
emu_fault '{"status": 500, "count": 4}'
ls "$MNT" >/dev/null 2>&1; echo start >"$WS/control" 2>/dev/null
emu_fault '{"status": 401, "count": 2}'
ls "$MNT" >/dev/null 2>&1
emu_fault '{"drop": true, "count": 2}'
ls "$MNT" >/dev/null 2>&1
emu_clear
rmdir "$MNT/canary-ws"
check "the debug log is not empty" test -s "$T_DIR/exfs.log"
check "the debug log shows FUSE requests" grep -q 'LOOKUP\|GETATTR\|getattr' "$T_DIR/exfs.log"

# t_harness.sh sets this to see that a dead mount fails the checks below
[ "${T_SECRETS_KILL_DAEMON:-}" ] && kill -9 "$EXFS_PID" && sleep 0.2

# no_canary NAME EXCLUDE PATH...: no file under PATH but those named
# EXCLUDE holds the canary; a grep that cannot read (a dead mount answers
# ENOTCONN) fails
no_canary() {
	local name=$1 excl=$2 out rc
	shift 2
	out=$(grep -rl ${excl:+--exclude="$excl"} -- "$CANARY" "$@" 2>&1)
	rc=$?
	case $rc in
	1) pass "$name" ;;
	0) fail "$name: in $out" ;;
	*) fail "$name: grep failed: $out" ;;
	esac
}
# proc_free NAME FILE: /proc/PID/FILE of the daemon is readable and has no canary
proc_free() {
	local data
	if ! data=$(tr '\0' '\n' <"/proc/$EXFS_PID/$2") || [ -z "$data" ]; then
		fail "$1: /proc/$EXFS_PID/$2 unreadable (is the daemon alive?)"
	elif grep -qF -- "$CANARY" <<<"$data"; then
		fail "$1"
	else
		pass "$1"
	fi
}

no_canary "the token is in no log and no file of the mount" "" "$T_DIR/exfs.log" "$T_DIR/emu.log" "$MNT"
proc_free "nor in the daemon's argv" cmdline
if [ -z "${EXFS_VALGRIND:-}" ]; then
	proc_free "nor in its environment" environ
else
	echo "# under valgrind /proc/PID/environ is valgrind's own, not the daemon's: not checked"
fi
check "core dumps are off for the daemon" grep -q 'Max core file size *0 *0' "/proc/$EXFS_PID/limits"
mnt_stop
check "the daemon exited cleanly at unmount" test $? -eq 0
no_canary "after unmount, no file in the test dir holds it" emu.log "$T_DIR"

# --- a login: exalsiusfs login (no Secret Service: our own file), renewals,
# a 401 storm and a refused refresh token, all at debug level
emu_admin POST auth '{"token_ttl": 4, "interval": 1}' >/dev/null
: >"$T_DIR/exfs.log"
env -u DBUS_SESSION_BUS_ADDRESS "$EXFS_BIN" login -o "auth_url=$EMU_URL" >"$T_DIR/login.log" 2>&1 &
LPID=$!
for _ in $(seq 50); do grep -q "enter the code" "$T_DIR/login.log" && break; sleep 0.1; done
emu_admin POST auth '{"device": "approve"}' >/dev/null
for _ in $(seq 100); do kill -0 $LPID 2>/dev/null || break; sleep 0.1; done
check "login succeeded" wait $LPID
MNT_TOKEN="" mnt_start -d -o "auth_url=$EMU_URL,cache_ttl=0,retries=1,timeout=2,max_stale=0" || exit 1
for _ in $(seq 12); do cat "$MNT"/*/status >/dev/null 2>&1; sleep 0.5; done
emu_admin POST auth '{"revoke_access": true}' >/dev/null
cat "$MNT"/*/status.json >/dev/null 2>&1
emu_admin POST auth '{"revoke_refresh": true, "revoke_access": true}' >/dev/null
ls "$MNT" >/dev/null 2>&1; sleep 4.5; ls "$MNT" >/dev/null 2>&1
check "the refused login was logged" grep -q "log in again" "$T_DIR/exfs.log"
emu_admin GET auth/secrets | jq -r '.secrets[]' >"$T_DIR/secrets.txt.keep"
check "the login service handed out tokens and a device code" test "$(wc -l <"$T_DIR/secrets.txt.keep")" -gt 6
hits() {	# files (of the arguments) holding any handed-out secret
	grep -rlF -f "$T_DIR/secrets.txt.keep" "$@" 2>/dev/null
}
expect "no login secret in the daemon's log, login's output or the mount" \
	"$(hits "$T_DIR/exfs.log" "$T_DIR/login.log" "$T_DIR/emu.log" "$MNT")" ""
check "nor in the daemon's argv or environment" bash -c \
	"! tr '\0' '\n' </proc/$EXFS_PID/cmdline | grep -qF -f '$T_DIR/secrets.txt.keep' && ! tr '\0' '\n' </proc/$EXFS_PID/environ | grep -qF -f '$T_DIR/secrets.txt.keep'"
mnt_stop
expect "after unmount, only the 0600 login file holds them" \
	"$(hits "$T_DIR" --exclude=secrets.txt.keep)" "$XDG_CONFIG_HOME/exalsiusfs/login.json"
expect "which is mode 0600" "$(stat -c %a "$XDG_CONFIG_HOME/exalsiusfs/login.json")" "600"
finish
