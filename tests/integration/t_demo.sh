#!/usr/bin/env bash
# The README's first command path: scripts/demo.sh mounts on the bundled
# emulator, every example command it prints works, and stopping it leaves
# no mount and no emulator behind.
source "$(dirname "$0")/lib.sh"

DEMO_MNT=$T_DIR/demo
EXFS_DEMO_MNT=$DEMO_MNT EXFS_DEMO_SECONDS=120 "$ROOT/scripts/demo.sh" "$EXFS_BIN" \
	>"$T_DIR/demo.log" 2>&1 &
DEMO_PID=$!
for _ in $(seq 150); do grep -q 'Press Ctrl-C' "$T_DIR/demo.log" && break; sleep 0.1; done
check "the demo mounts and prints its examples" grep -q 'Press Ctrl-C' "$T_DIR/demo.log"
check "the printed mountpoint is mounted" grep -qs " $DEMO_MNT fuse" /proc/mounts

n=0
while IFS= read -r cmd; do
	# watch and tail -f run until Ctrl-C (t_logs.sh follows logs)
	case "$cmd" in watch* | "tail -f"*) continue ;; esac
	n=$((n + 1))
	if timeout 20 bash -c "$cmd" >"$T_DIR/cmd.out" 2>&1; then
		pass "example works: $cmd"
	else
		fail "example works: $cmd ($(head -c 200 "$T_DIR/cmd.out"))"
	fi
done < <(sed -n '/^Try/,/^Press/p' "$T_DIR/demo.log" | grep '^    ' | sed 's/^    //; s/ *#.*$//')
check "there were at least 10 examples ($n)" test "$n" -ge 10
expect "the created workspace exists, then is removed" "$(ls "$DEMO_MNT" | grep -c my-notebook)" "0"

kill -TERM "$DEMO_PID"
wait "$DEMO_PID"
expect "the demo exits 0 when stopped" "$?" "0"
check "no mount is left" bash -c "! grep -qs ' $DEMO_MNT fuse' /proc/mounts"
check "the demo's emulator is gone" bash -c "command -v pgrep >/dev/null && ! pgrep -f '[e]mulator.py --port 0 --port-file /tmp/exalsiusfs-demo-run' >/dev/null"
finish
