#!/usr/bin/env bash
# Create and delete: mkdir makes a draft, the write that completes spec.json
# creates, bad specs fail in write or close and keep the draft, rmdir
# deletes a workspace or discards a draft.
source "$(dirname "$0")/lib.sh"
# the warnings and errors this suite provokes on purpose (see finish)
log_expect \
	"$LOG_E"'draft bad: create failed: HTTP 400: Field '"'"'resources\.gpu_count'"'"' must be an integer$' \
	"$LOG_E"'draft bad: create failed: HTTP 409: Injected fault: HTTP 409$' \
	"$LOG_E"'draft bad: spec\.json: "cluster_id" must be a UUID$' \
	"$LOG_E"'draft bad: spec\.json: "name" \((nb1|other)\) differs from the directory'"'"'s name \(bad\)$' \
	"$LOG_E"'draft bad: spec\.json: "template\.name" must be a non-empty string$' \
	"$LOG_E"'draft bad: spec\.json: over the 65536-byte limit$' \
	"$LOG_E"'draft bad: spec\.json: the bytes written do not form one complete JSON object$' \
	"$LOG_E"'draft bad: spec\.json must be one JSON object, starting with '"'"'\{'"'"' \(it starts with "\[1, 2\]"\)$' \
	"$LOG_E"'draft bad: spec\.json: trailing characters after the object, at byte [0-9]+: "// my spec\\x0A" \(one JSON object only; JSON has no comments\)$' \
	"$LOG_E"'mkdir (\.hidden|a%2fb|a%zz): not a workspace name in its encoded form$' \
	"$LOG_E"'rmdir chunky: delete failed: HTTP 404: The workspace with ID '"$LOG_UUID"' was not found\.$'

emu_start --demo --pending-delay 1 || exit 1
mnt_start -o cache_ttl=1 || exit 1
CLUSTER=$(api GET /workspaces | jq -r '.workspaces[0].cluster_id')

# drafts
emu_reset
check "mkdir makes a draft" mkdir "$MNT/nb1"
expect "mkdir sends nothing" "$(emu_count create_workspace)" "0"
expect "a draft holds spec.json and error" "$(ls "$MNT/nb1" | tr '\n' ' ')" "error spec.json "
check "the skeleton is valid JSON" jq -e '.template.name and .resources and .cluster_id' "$MNT/nb1/spec.json"
expect "the skeleton carries the directory's name" "$(jq -r .name "$MNT/nb1/spec.json")" "nb1"
check "ls shows the draft" bash -c "ls '$MNT' | grep -qx nb1"
expect "mkdir of an existing draft" "$(errno_of mkdir "$MNT/nb1")" "EEXIST@mkdir"
expect "mkdir of an existing workspace" "$(errno_of mkdir "$MNT/train-llama")" "EEXIST@mkdir"
expect "mkdir of a reserved dot name" "$(errno_of mkdir "$MNT/.hidden")" "EINVAL@mkdir"
expect "mkdir of a non-canonical escape" "$(errno_of mkdir "$MNT/a%2fb")" "EINVAL@mkdir"
expect "mkdir of a bad escape" "$(errno_of mkdir "$MNT/a%zz")" "EINVAL@mkdir"
expect "mkdir inside a workspace" "$(errno_of mkdir "$MNT/train-llama/sub")" "EPERM@mkdir"

# a successful create through cp
spec_json nb1 >"$T_DIR/nb1.json"
emu_reset
check "cp spec.json creates the workspace" cp "$T_DIR/nb1.json" "$MNT/nb1/spec.json"
expect "exactly one create call" "$(emu_count create_workspace)" "1"
expect "the directory now is the workspace, PENDING" "$(cat "$MNT/nb1/status")" "PENDING"
check "it has an id" test -s "$MNT/nb1/id"
expect "the draft's spec.json is gone" "$(errno_of stat "$MNT/nb1/spec.json")" "ENOENT@stat"
st=
for _ in $(seq 40); do st=$(cat "$MNT/nb1/status"); [ "$st" = RUNNING ] && break; sleep 0.25; done
expect "then RUNNING when the API says so" "$st" "RUNNING"
expect "the API has it" "$(api GET /workspaces | jq -r '.workspaces[] | select(.name == "nb1") | .workspace_status')" "RUNNING"

# bash's builtin echo (which ignores close errors) creates too
mkdir "$MNT/nb2"
echo "$(spec_json nb2)" >"$MNT/nb2/spec.json"
expect "echo > spec.json creates" "$(cat "$MNT/nb2/status")" "PENDING"

# name from the directory when the spec has none; encoded names decode
mkdir "$MNT/team%2Fa"
spec_json "team/a" >"$T_DIR/ta.json"
check "an encoded directory name creates a name with /" cp "$T_DIR/ta.json" "$MNT/team%2Fa/spec.json"
expect "the API holds the decoded name" "$(api GET /workspaces | jq -r '.workspaces[] | select(.name == "team/a") | .name')" "team/a"

# validation failures keep the draft and explain
mkdir "$MNT/bad"
emu_reset
bad='{"name": "bad", "cluster_id": "not-a-uuid", "template": {"name": "t"}, "resources": {}}'
expect "invalid cluster_id: write fails EINVAL" "$(errno_of write "$MNT/bad/spec.json" "$bad")" "EINVAL@write"
expect "nothing was sent" "$(emu_count create_workspace)" "0"
check "the draft stays" test -d "$MNT/bad"
expect "spec.json keeps what was written" "$(cat "$MNT/bad/spec.json")" "$bad"
expect_match "error explains" "$(cat "$MNT/bad/error")" "cluster_id"
check "cp of an invalid spec fails" bash -c "! cp '$T_DIR/nb1.json' '$MNT/bad/spec.json'"
expect "incomplete JSON: close fails EINVAL" "$(errno_of write "$MNT/bad/spec.json" '{"name": "bad", ')" "EINVAL@close"
expect_match "error says it is incomplete" "$(cat "$MNT/bad/error")" "complete JSON"
expect "not an object: the write fails EINVAL" "$(errno_of write "$MNT/bad/spec.json" '[1, 2]')" "EINVAL@write"
expect_match "error says it must be one object" "$(cat "$MNT/bad/error")" "must be one JSON object, starting with '\{'"
# trailing garbage is refused by the write that shows it, so echo reports it
spec_json bad | tr -d '\n' >"$T_DIR/commented.json"
echo ' // my spec' >>"$T_DIR/commented.json"
check "echo of a spec with a trailing comment fails" \
	bash -c "! echo \"\$(cat '$T_DIR/commented.json')\" >'$MNT/bad/spec.json'"
expect_match "error says trailing characters" "$(cat "$MNT/bad/error")" \
	'^spec.json: trailing characters after the object, at byte [0-9]+: "// my spec\\x0A" \(one JSON object only; JSON has no comments\)$'
check "nothing was created" test ! -e "$MNT/bad/status"
expect "a name that differs from the directory" "$(errno_of write "$MNT/bad/spec.json" "$(spec_json other)")" "EINVAL@write"
expect_match "error names both names" "$(cat "$MNT/bad/error")" "other.*bad"
expect "no template.name" "$(errno_of write "$MNT/bad/spec.json" "{\"cluster_id\": \"$CLUSTER\", \"template\": {}, \"resources\": {}}")" "EINVAL@write"
expect "still nothing sent" "$(emu_count create_workspace)" "0"
big=$("$PY" -c 'print("{\"description\": \"" + "x" * 70000 + "\"}")')
expect "a spec over 64 KiB is EFBIG" "$(errno_of write "$MNT/bad/spec.json" "$big")" "EFBIG@write"

# the API's own 400 (a field the filesystem does not check)
emu_reset
apibad=$(spec_json bad | jq -c '.resources.gpu_count = "many"')
expect "API 400 is EINVAL from write" "$(errno_of write "$MNT/bad/spec.json" "$apibad")" "EINVAL@write"
expect "one create call was made" "$(emu_count create_workspace)" "1"
expect_match "error holds the API's detail" "$(cat "$MNT/bad/error")" "gpu_count"

# 409 on create is EEXIST
emu_fault '{"status": 409, "count": 1, "endpoint": "create_workspace"}'
expect "API 409 on create is EEXIST" "$(errno_of write "$MNT/bad/spec.json" "$(spec_json bad)")" "EEXIST@write"
check "the draft is still there" test -d "$MNT/bad"
# fixed: retry succeeds in the same draft
expect "a corrected spec then creates" "$(errno_of write "$MNT/bad/spec.json" "$(spec_json bad)")" "OK"
expect "bad is a workspace now" "$(cat "$MNT/bad/status")" "PENDING"

# chunked writes: created by the write that completes the document
mkdir "$MNT/chunky"
emu_reset
expect "a spec written in 7 pieces" "$(errno_of writechunks "$MNT/chunky/spec.json" 7 "$(spec_json chunky)")" "OK"
expect "creates once" "$(emu_count create_workspace)" "1"
mkdir "$MNT/after"
expect "white space after the create is accepted, more JSON is EBUSY" \
	"$(errno_of writeseq "$MNT/after/spec.json" "$(spec_json after)" $'  \n' '{}')" "OK OK EBUSY@write OK"

# rmdir
mkdir "$MNT/gone"
emu_reset
check "rmdir discards a draft" rmdir "$MNT/gone"
expect "without an API call" "$(emu_count total)" "0"
check "the draft is gone" test ! -e "$MNT/gone"
id=$(cat "$MNT/nb2/id")
check "rmdir deletes a workspace" rmdir "$MNT/nb2"
expect "one DELETE call" "$(emu_count delete_workspace)" "1"
check "the directory is gone at once" test ! -e "$MNT/nb2"
check "ls agrees" bash -c "! ls '$MNT' | grep -qx nb2"
expect "the API no longer has it" "$(api GET "/workspace/$id" | jq -r .detail.status)" "404"
expect "rmdir of a missing directory" "$(errno_of rmdir "$MNT/nb2")" "ENOENT@rmdir"
expect "rmdir of a file" "$(errno_of rmdir "$MNT/nb1/status")" "ENOTDIR@rmdir"
# deleted elsewhere: 404 -> ENOENT, and the directory disappears
vid=$(cat "$MNT/chunky/id")
api DELETE "/workspace/$vid" >/dev/null
expect "rmdir of a workspace deleted elsewhere is ENOENT (or already gone)" \
	"$(errno_of rmdir "$MNT/chunky")" "ENOENT@rmdir"

mnt_stop
check "daemon exited cleanly" test $? -eq 0
finish
