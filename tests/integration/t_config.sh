#!/usr/bin/env bash
# Configuration: token sources (EXALSIUS_TOKEN, ACCESS_TOKEN, token_file),
# the token kept out of argv and the environment, api_url rules,
# EXALSIUS_API_URL, -o cluster, option validation (strict, bounded numbers),
# --version and --help, no second mount on an exalsiusfs mountpoint.
source "$(dirname "$0")/lib.sh"
# the warnings and errors this suite provokes on purpose (see finish)
log_expect \
	"$LOG_E"'draft other-cluster: spec\.json: "cluster_id" differs from the mount'"'"'s cluster '"$LOG_UUID"'$' \
	"$LOG_E"'draft from-tpl: spec\.json holds a workspace template \("vscode-devcontainer"\), not a create request: .*$'

emu_start --demo --seed 30 || exit 1

# ACCESS_TOKEN alone
mkdir -p "$MNT"
env -u EXALSIUS_TOKEN ACCESS_TOKEN="$T_TOKEN" "$EXFS_BIN" -f -o "api_url=$EMU_URL/v1" "$MNT" \
	>>"$T_DIR/exfs.log" 2>&1 &
EXFS_PID=$!
for _ in $(seq 100); do grep -qs " $MNT fuse" /proc/mounts && break; sleep 0.1; done
check "ACCESS_TOKEN is accepted" test -d "$MNT/train-llama"
check "the token is not in the daemon's argv" bash -c "! tr '\0' ' ' </proc/$EXFS_PID/cmdline | grep -q '$T_TOKEN'"
check "nor in its environment" bash -c "! tr '\0' '\n' </proc/$EXFS_PID/environ | grep -q '$T_TOKEN'"
mnt_stop

# token_file (with a trailing newline), EXALSIUS_API_URL instead of -o api_url
printf '%s\n' "$T_TOKEN" >"$T_DIR/token"
chmod 600 "$T_DIR/token"
env -u EXALSIUS_TOKEN -u ACCESS_TOKEN EXALSIUS_API_URL="$EMU_URL/v1" "$EXFS_BIN" -f \
	-o "token_file=$T_DIR/token" "$MNT" >>"$T_DIR/exfs.log" 2>&1 &
EXFS_PID=$!
for _ in $(seq 100); do grep -qs " $MNT fuse" /proc/mounts && break; sleep 0.1; done
check "token_file and EXALSIUS_API_URL work" test -d "$MNT/train-llama"
mnt_stop

# -o cluster: only that cluster, and creates go there
CL=$(api GET /workspaces | jq -r '[.workspaces[].cluster_id] | unique | .[0]')
want=$(api GET /workspaces | jq --arg c "$CL" '[.workspaces[] | select(.cluster_id == $c)] | length')
mnt_start -o "cluster=$CL" || exit 1
expect "-o cluster shows only that cluster's workspaces" "$(ls "$MNT" | wc -l)" "$want"
expect "all of them in that cluster" "$(jq -r .cluster_id "$MNT"/*/status.json | sort -u)" "$CL"
mkdir "$MNT/in-cluster"
expect "the skeleton uses the mount's cluster" "$(jq -r .cluster_id "$MNT/in-cluster/spec.json")" "$CL"
expect "a spec without cluster_id gets the mount's" \
	"$(errno_of write "$MNT/in-cluster/spec.json" '{"template": {"name": "jupyter-notebook"}, "resources": {"gpu_count": 1}}')" "OK"
expect "created in that cluster" "$(jq -r .cluster_id "$MNT/in-cluster/status.json")" "$CL"
# a template is not a create request: the error says so, and its command works
mkdir "$MNT/from-tpl"
expect "cp of a template file into a draft fails" \
	"$(errno_of write "$MNT/from-tpl/spec.json" "$(cat "$MNT/.templates/vscode-devcontainer.json")")" "EINVAL@write"
msg=$(cat "$MNT/from-tpl/error")
expect_match "the error says it is a template, not a create request" "$msg" \
	'^spec\.json holds a workspace template \("vscode-devcontainer"\), not a create request'
cmd=${msg#*in the mount: }
expect_match "and shows a command" "$cmd" "^: > 'from-tpl/spec.json' && jq "
check "that command, run in the mount, creates the workspace" bash -c "cd '$MNT' && $cmd"
rm -f /tmp/spec.json
expect "from the template" "$(jq -r .template.name "$MNT/from-tpl/status.json")" "vscode-devcontainer"
expect "with its variables" "$(jq -c .template.variables "$MNT/from-tpl/status.json")" \
	"$(jq -c .variables "$MNT/.templates/vscode-devcontainer.json")"
mkdir "$MNT/other-cluster"
expect "a spec for another cluster is refused" \
	"$(errno_of write "$MNT/other-cluster/spec.json" "$(CLUSTER=22222222-2222-4222-8222-222222222222 spec_json other-cluster)")" "EINVAL@write"
mnt_stop

# refusals at start-up: clear message, non-zero exit, nothing mounted
refuse() {
	local name=$1 want=$2; shift 2
	local out rc
	out=$(timeout 10 env EXALSIUS_TOKEN="$T_TOKEN" "$EXFS_BIN" -f "$@" "$MNT" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && [[ "$out" =~ $want ]] && ! grep -qs " $MNT fuse" /proc/mounts; then
		pass "$name"
	else
		fail "$name: rc=$rc out='$out'"
		fusermount3 -u "$MNT" 2>/dev/null
	fi
}
refuse "plain http to a non-loopback host is refused" "https://" -o api_url=http://example.invalid/v1
refuse "an http host that only starts like loopback is refused" "https://" -o api_url=http://127.0.0.1.example.invalid/v1
refuse "a cluster that is not a UUID is refused" "UUID" -o "api_url=$EMU_URL/v1,cluster=nope"
refuse "a negative cache_ttl is refused" "cache_ttl" -o "api_url=$EMU_URL/v1,cache_ttl=-1"
# numbers are whole, bounded, and the message names the option and its range
refuse "cache_ttl=1e3 is refused, naming it and its range" \
	"^exalsiusfs: cache_ttl=1e3: must be a whole number of seconds from 0 to 86400$" -o "api_url=$EMU_URL/v1,cache_ttl=1e3"
refuse "timeout=99999999999 is refused, naming it and its range" \
	"^exalsiusfs: timeout=99999999999: must be a whole number of seconds from 1 to 3600$" -o "api_url=$EMU_URL/v1,timeout=99999999999"
refuse "retries=11 is refused" "^exalsiusfs: retries=11: must be a whole number from 0 to 10$" -o "api_url=$EMU_URL/v1,retries=11"
refuse "wait_timeout=0 is refused" "wait_timeout=0: .* from 1 to 86400" -o "api_url=$EMU_URL/v1,wait_timeout=0"
refuse "max_stale with a unit is refused" "max_stale=5m: .* from 0 to 86400" -o "api_url=$EMU_URL/v1,max_stale=5m"
refuse "an empty timeout is refused" "timeout=: " -o "api_url=$EMU_URL/v1,timeout="
refuse "logs_max below 64 KiB is refused" "^exalsiusfs: logs_max=1: must be a whole number of KiB from 64 to 1048576$" -o "api_url=$EMU_URL/v1,logs_max=1"
refuse "logs_streams=0 is refused" "^exalsiusfs: logs_streams=0: must be a whole number from 1 to 4096$" -o "api_url=$EMU_URL/v1,logs_streams=0"
refuse "logs_grace=0 is refused" "logs_grace=0: .* from 1 to 86400" -o "api_url=$EMU_URL/v1,logs_grace=0"
refuse "an unknown logs_format is refused" "^exalsiusfs: logs_format must be text or ndjson$" -o "api_url=$EMU_URL/v1,logs_format=xml"
refuse "a missing token_file is refused" "token_file" -o "api_url=$EMU_URL/v1,token_file=$T_DIR/absent"
printf 'abc\r\nX-Evil: 1\n' >"$T_DIR/badtoken"
chmod 600 "$T_DIR/badtoken"
refuse "a token with CR/LF is refused" "control characters" -o "api_url=$EMU_URL/v1,token_file=$T_DIR/badtoken"
chmod 644 "$T_DIR/token"
refuse "a token_file readable by others is refused" "chmod 600" -o "api_url=$EMU_URL/v1,token_file=$T_DIR/token"
check "no message repeats the bad token" bash -c "! grep -q 'X-Evil' '$T_DIR/exfs.log'"

expect_match "--version prints the version" "$("$EXFS_BIN" --version)" "^exalsiusfs [0-9]+\.[0-9]+\.[0-9]+$"
help=$("$EXFS_BIN" --help 2>&1)
expect_match "--help lists the options" "$help" "cache_ttl=SECONDS"
expect_match "--help lists the FUSE options that apply" "$help" $'\n    -f .*\n    -d .*\n    -s '
expect_match "--help names allow_other" "$help" "-o allow_other"
expect_match "--help points to the manual" "$help" "man exalsiusfs"
expect "--help leaves out libfuse's options that do not apply" \
	"$(grep -Eo 'kernel_cache|modules=subdir|max_idle_threads|clone_fd|FUSE options' <<<"$help")" ""

# a second mount on a mountpoint where exalsiusfs is mounted is refused
mnt_start || exit 1
out=$(timeout 10 env EXALSIUS_TOKEN="$T_TOKEN" "$EXFS_BIN" -f -o "api_url=$EMU_URL/v1" "$MNT" 2>&1)
rc=$?
check "mounting over an exalsiusfs mount fails" test "$rc" -ne 0
expect_match "and says it is mounted there" "$out" "^exalsiusfs: $MNT: exalsiusfs is already mounted there; unmount it first \(fusermount3 -u $MNT\)$"
expect "nothing is stacked" "$(grep -c " $MNT fuse" /proc/mounts)" 1
check "the first mount still serves" test -d "$MNT/train-llama"
out=$(cd "$MNT/.." && timeout 10 env EXALSIUS_TOKEN="$T_TOKEN" "$EXFS_BIN" -f -o "api_url=$EMU_URL/v1" ./mnt/ 2>&1)
expect_match "also when named by a relative path" "$out" "already mounted there"
mnt_stop
check "and unmounts cleanly" test $? -eq 0
# no -o cluster, but one cluster in the listing: the skeleton uses it
emu_stop
emu_start || exit 1
one=33333333-3333-4333-8333-333333333333
emu_admin POST workspaces "$(jq -cn --arg c "$one" '[range(2) | {id: "3333333\(.)-0000-4000-8000-000000000001", name: "only-\(.)",
	cluster_id: $c, workspace_status: "RUNNING", template: {name: "jupyter-notebook", variables: {}},
	resources: {gpu_count: 1}, created_at: "2026-03-01T00:00:00Z"}]')" >/dev/null
mnt_start || exit 1
mkdir "$MNT/one-cluster"
expect "one cluster listed: the skeleton uses it" "$(jq -r .cluster_id "$MNT/one-cluster/spec.json")" "$one"
cp "$MNT/one-cluster/spec.json" "$T_DIR/one.json"
expect "and the unchanged skeleton creates there" "$(errno_of write "$MNT/one-cluster/spec.json" "$(cat "$T_DIR/one.json")")" "OK"
expect "on that cluster" "$(jq -r .cluster_id "$MNT/one-cluster/status.json")" "$one"
mnt_stop

finish
