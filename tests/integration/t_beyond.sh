#!/usr/bin/env bash
# The files beyond the seed: access, logs, wait/STATE and poll(2), .by-id,
# .by-cluster, .templates, .workspaces.tsv, .ctl, editing drafts with
# sed -i / vim / nano, token_cmd and token_file rotation, and mounting the
# Unix way (mount -t, an fstab line, make install, the man page).
source "$(dirname "$0")/lib.sh"
# the warnings and errors this suite provokes on purpose (see finish)
log_expect \
	"$LOG_E"'\.ctl: unknown command \(known: refresh, refresh NAME\)$' \
	"$LOG_E"'draft ed-sed: spec\.json: "name" \(PLACEHOLDER\) differs from the directory'"'"'s name \(ed-sed\)$' \
	"$LOG_E"'draft untouched: spec\.json: "cluster_id" is empty: set it to the id of the cluster to create on \(ls \.by-cluster shows the clusters\)$' \
	"$LOG_E"'draft tpl-draft: spec\.json: template "jupyter-notebook" has no variable "bogus" \(known: notebook_port, notebook_password\)$' \
	"$LOG_E"'draft tpl-draft: spec\.json: unknown template "nope" \(known: jupyter-notebook, vscode-devcontainer, llm-inference\)$' \
	"$LOG_E"'listing workspaces: list failed: HTTP 401: Missing or invalid bearer token$' \
	"$LOG_E"'wait for RUNNING on notebook-a100: still not RUNNING after [0-9]+ s \(wait_timeout\)$' \
	"$LOG_E"'wait for RUNNING on train-llama@4b3f0c8e: workspace FAILED while waiting for RUNNING$'

emu_start --demo --seed 12 --pending-delay 1.5 || exit 1
mnt_start -o cache_ttl=2,wait_timeout=3 || exit 1
WS=$MNT/train-llama
ID=$(cat "$WS/id")
CLUSTER=$(jq -r .cluster_id "$WS/status.json")

# 1. access
want_ip=$(jq -r '.access_information[] | select(.access_protocol == "SSH") | .external_ips[0]' "$WS/status.json")
want_port=$(jq -r '.access_information[] | select(.access_protocol == "SSH") | .port_number' "$WS/status.json")
expect "access: the first line is the ssh command" "$(head -1 "$WS/access")" "ssh -p $want_port dev@$want_ip"
expect_match "access: notes name the port and description" "$(grep '^# ' "$WS/access" | head -1)" "^# ssh -p $want_port dev@$want_ip: ssh"
mkdir -p "$T_DIR/fakebin"
printf '#!/bin/sh\necho "fake ssh $*"\n' >"$T_DIR/fakebin/ssh"
chmod +x "$T_DIR/fakebin/ssh"
expect 'access: $(head -1 ws/access) runs ssh with the right arguments' \
	"$(PATH=$T_DIR/fakebin:$PATH; $(head -1 "$WS/access"))" "fake ssh -p $want_port dev@$want_ip"
emu_admin POST workspaces '[{"id": "aaaaaaaa-0000-4000-8000-000000000001", "name": "acc-test", "cluster_id": "'"$CLUSTER"'",
  "workspace_status": "RUNNING", "created_at": "2026-02-01T00:00:00Z", "template": {"name": "jupyter-notebook", "variables": {}},
  "resources": {"gpu_count": 2, "gpu_type": "H100"},
  "access_information": [
    {"access_type": "NODE_PORT", "access_protocol": "SSH", "port_number": 22, "external_ips": ["203.0.113.7"], "port_name": "ssh"},
    {"access_type": "NODE_PORT", "access_protocol": "HTTPS", "port_number": 8443, "external_ips": ["203.0.113.7"], "access_description": "web"},
    {"access_type": "NODE_PORT", "access_protocol": "HTTP", "port_number": 8888, "external_ips": []}]}]' >/dev/null
printf refresh >"$MNT/.ctl"
expect "access: port 22, https, and <pending> without an IP" "$(grep -v '^#' "$MNT/acc-test/access" | tr '\n' '|')" \
	"ssh dev@203.0.113.7|https://203.0.113.7:8443|<pending>|"

# 2. logs
# (the API's log is a stream: what the emulator holds is asked of its
# admin API; t_logs.sh follows it)
emu_reset
n_api=$(emu_admin GET "logs?id=$ID" | jq '.lines | length')
first=$(emu_admin GET "logs?id=$ID" | jq -r '.lines[0] | "\(.timestamp) \(.pod_name) \(.log_message)"')
expect "logs: one line per log record" "$(grep -c . "$WS/logs")" "$n_api"
expect "logs: TIMESTAMP POD MESSAGE" "$(head -1 "$WS/logs")" "$first"
expect "logs: two reads are one logs request" "$(cat "$WS/logs" >/dev/null; emu_count get_workspace_logs)" "1"

# 3. waiting: success, timeout, FAILED, poll(2)
mkdir "$MNT/waiter"
spec_json waiter >"$MNT/waiter/spec.json"
expect "the new workspace is PENDING" "$(cat "$MNT/waiter/status")" "PENDING"
t=$(date +%s%N)
expect "cat wait/RUNNING blocks until RUNNING" "$(cat "$MNT/waiter/wait/RUNNING")" "RUNNING"
ms=$(( ($(date +%s%N) - t) / 1000000 ))
check "it waited for the transition (${ms} ms >= 500)" test "$ms" -ge 500
expect "and status agrees right away" "$(cat "$MNT/waiter/status")" "RUNNING"
expect "wait/ lists nothing (find and grep -r never block)" "$(ls -A "$MNT/waiter/wait" | wc -l)" "0"
expect "a wait file must be an upper-case state" "$(errno_of stat "$MNT/waiter/wait/running")" "ENOENT@stat"
t=$(date +%s%N)
expect "waiting past wait_timeout is ETIMEDOUT" "$(errno_of read "$MNT/notebook-a100/wait/RUNNING")" "ETIMEDOUT@open"
ms=$(( ($(date +%s%N) - t) / 1000000 ))
check "after about wait_timeout=3 s (${ms} ms)" test "$ms" -ge 2500 -a "$ms" -lt 6000
expect_match "error says why" "$(cat "$MNT/notebook-a100/error")" "still not RUNNING"
expect "waiting on a FAILED workspace fails at once (EIO)" "$(errno_of read "$MNT/train-llama@4b3f0c8e/wait/RUNNING")" "EIO@open"
# poll(2): POLLPRI when status changes, then a read from 0 shows the new one
"$PY" - "$WS/status" "$EMU_URL" "$T_TOKEN" "$ID" >"$T_DIR/poll.out" 2>&1 <<'PY' &
import os, select, sys, time, urllib.request
path, url, token, wid = sys.argv[1:]
fd = os.open(path, os.O_RDONLY)
before = os.read(fd, 100).decode().strip()
p = select.poll()
p.register(fd, select.POLLPRI)
quiet = p.poll(1500)              # nothing changes: times out
req = urllib.request.Request(url + "/v1/workspace/%s/stop" % wid, method="POST",
                             headers={"Authorization": "Bearer " + token})
urllib.request.urlopen(req, timeout=10).read()
t = time.time()
ev = p.poll(15000)
os.lseek(fd, 0, 0)
after = os.read(fd, 100).decode().strip()
print(before, len(quiet), "PRI" if ev and ev[0][1] & select.POLLPRI else "none", after, round(time.time() - t))
PY
POLL_PID=$!
wait "$POLL_PID"
read -r p_before p_quiet p_ev p_after p_secs <"$T_DIR/poll.out"
expect "poll: no event while nothing changes" "$p_before $p_quiet" "RUNNING 0"
expect "poll: POLLPRI when another client stopped it; reading again shows it" "$p_ev $p_after" "PRI STOPPED"
check "poll: woke within cache_ttl + 2 s (${p_secs} s)" test "${p_secs:-99}" -le 4

# 4. .by-id and .by-cluster
expect ".by-id/<uuid> links to ../<name>" "$(readlink "$MNT/.by-id/$ID")" "../train-llama"
expect "and resolves" "$(cat "$MNT/.by-id/$ID/id")" "$ID"
expect ".by-id lists every workspace" "$(ls "$MNT/.by-id" | wc -l)" "$(ls "$MNT" | wc -l)"
expect ".by-cluster lists the clusters" "$(ls "$MNT/.by-cluster" | sort | tr '\n' ' ')" \
	"$(jq -r .cluster_id "$MNT"/*/status.json | sort -u | tr '\n' ' ')"
expect ".by-cluster/<id> lists that cluster's workspaces" "$(ls "$MNT/.by-cluster/$CLUSTER" | wc -l)" \
	"$(jq -r .cluster_id "$MNT"/*/status.json | grep -c "$CLUSTER")"
expect ".by-cluster links resolve" "$(cat "$MNT/.by-cluster/$CLUSTER/train-llama/id")" "$ID"
expect "an unknown id" "$(errno_of stat "$MNT/.by-id/00000000-0000-4000-8000-000000000000")" "ENOENT@stat"

# 5. .templates
ntpl=$(api GET /management/workspace-templates | jq '.workspace_templates | length')
expect ".templates has one file per template" "$(ls "$MNT/.templates" | wc -l)" "$ntpl"
expect "a template file is the API's object" "$(jq -c . "$MNT/.templates/jupyter-notebook.json")" \
	"$(api GET /management/workspace-templates | jq -c '.workspace_templates[] | select(.name == "jupyter-notebook")')"
mkdir "$MNT/tpl-draft"
expect "a fresh draft's skeleton uses a real template and its variables" \
	"$(jq -c .template "$MNT/tpl-draft/spec.json")" \
	"$(jq -c '{name, variables}' "$MNT/.templates/jupyter-notebook.json")"
expect "an unknown template is refused before sending" \
	"$(errno_of write "$MNT/tpl-draft/spec.json" "$(spec_json tpl-draft | jq -c '.template.name = "nope"')")" "EINVAL@write"
expect_match "with the reason" "$(cat "$MNT/tpl-draft/error")" "unknown template \"nope\" \\(known: "
expect "an unknown variable is refused" \
	"$(errno_of write "$MNT/tpl-draft/spec.json" "$(spec_json tpl-draft | jq -c '.template.variables.bogus = "1"')")" "EINVAL@write"
expect_match "naming it and the known ones" "$(cat "$MNT/tpl-draft/error")" "no variable \"bogus\" \\(known: notebook_port"

# 6. .workspaces.tsv
tsv=$MNT/.workspaces.tsv
expect ".workspaces.tsv has a header" "$(head -1 "$tsv")" "$(printf 'name\tid\tstatus\tcluster\ttemplate\tgpus\tcreated')"
expect "and one line per workspace (drafts are not workspaces)" "$(($(wc -l <"$tsv") - 1))" "$(ls "$MNT/.by-id" | wc -l)"
expect "7 tab-separated fields on every line" "$(awk -F'\t' 'NF != 7' "$tsv" | wc -l)" "0"
expect "fields agree with the files" "$(awk -F'\t' '$1 == "acc-test" {print $2, $3, $6}' "$tsv")" \
	"aaaaaaaa-0000-4000-8000-000000000001 RUNNING 2xH100"
check "column -t reads it" bash -c "column -t -s \$'\t' '$tsv' | grep -q '^acc-test '"

# 7. .ctl
cat "$WS/status" >/dev/null
emu_reset
printf 'refresh\n' >"$MNT/.ctl"
cat "$WS/status" >/dev/null
expect ".ctl refresh: the next read lists again" "$(emu_count list_workspaces)" "1"
emu_reset
echo "refresh train-llama" >"$MNT/.ctl"
cat "$WS/status" >/dev/null
expect ".ctl refresh NAME: one describe, no list" "$(emu_count describe_workspace) $(emu_count list_workspaces)" "1 0"
expect ".ctl: unknown command" "$(errno_of write "$MNT/.ctl" "reboot")" "EINVAL@write"
expect ".ctl: unknown name" "$(errno_of write "$MNT/.ctl" "refresh nope")" "ENOENT@write"

# 8. editors on drafts
mkdir "$MNT/ed-sed"
cp "$MNT/ed-sed/spec.json" "$T_DIR/skel.json"
jq --arg c "$CLUSTER" '.cluster_id = $c' "$T_DIR/skel.json" >"$T_DIR/good.json"
printf '%s' "$(jq -c --arg c "$CLUSTER" '.cluster_id = $c | .name = "PLACEHOLDER"' "$T_DIR/skel.json")" >"$MNT/ed-sed/spec.json" 2>/dev/null
expect "a spec with a wrong name waits in the draft" "$(cat "$MNT/ed-sed/status" 2>/dev/null || echo draft)" "draft"
check "sed -i fixes it (temp file renamed onto spec.json) and creates" sed -i 's/PLACEHOLDER/ed-sed/' "$MNT/ed-sed/spec.json"
expect "ed-sed is a workspace now" "$(cat "$MNT/ed-sed/status")" "PENDING"
mkdir "$MNT/ed-vim"
check "vim edits and writes spec.json (swap file, temp files)" \
	timeout 20 "$(command -v vim || command -v vim.tiny)" -E -s -N -u NONE -i NONE -c "%s/\"cluster_id\": \"\"/\"cluster_id\": \"$CLUSTER\"/" -c 'wq' "$MNT/ed-vim/spec.json"
expect "ed-vim is a workspace now" "$(cat "$MNT/ed-vim/status" 2>/dev/null)" "PENDING"
# an untouched skeleton never creates: without -o cluster, and with
# several clusters listed, its cluster_id is blank and refused by name
mkdir "$MNT/untouched"
expect "several clusters: the skeleton leaves cluster_id blank" "$(jq -r .cluster_id "$MNT/untouched/spec.json")" ""
cp "$MNT/untouched/spec.json" "$T_DIR/untouched.json"
expect "saving the untouched skeleton is refused" \
	"$(errno_of write "$MNT/untouched/spec.json" "$(cat "$T_DIR/untouched.json")")" "EINVAL@write"
expect_match "naming the field" "$(cat "$MNT/untouched/error")" '"cluster_id" is empty: set it'
check "vim -es -c wq of it is refused" bash -c "! timeout 20 $(command -v vim || command -v vim.tiny) -E -s -N -u NONE -i NONE -c wq '$MNT/untouched/spec.json'"
check "a sed -i that only changes gpu_count is refused" \
	bash -c "! sed -i 's/\"gpu_count\": 1/\"gpu_count\": 2/' '$MNT/untouched/spec.json'"
check "nothing was created" test ! -e "$MNT/untouched/status"
expect "no workspace of that name on the API" "$(api GET /workspaces | jq '[.workspaces[] | select(.name == "untouched")] | length')" 0
rmdir "$MNT/untouched"
mkdir "$MNT/ed-nano"
if command -v nano >/dev/null && command -v tmux >/dev/null; then
	cp "$T_DIR/good.json" "$T_DIR/nano-src.json"
	sed -i 's/"name": "ed-sed"/"name": "ed-nano"/' "$T_DIR/nano-src.json"
	tmux -L exfs-$$ new-session -d -x 120 -y 40 "nano --ignorercfiles '$MNT/ed-nano/spec.json'"
	sleep 1
	# replace the skeleton's whole content: select all, cut, insert the file
	tmux -L exfs-$$ send-keys M-\\ M-a M-/ C-k C-r "$T_DIR/nano-src.json" Enter C-o Enter C-x
	for _ in $(seq 50); do tmux -L exfs-$$ has-session 2>/dev/null || break; sleep 0.1; done
	tmux -L exfs-$$ kill-server 2>/dev/null
	expect "nano writes spec.json and creates" "$(cat "$MNT/ed-nano/status" 2>/dev/null)" "PENDING"
else
	fail "nano and tmux are installed (scripts/install-deps.sh)"
fi
expect "no editor file is left in a finished draft" "$(ls -A "$MNT" | grep -c '^ed-.*swp')" "0"
mkdir "$MNT/ed-temp"
check "drafts take temporary files" bash -c "echo hi > '$MNT/ed-temp/notes.txt'"
expect "which read back" "$(cat "$MNT/ed-temp/notes.txt")" "hi"
check "and can be removed" rm "$MNT/ed-temp/notes.txt"
expect "workspaces take none" "$(errno_of create "$WS/notes.txt")" "EPERM@open"
mnt_stop

# 9. credentials: token_cmd and token_file, with the emulator rotating tokens
printf '%s\n' "$T_TOKEN" >"$T_DIR/tok"
chmod 600 "$T_DIR/tok"
printf '#!/bin/sh\necho "$(cat %s)"\necho ran >> %s\n' "$T_DIR/tok" "$T_DIR/cmd-runs" >"$T_DIR/tokcmd.sh"
chmod 700 "$T_DIR/tokcmd.sh"
MNT_TOKEN="" mnt_start -o cache_ttl=0,max_stale=0,token_cmd="$T_DIR/tokcmd.sh" || exit 1
check "token_cmd: the mount works" test -d "$WS"
runs=$(wc -l <"$T_DIR/cmd-runs")
emu_admin POST token '{"token": "rotated-one"}' >/dev/null
printf 'rotated-one\n' >"$T_DIR/tok"
# no pause: the 5 s throttle counts from the last re-run after a 401,
# not from the start-up run (a token that rotates at once still works)
expect "token_cmd: after the server rotated, the next call re-runs the helper and works" \
	"$(errno_of listdir "$MNT")" "OK"
check "the helper ran again" test "$(wc -l <"$T_DIR/cmd-runs")" -gt "$runs"
check "the rotated token is in no log" bash -c "! grep -q rotated-one '$T_DIR/exfs.log'"
mnt_stop
MNT_TOKEN="" mnt_start -o cache_ttl=0,max_stale=0,token_file="$T_DIR/tok" || exit 1
check "token_file: the mount works" test -d "$WS"
emu_admin POST token '{"token": "rotated-two"}' >/dev/null
expect "token_file: the old token is refused" "$(errno_of listdir "$MNT")" "EACCES@listdir"
printf 'rotated-two\n' >"$T_DIR/tok"
sleep 1.1
expect "token_file: re-read when it changes" "$(errno_of listdir "$MNT")" "OK"
mnt_stop

# 10. the Unix way: mount -t, fstab, install, man page
# mount.fuse3 looks the program up in the standard PATH: put it where
# make install would, unless one is there already, and take it away after
if [ ! -e /usr/local/bin/exalsiusfs ]; then
	ln -s "$EXFS_BIN" /usr/local/bin/exalsiusfs
	ON_EXIT+=("rm -f /usr/local/bin/exalsiusfs")
fi
if mount -t fuse.exalsiusfs exalsiusfs "$MNT" \
	-o "api_url=$EMU_URL/v1,token_file=$T_DIR/tok,cache_ttl=5,_netdev" 2>"$T_DIR/mount.err"; then
	expect "mount -t fuse.exalsiusfs works" "$(cat "$WS/status" 2>&1)" "STOPPED"
	check "and fusermount3 -u unmounts" fusermount3 -u "$MNT"
else
	fail "mount -t fuse.exalsiusfs: $(cat "$T_DIR/mount.err")"
fi
printf 'exalsiusfs %s fuse.exalsiusfs _netdev,noauto,api_url=%s/v1,token_file=%s 0 0\n' "$MNT" "$EMU_URL" "$T_DIR/tok" >"$T_DIR/fstab"
if mount -T "$T_DIR/fstab" "$MNT" 2>"$T_DIR/mount.err"; then
	expect "an fstab line with _netdev mounts" "$(cat "$WS/id" 2>&1)" "$ID"
	fusermount3 -u "$MNT"
else
	fail "fstab mount: $(cat "$T_DIR/mount.err")"
fi
for _ in $(seq 30); do grep -qs " $MNT fuse" /proc/mounts || break; sleep 0.1; done
make -s -C "$ROOT" install DESTDIR="$T_DIR/root" PREFIX=/usr >/dev/null
check "make install puts the binary in DESTDIR/PREFIX/bin" test -x "$T_DIR/root/usr/bin/exalsiusfs"
check "the systemd user unit names that binary" grep -q '^ExecStart=/usr/bin/exalsiusfs -f' "$T_DIR/root/usr/lib/systemd/user/exalsiusfs.service"
expect_match "the man page renders" "$(MANWIDTH=80 man -l "$T_DIR/root/usr/share/man/man1/exalsiusfs.1" 2>/dev/null | head -4)" "exalsiusfs - mount the exalsius workspace API as files"
finish
