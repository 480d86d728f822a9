#!/usr/bin/env bash
# The DESIGN Errors table, row by row, provoked through the mount against
# the emulator (real statuses or injected faults), plus EPERM and EROFS.
source "$(dirname "$0")/lib.sh"
# the warnings and errors this suite provokes on purpose (see finish)
log_expect \
	"$LOG_E"'listing workspaces: API reply is not valid JSON \('"'"'\]'"'"' expected near end of file at offset [0-9]+\)$' \
	"$LOG_E"'listing workspaces: GET '"$LOG_URL"'/workspaces: Failed to connect to 127\.0\.0\.1 port [0-9]+ after [0-9]+ ms: Couldn'"'"'t connect to server$' \
	"$LOG_E"'listing workspaces: GET '"$LOG_URL"'/workspaces: Operation timed out after [0-9]+ milliseconds with 0 bytes received$' \
	"$LOG_E"'listing workspaces: list failed: HTTP (401|403|404): Injected fault: HTTP \1$' \
	"$LOG_E"'listing workspaces: list failed: HTTP (429|500): Injected fault: HTTP \1 \(after retries\)$' \
	"$LOG_E"'listing workspaces: list failed: HTTP 401: Missing or invalid bearer token$' \
	"$LOG_E"'listing workspaces: no login found: run exls login or exalsiusfs login \(or set EXALSIUS_TOKEN, -o token_file or -o token_cmd\)$' \
	"$LOG_W"'no access token \(no login found: run exls login or exalsiusfs login \(or set EXALSIUS_TOKEN, -o token_file or -o token_cmd\)\); every API call will fail with EACCES until you log in$' \
	"$LOG_E"'rmdir train-llama: delete failed: HTTP 409: Injected fault: HTTP 409$' \
	"$LOG_E"'templates: templates failed: HTTP (401|403|404): Injected fault: HTTP \1$' \
	"$LOG_E"'workspace '"$LOG_UUID"': (start|stop) failed: HTTP (400|403|404|409|422): Injected fault: HTTP \2$' \
	"$LOG_E"'workspace '"$LOG_UUID"': stop failed: HTTP 502: Injected fault: HTTP 502 \(after retries\)$' \
	"$LOG_E"'workspace '"$LOG_UUID"': start failed: HTTP 500 \(after retries\)$'

emu_start --demo || exit 1
# cache_ttl=0: every operation asks the API, so each fault is seen;
# max_stale=0: no stale listing masks a failure (see t_faults for that)
mnt_start -o cache_ttl=0,retries=1,timeout=1,max_stale=0 || exit 1
WS=$MNT/train-llama
check "mounted and listing" test -d "$WS"

# 400 / 422 -> EINVAL
emu_fault '{"status": 400, "count": 1, "endpoint": "stop_workspace"}'
expect "400 on stop is EINVAL" "$(errno_of write "$WS/control" stop)" "EINVAL@write"
emu_fault '{"status": 422, "count": 1, "endpoint": "stop_workspace"}'
expect "422 on stop is EINVAL" "$(errno_of write "$WS/control" stop)" "EINVAL@write"
expect_match "the error file holds the status" "$(cat "$WS/error")" "HTTP 422"

# 401 / 403 -> EACCES
emu_fault '{"status": 401, "count": 1, "endpoint": "list_workspaces"}'
expect "401 on list is EACCES" "$(errno_of listdir "$MNT")" "EACCES@listdir"
emu_fault '{"status": 403, "count": 1, "endpoint": "list_workspaces"}'
expect "403 on list is EACCES" "$(errno_of listdir "$MNT")" "EACCES@listdir"
emu_fault '{"status": 403, "count": 1, "endpoint": "start_workspace"}'
expect "403 on start is EACCES" "$(errno_of write "$WS/control" start)" "EACCES@write"
expect_match "the daemon logged it" "$(tail -n 5 "$T_DIR/exfs.log")" "HTTP 403"
emu_fault '{"status": 401, "count": 1, "endpoint": "list_workspace_templates"}'
expect "401 on the templates is EACCES for ls .templates" "$(errno_of listdir "$MNT/.templates")" "EACCES@listdir"
emu_fault '{"status": 403, "count": 1, "endpoint": "list_workspace_templates"}'
expect "403 on the templates is EACCES for a template file" \
	"$(errno_of stat "$MNT/.templates/jupyter-notebook.json")" "EACCES@stat"
emu_fault '{"status": 404, "count": 1, "endpoint": "list_workspace_templates"}'
expect "404 on the templates is EIO for ls .templates (never an empty listing)" \
	"$(errno_of listdir "$MNT/.templates")" "EIO@listdir"
emu_clear

# 404 -> ENOENT
emu_fault '{"status": 404, "count": 1, "endpoint": "start_workspace"}'
expect "404 on start is ENOENT" "$(errno_of write "$WS/control" start)" "ENOENT@write"
# (count 3: the kernel repeats a failed revalidation with a fresh lookup)
emu_fault '{"status": 404, "count": 3, "endpoint": "list_workspaces"}'
expect "404 on list is ENOENT for a lookup" "$(errno_of stat "$WS")" "ENOENT@stat"
# glibc's readdir(3) reads ENOENT as end of directory; ls must not show "empty"
emu_fault '{"status": 404, "count": 1, "endpoint": "list_workspaces"}'
expect "404 on list is EIO for ls (never an empty listing)" "$(errno_of listdir "$MNT")" "EIO@listdir"
emu_clear

# 409 -> EBUSY on start/stop/delete (EEXIST on create: see t_create)
emu_fault '{"status": 409, "count": 1, "endpoint": "delete_workspace"}'
expect "409 on delete is EBUSY" "$(errno_of rmdir "$WS")" "EBUSY@rmdir"
check "the workspace is still there" test -d "$WS"
emu_fault '{"status": 409, "count": 1, "endpoint": "start_workspace"}'
expect "409 on start is EBUSY" "$(errno_of write "$WS/control" start)" "EBUSY@write"

# 429 after retries -> EAGAIN; 429 then success -> works
emu_reset
emu_fault '{"status": 429, "count": 5, "retry_after": 0, "endpoint": "list_workspaces"}'
expect "429 after retries is EAGAIN" "$(errno_of listdir "$MNT")" "EAGAIN@listdir"
expect "one try plus one retry (retries=1)" "$(emu_count list_workspaces)" "2"
emu_clear
emu_fault '{"status": 429, "count": 1, "retry_after": 0, "endpoint": "list_workspaces"}'
expect "a single 429 is retried away" "$(errno_of listdir "$MNT")" "OK"

# 5xx after retries -> EIO; one 503 is retried away
emu_clear
emu_reset
emu_fault '{"status": 500, "count": 5, "endpoint": "list_workspaces"}'
expect "500 after retries is EIO" "$(errno_of listdir "$MNT")" "EIO@listdir"
expect "two attempts" "$(emu_count list_workspaces)" "2"
emu_clear
emu_fault '{"status": 503, "count": 1, "endpoint": "list_workspaces"}'
expect "a single 503 is retried away" "$(errno_of listdir "$MNT")" "OK"
emu_fault '{"status": 502, "count": 5, "endpoint": "stop_workspace"}'
expect "502 on stop after retries is EIO" "$(errno_of write "$WS/control" stop)" "EIO@write"
emu_clear

# a body that is not understood -> EIO
emu_fault '{"malformed": true, "count": 5, "endpoint": "list_workspaces"}'
expect "a malformed list body is EIO" "$(errno_of listdir "$MNT")" "EIO@listdir"
expect_match "and the log says why" "$(tail -n 3 "$T_DIR/exfs.log")" "not valid JSON"
emu_clear
emu_fault '{"status": 500, "count": 5, "body": "<html>oops</html>", "endpoint": "start_workspace"}'
expect "a 500 with an HTML body is EIO" "$(errno_of write "$WS/control" start)" "EIO@write"
emu_clear

# timeout -> ETIMEDOUT (timeout=1, latency 2.5 s)
emu_fault '{"latency": 2.5, "count": 2, "endpoint": "list_workspaces"}'
expect "a slow API is ETIMEDOUT" "$(errno_of listdir "$MNT")" "ETIMEDOUT@listdir"
emu_clear
sleep 3	# let the emulator finish the delayed requests

# EPERM: rename, link, symlink, chmod, unlink, unknown file creation
expect "rename of a workspace" "$(errno_of rename "$WS" "$MNT/renamed")" "EPERM@rename"
expect "rename of a file" "$(errno_of rename "$WS/status" "$WS/status2")" "EPERM@rename"
expect "link" "$(errno_of link "$WS/status" "$WS/status2")" "EPERM@link"
expect "symlink" "$(errno_of symlink /etc/passwd "$WS/link")" "EPERM@symlink"
expect "chmod of a virtual file" "$(errno_of chmod "$WS/status")" "EPERM@chmod"
expect "unlink of a virtual file" "$(errno_of unlink "$WS/status")" "EPERM@unlink"
expect "creating an unknown file" "$(errno_of create "$WS/newfile")" "EPERM@open"
expect "creating a file at the root" "$(errno_of create "$MNT/newfile")" "EPERM@open"
expect "writing a read-only file" "$(errno_of openw "$WS/status.json")" "EACCES@open"
check "touch of an existing file succeeds" touch "$WS/control"

# connection refused -> EHOSTUNREACH
emu_stop
expect "a dead API is EHOSTUNREACH" "$(errno_of listdir "$MNT")" "EHOSTUNREACH@listdir"
expect "and so is a command" "$(errno_of stat "$WS/status")" "EHOSTUNREACH@stat"
mnt_stop
check "daemon exited cleanly" test $? -eq 0

# 401 from a wrong token, and no token at all -> EACCES
emu_start --demo || exit 1
MNT_TOKEN="wrong-token" mnt_start -o cache_ttl=0 || exit 1
expect "a wrong token (401) is EACCES" "$(errno_of listdir "$MNT")" "EACCES@listdir"
check "the token never reaches the log" bash -c "! grep -q 'wrong-token' '$T_DIR/exfs.log'"
mnt_stop
MNT_TOKEN="" mnt_start -o cache_ttl=0 || exit 1
emu_reset
expect "no token is EACCES" "$(errno_of listdir "$MNT")" "EACCES@listdir"
expect "without any API call" "$(emu_count total)" "0"
mnt_stop

# a token rotated on the server while mounted: 401 -> EACCES
mnt_start -o cache_ttl=0 || exit 1
check "lists with the right token" test -d "$MNT/train-llama"
emu_admin POST token '{"token": "rotated"}' >/dev/null
expect "after the server rotated the token, EACCES" "$(errno_of listdir "$MNT")" "EACCES@listdir"
mnt_stop

# -o ro -> EROFS for every mutation
emu_admin POST token "{\"token\": \"$T_TOKEN\"}" >/dev/null
mnt_start -o ro,cache_ttl=0 || exit 1
emu_reset
expect "ro: write control" "$(errno_of write "$MNT/train-llama/control" start)" "EROFS@open"
expect "ro: mkdir" "$(errno_of mkdir "$MNT/newdraft")" "EROFS@mkdir"
expect "ro: rmdir" "$(errno_of rmdir "$MNT/train-llama")" "EROFS@rmdir"
expect "ro: chmod" "$(errno_of chmod "$MNT/train-llama/status")" "EROFS@chmod"
expect "ro: nothing mutating was sent" "$(emu_count start_workspace) $(emu_count delete_workspace)" "0 0"
check "ro: reading works" test -s "$MNT/train-llama/status.json"
# a refresh changes nothing on the API: allowed on a read-only mount
expect "ro: .ctl refresh is allowed" "$(errno_of write "$MNT/.ctl" refresh)" "OK"
expect "ro: .ctl refresh NAME too" "$(errno_of write "$MNT/.ctl" 'refresh train-llama')" "OK"
check "ro: and echo > .ctl works" bash -c "echo refresh >'$MNT/.ctl'"
mnt_stop
check "daemon exited cleanly" test $? -eq 0
finish
