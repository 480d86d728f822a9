#!/usr/bin/env bash
# demo.sh: mount exalsiusfs on a bundled emulator with sample workspaces,
# print commands to try, and clean everything up on Ctrl-C.
#   EXFS_DEMO_MNT      mountpoint (default /tmp/exalsiusfs-demo)
#   EXFS_DEMO_SECONDS  stop by itself after this many seconds (default: never)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/build/exalsiusfs}
MNT=${EXFS_DEMO_MNT:-/tmp/exalsiusfs-demo}
WORK=$(mktemp -d /tmp/exalsiusfs-demo-run.XXXXXX)
# a throwaway token shared by the emulator and the mount, through the environment only
EXALSIUS_TOKEN="demo-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
export EXALSIUS_TOKEN
EMU_PID=
FS_PID=

cleanup() {
	trap - INT TERM EXIT
	echo
	echo "demo: unmounting $MNT and stopping the emulator"
	if grep -qs " $MNT fuse" /proc/mounts; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT"
	fi
	[ -n "$FS_PID" ] && wait "$FS_PID" 2>/dev/null
	[ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
	rm -rf "$WORK"
	rmdir "$MNT" 2>/dev/null
	exit 0
}
trap cleanup INT TERM EXIT

if grep -qs " $MNT fuse" /proc/mounts; then
	echo "demo: $MNT is still mounted from an earlier run; unmounting it"
	fusermount3 -u "$MNT" || fusermount3 -u -z "$MNT"
fi
[ -x "$BIN" ] || { echo "demo: $BIN is missing; run make first" >&2; exit 1; }
mkdir -p "$MNT"

python3 "$ROOT/scripts/emulator.py" --port 0 --port-file "$WORK/port" --demo \
	--pending-delay 5 --quiet 2>"$WORK/emulator.log" &
EMU_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || { echo "demo: the emulator did not start:" >&2; cat "$WORK/emulator.log" >&2; exit 1; }
PORT=$(cat "$WORK/port")

"$BIN" -f -o "api_url=http://127.0.0.1:$PORT/v1,cache_ttl=2" "$MNT" 2>"$WORK/exalsiusfs.log" &
FS_PID=$!
for _ in $(seq 100); do grep -qs " $MNT fuse" /proc/mounts && break; sleep 0.1; done
grep -qs " $MNT fuse" /proc/mounts || { echo "demo: mount failed:" >&2; cat "$WORK/exalsiusfs.log" >&2; exit 1; }

CID=$(jq -r '.cluster_id' "$MNT/train-llama/status.json")
cat <<MSG
exalsiusfs demo: the emulator runs on 127.0.0.1:$PORT and is mounted on

    $MNT

Try, in another shell:

    ls -l $MNT
    cat $MNT/*/status
    jq -r '.resources.gpu_type' $MNT/*/status.json
    grep -l STOPPED $MNT/*/status | xargs -n1 dirname
    echo start > $MNT/notebook-a100/control && cat $MNT/notebook-a100/status
    tail -f $MNT/notebook-a100/logs        # its start-up, line by line (Ctrl-C ends it)
    grep -m1 'Started container' $MNT/notebook-a100/logs.follow
    cat $MNT/train-llama/logs
    echo stop > $MNT/train-llama/control && cat $MNT/train-llama/status
    echo reboot > $MNT/train-llama/control; cat $MNT/train-llama/error
    mkdir $MNT/my-notebook
    cat $MNT/my-notebook/spec.json
    jq '.cluster_id = "$CID"' $MNT/my-notebook/spec.json > /tmp/spec.json
    cp /tmp/spec.json $MNT/my-notebook/spec.json && cat $MNT/my-notebook/status
    watch -n1 cat $MNT/my-notebook/status        # PENDING, then RUNNING
    rmdir $MNT/my-notebook

Press Ctrl-C here to unmount and stop the emulator.
MSG

if [ -n "${EXFS_DEMO_SECONDS:-}" ]; then
	sleep "$EXFS_DEMO_SECONDS" &
	wait $!
else
	wait "$FS_PID"
fi
