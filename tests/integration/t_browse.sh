#!/usr/bin/env bash
# Browsing: layout, every file with cat, jq on status.json, sizes that ls,
# wc and stat agree on, names (hostile, unicode, duplicates), timestamps.
source "$(dirname "$0")/lib.sh"

emu_start --demo --seed 40 || exit 1
mnt_start -o cache_ttl=30 || exit 1

want=$(api GET /workspaces | jq '.workspaces | length')
got=$(ls "$MNT" | wc -l)
expect "ls shows one directory per workspace" "$got" "$want"

ls -l "$MNT" >"$T_DIR/ls.txt" 2>&1
check "ls -l succeeds" test -s "$T_DIR/ls.txt"
expect "every root entry is a directory 0755" \
	"$(grep -vc '^total\|^drwxr-xr-x' "$T_DIR/ls.txt")" "0"

# every file of every workspace reads, with the size stat reports
bad=0
n=0
for d in "$MNT"/*/; do
	for f in status.json status id control error access; do
		n=$((n + 1))
		size=$(stat -c %s "$d$f")
		real=$(cat "$d$f" | wc -c)
		[ "$size" = "$real" ] || { bad=$((bad + 1)); echo "# size $d$f $size != $real"; }
	done
done
expect "stat size equals bytes read for all $n files" "$bad" "0"

# status.json is the API object, pretty (2 spaces, final newline)
ids_api=$(api GET /workspaces | jq -r '.workspaces[].id' | sort)
ids_fs=$(cat "$MNT"/*/id | sort)
expect "id files hold every API id exactly once" "$ids_fs" "$ids_api"
ids_json=$(jq -r .id "$MNT"/*/status.json | sort)
expect "jq reads every status.json" "$ids_json" "$ids_api"
one=$(ls "$MNT" | grep -m1 '^train-llama$')
expect "train-llama exists" "$one" "train-llama"
id=$(cat "$MNT/train-llama/id")
expect "status.json equals the API object" \
	"$(jq -S . "$MNT/train-llama/status.json")" \
	"$(api GET /workspaces | jq -S --arg id "$id" '.workspaces[] | select(.id == $id)')"
expect "status.json is indented by two spaces" "$(sed -n 2p "$MNT/train-llama/status.json" | cut -c1-3)" '  "'
expect "status.json ends with one newline" "$(tail -c1 "$MNT/train-llama/status.json" | od -An -c | tr -d ' ')" '\n'
expect "status is one line" "$(cat "$MNT/train-llama/status")" \
	"$(jq -r .workspace_status "$MNT/train-llama/status.json")"
expect "control lists its commands" "$(cat "$MNT/train-llama/control" | tr '\n' ' ')" "start stop "
expect "error is empty" "$(stat -c %s "$MNT/train-llama/error")" "0"
expect "grep over status files works" "$(grep -l RUNNING "$MNT"/*/status | wc -l)" \
	"$(api GET /workspaces | jq '[.workspaces[] | select(.workspace_status == "RUNNING")] | length')"

# modes and ownership
expect "status.json mode" "$(stat -c %a "$MNT/train-llama/status.json")" "444"
expect "control mode" "$(stat -c %a "$MNT/train-llama/control")" "644"
expect "owner is the mounting user" "$(stat -c %u "$MNT/train-llama/id")" "$(id -u)"
created=$(jq -r .created_at "$MNT/train-llama/status.json")
expect "directory mtime is created_at" "$(stat -c %Y "$MNT/train-llama")" "$(date -d "$created" +%s)"

# names: every API name maps to a listed directory per DESIGN's rules
names=$("$PY" - "$EMU_URL" "$T_TOKEN" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/v1/workspaces",
                             headers={"Authorization": "Bearer " + sys.argv[2]})
ws = json.load(urllib.request.urlopen(req, timeout=10))["workspaces"]
def enc(name):
    out = []
    for i, b in enumerate(name.encode()):
        if b in (0x2f, 0x25) or b < 0x20 or b == 0x7f or (i == 0 and b == 0x2e):
            out.append("%%%02X" % b)
        else:
            out.append(chr(b) if b < 0x80 else bytes([b]).decode("latin1"))
    return "".join(out).encode("latin1").decode()
seen = set()
for w in sorted(ws, key=lambda w: (w["created_at"], w["id"])):
    e = enc(w["name"])
    if len(e.encode()) > 255 or e in seen:
        e = None  # suffixed: checked separately
    else:
        seen.add(e)
        print(e)
PY
)
missing=0
while IFS= read -r n; do
	[ -d "$MNT/$n" ] || { missing=$((missing + 1)); echo "# missing '$n'"; }
done <<<"$names"
expect "plain-named workspaces appear under their encoded names" "$missing" "0"
check "a name with / is encoded" test -d "$MNT/eval run%2F2"
check "a leading dot is encoded" bash -c "ls '$MNT' | grep -q '^%2E'"
expect "the dot entries are the filesystem's own" "$(ls -A "$MNT" | grep '^\.' | tr '\n' ' ')" ".account .by-cluster .by-id .ctl .stats .templates .workspaces.tsv "
dups=$(ls "$MNT" | grep -c '^train-llama')
expect "duplicate names get @id8 suffixes" "$dups" "2"
newer=$(ls "$MNT" | grep '^train-llama@')
expect "the suffix is the newer one's id prefix" "${newer#train-llama@}" \
	"$(cat "$MNT/$newer/id" | cut -c1-8)"
long=$(ls "$MNT" | awk 'length($0) > 200' | head -1)
check "a long name is cut to 255 bytes" test "$(printf %s "$long" | wc -c)" -le 255
check "the long name's directory works" test -s "$MNT/$long/status.json"
expect "unicode names are kept" "$(ls "$MNT" | grep -c '^résumé-ü$')" "1"
expect "reserved dot names are absent" "$(errno_of stat "$MNT/.nothing")" "ENOENT@stat"
expect "unknown file in a workspace" "$(errno_of stat "$MNT/train-llama/nope")" "ENOENT@stat"
expect "unknown workspace" "$(errno_of stat "$MNT/no-such-ws")" "ENOENT@stat"
ntpl=$(api GET /management/workspace-templates | jq '.workspace_templates | length')
expect "find sees 7 files per workspace, 4 at the root, one per template" \
	"$(find "$MNT" -type f | wc -l)" "$((want * 7 + 4 + ntpl))"

mnt_stop
check "daemon exited cleanly" test $? -eq 0
finish
