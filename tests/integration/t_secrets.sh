#!/usr/bin/env bash
# Canary token: mount at debug level (-d) with a recognisable token, do
# every kind of operation including failures, then look for the token in
# every log, every file of the mount, the daemon's argv, and its environment.
source "$(dirname "$0")/lib.sh"

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

leak=$(grep -rl -- "$CANARY" "$T_DIR/exfs.log" "$T_DIR/emu.log" "$MNT" 2>/dev/null)
expect "the token is in no log and no file of the mount" "$leak" ""
check "nor in the daemon's argv" bash -c "! tr '\0' ' ' </proc/$EXFS_PID/cmdline | grep -q '$CANARY'"
if [ -z "${EXFS_VALGRIND:-}" ]; then
	check "nor in its environment" bash -c "! tr '\0' '\n' </proc/$EXFS_PID/environ | grep -q '$CANARY'"
else
	echo "# under valgrind /proc/PID/environ is valgrind's own, not the daemon's: not checked"
fi
check "core dumps are off for the daemon" bash -c "grep -q 'Max core file size *0 *0' /proc/$EXFS_PID/limits"
mnt_stop
leak=$(grep -rl -- "$CANARY" "$T_DIR" 2>/dev/null | grep -v '/emu.log$')
expect "after unmount, no file in the test dir holds it" "$leak" ""
finish
