#!/usr/bin/env bash
# Core rules under concurrency and change: one open handle shared by many
# threads, names that never move to another workspace, drafts that are
# never shadowed, a deleted workspace that hides no draft.
source "$(dirname "$0")/lib.sh"
# the failures this suite provokes on purpose (see finish)
log_expect \
	"$LOG_E"'workspace '"$LOG_UUID"': start failed: HTTP 409: Workspace is already running$' \
	"$LOG_E"'workspace '"$LOG_UUID"': POST '"$LOG_URL"'/workspace/'"$LOG_UUID"'/stop: Failed to connect to .*$' \
	"$LOG_E"'refreshing train-llama: GET '"$LOG_URL"'/workspace/'"$LOG_UUID"': Failed to connect to .*$' \
	"$LOG_W"'listing workspaces: GET '"$LOG_URL"'/workspaces: Failed to connect to .* \(serving the last listing\)$'

emu_start --demo || exit 1
mnt_start -o cache_ttl=1 || exit 1

# --- one fd, many threads (a crash: "double free or corruption") --------
THREADS=16 PREADS=${CORE_PREADS:-2000}
[ "${EXFS_VALGRIND:-}" ] && PREADS=100
out=$(python3 - "$MNT/train-llama/status.json" "$THREADS" "$PREADS" <<'PY'
import os, sys, threading
path, nthreads, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fd = os.open(path, os.O_RDONLY)
want = os.pread(fd, 1 << 20, 0)
bad = []
def run(k):
    try:
        for i in range(n):
            off = (i * 7 + k) % 64 if i % 2 else 0
            got = os.pread(fd, 1 << 16, off)
            if got != want[off:off + (1 << 16)]:
                bad.append("thread %d read %d: %d bytes differ" % (k, i, len(got)))
                return
    except OSError as e:
        bad.append("thread %d: %s" % (k, e))
ts = [threading.Thread(target=run, args=(k,)) for k in range(nthreads)]
for t in ts: t.start()
for t in ts: t.join()
os.close(fd)
print("OK %d" % len(want) if not bad and want else "FAIL " + "; ".join(bad[:3]))
PY
)
expect_match "$THREADS threads x $PREADS preads on one status.json fd all read it whole" "$out" '^OK [1-9]'
check "the daemon survived" kill -0 "$EXFS_PID"

# --- the error file: the last failure with its time, cleared by success ----
WS=$MNT/train-llama
expect "start on a RUNNING workspace is EBUSY" "$(errno_of write "$WS/control" start)" "EBUSY@write"
expect_match "error holds the time and what failed" "$(cat "$WS/error")" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z start failed: HTTP 409'
check "a stop succeeds" bash -c "echo stop >'$WS/control'"
expect "and clears the control failure" "$(cat "$WS/error")" ""
check "start again" bash -c "echo start >'$WS/control'"

# --- a name never moves to another workspace ------------------------------
CL=11111111-1111-4111-8111-111111111111
dup='"cluster_id": "'$CL'", "template": {"name": "jupyter-notebook", "variables": {"notebook_port": "8888"}}, "resources": {"gpu_count": 1, "gpu_type": "A100", "gpu_vendor": "NVIDIA", "cpu_cores": 4, "memory_gb": 16, "storage_gb": 100}'
api POST /workspaces "{\"name\": \"twin\", $dup}" >/dev/null
sleep 0.01
# the emulator refuses a second name in one cluster; inject the twin raw
id1=$(api GET /workspaces | jq -r '.workspaces[] | select(.name=="twin") | .id')
twin=$(api GET "/workspace/$id1" | jq -c '.workspace | .id="abcdef12-3456-4789-8abc-def012345678" | .created_at="2099-01-01T00:00:00Z"')
emu_admin POST workspaces "$twin" >/dev/null
echo refresh >"$MNT/.ctl"
expect "two workspaces named twin: the older is plain, the other suffixed" \
	"$(ls "$MNT" | grep '^twin' | tr '\n' ' ')" "twin twin@abcdef12 "
check "rmdir twin deletes the older one" rmdir "$MNT/twin"
expect "a retried rmdir twin is ENOENT" "$(errno_of rmdir "$MNT/twin")" "ENOENT@rmdir"
expect "a control write to twin is ENOENT" "$(errno_of write "$MNT/twin/control" stop)" "ENOENT@open"
echo refresh >"$MNT/.ctl"
expect "after a refresh the survivor keeps its suffixed name" \
	"$(ls "$MNT" | grep '^twin' | tr '\n' ' ')" "twin@abcdef12 "
expect "and twin is still ENOENT" "$(errno_of stat "$MNT/twin")" "ENOENT@stat"
expect "the survivor was never deleted" \
	"$(api GET /workspaces | jq -r '.workspaces[] | select(.name=="twin") | .id')" "abcdef12-3456-4789-8abc-def012345678"

# --- a draft is never shadowed ----------------------------------------------
mkdir "$MNT/coll"
api POST /workspaces "{\"name\": \"coll\", $dup}" >/dev/null
cid=$(api GET /workspaces | jq -r '.workspaces[] | select(.name=="coll") | .id')
echo refresh >"$MNT/.ctl"
expect "a workspace named like a draft shows suffixed beside it" \
	"$(ls "$MNT" | grep '^coll' | tr '\n' ' ')" "coll coll@${cid:0:8} "
expect "the draft still holds spec.json and error" "$(ls "$MNT/coll" | tr '\n' ' ')" "error spec.json "
emu_reset
check "rmdir coll removes the draft" rmdir "$MNT/coll"
expect "and sends no DELETE" "$(emu_count delete_workspace)" "0"
expect "the other client's workspace still exists" \
	"$(api GET "/workspace/$cid" | jq -r .workspace.name)" "coll"

# --- a draft holding other files is not empty ----------------------------------
mkdir "$MNT/notes"
echo "remember the port" >"$MNT/notes/.notes.swp"
expect "rmdir of a draft with an editor's file is ENOTEMPTY" "$(errno_of rmdir "$MNT/notes")" "ENOTEMPTY@rmdir"
rm "$MNT/notes/.notes.swp"
check "once it is gone, rmdir works" rmdir "$MNT/notes"

# --- a deleted workspace still listed hides no draft ------------------------
emu_admin POST config '{"keep_deleted": true}' >/dev/null
check "rmdir notebook-a100" rmdir "$MNT/notebook-a100"
check "mkdir notebook-a100 again makes a draft" mkdir "$MNT/notebook-a100"
echo refresh >"$MNT/.ctl"
expect "the API still lists the deleted one" \
	"$(api GET /workspaces | jq -r '.workspaces[] | select(.name=="notebook-a100") | .workspace_status')" "DELETED"
check "ls shows the new draft" bash -c "ls '$MNT' | grep -qx notebook-a100"
expect "stat agrees: a draft directory" "$(ls "$MNT/notebook-a100" | tr '\n' ' ')" "error spec.json "
spec_json notebook-a100 >"$T_DIR/nb.json"
check "the draft is created" cp "$T_DIR/nb.json" "$MNT/notebook-a100/spec.json"
new=$(api GET /workspaces | jq -r '.workspaces[] | select(.name=="notebook-a100" and .workspace_status!="DELETED") | .id')
expect "the created workspace has the draft's name" "$(cat "$MNT/notebook-a100/id")" "$new"
echo refresh >"$MNT/.ctl"
expect "and keeps it after a refresh" "$(cat "$MNT/notebook-a100/id")" "$new"
emu_admin POST config '{"keep_deleted": false}' >/dev/null
mnt_stop
check "daemon exited cleanly" test $? -eq 0

# --- umask only takes bits away --------------------------------------------
mnt_start -o umask=077 || exit 1
expect "umask=077: status.json is -r--------" "$(stat -c %A "$MNT/train-llama/status.json")" "-r--------"
expect "control is -rw-------" "$(stat -c %A "$MNT/train-llama/control")" "-rw-------"
expect "a workspace directory is drwx------" "$(stat -c %A "$MNT/train-llama")" "drwx------"
mnt_stop
check "daemon exited cleanly" test $? -eq 0

# --- cache_ttl=0: one list request per open or readdir, none per lookup ----
mnt_start -o cache_ttl=0 || exit 1
ls "$MNT" >/dev/null
N=$(ls "$MNT" | wc -l)
emu_reset
cat "$MNT/train-llama/status" >/dev/null
expect "cache_ttl=0: one cat costs one list request" "$(emu_count list_workspaces)" "1"
emu_reset
ls -l "$MNT" >/dev/null
expect "cache_ttl=0: ls -l of $N entries costs one" "$(emu_count list_workspaces)" "1"
emu_reset
cat "$MNT"/*/status >/dev/null
expect "cache_ttl=0: cat */status costs the glob's readdir plus one per open" \
	"$(emu_count list_workspaces)" "$((N + 1))"
mnt_stop
check "daemon exited cleanly" test $? -eq 0

# --- a slow API never slows reads while a listing is held -------------------
TTL=1
[ "${EXFS_VALGRIND:-}" ] && TTL=5
mnt_start -o cache_ttl=$TTL -o timeout=2 || exit 1
cat "$MNT"/*/status >/dev/null
sleep $((TTL + 1))	# the listing is past its TTL now
emu_reset
emu_fault '{"latency": 4, "count": 50, "endpoint": "list_workspaces"}'
t0=$(date +%s%N)
okc=0
for i in 1 2 3; do cat "$MNT"/*/status "$MNT"/*/status.json >/dev/null && okc=$((okc + 1)); done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "three sweeps over a list slower than the timeout all succeed" "$okc" "3"
check "and are served from the held listing at once (${ms} ms < 1500)" test "$ms" -lt 1500
expect "while one refresh runs in the background" "$(emu_count list_workspaces)" "1"
emu_clear

# --- the error file is local: readable while the API is down ----------------
WS=$MNT/train-llama
before=$(cat "$WS/status")
emu_stop
expect "a control write with the API down fails" "$(errno_of write "$WS/control" stop)" "EHOSTUNREACH@write"
expect "the workspace's status is still served" "$(cat "$WS/status" 2>&1)" "$before"
expect_match "its error file says what failed" "$(cat "$WS/error" 2>&1)" "connect|reach|refused"
mnt_stop
check "daemon exited cleanly" test $? -eq 0
finish
