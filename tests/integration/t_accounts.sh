#!/usr/bin/env bash
# Real accounts: the exls login in a real Secret Service (gnome-keyring on
# a private D-Bus session, items written and read by Python's keyring
# library as exls does), renewal before expiry with the rotated tokens
# written back, a refused refresh token (EACCES, then a new login picked up
# without a remount), a 401 storm sharing one renewal, our own login file
# when there is no Secret Service, `exalsiusfs login`/`logout` against the
# emulator's login service, the /v1 base-path fallback both ways,
# EXLS_BACKEND_HOST and config.yaml.

# a private session bus for the whole suite (never the user's)
if [ -z "${EXFS_T_ACCOUNTS_BUS:-}" ]; then
	command -v dbus-run-session >/dev/null || { echo "not ok - dbus-run-session is missing (scripts/install-deps.sh)"; echo "t_accounts: 0 passed, 1 failed"; exit 1; }
	EXFS_T_ACCOUNTS_BUS=1 exec dbus-run-session -- bash "$0" "$@"
fi
KR_BUS=${DBUS_SESSION_BUS_ADDRESS:-}
source "$(dirname "$0")/lib.sh"
# the failures this suite provokes on purpose (see finish)
log_expect \
	"$LOG_W"'no access token \(no login found: run exls login or exalsiusfs login \(or set EXALSIUS_TOKEN, -o token_file or -o token_cmd\)\); every API call will fail with EACCES until you log in$' \
	"$LOG_E"'listing workspaces: no login found: run exls login or exalsiusfs login \(or set EXALSIUS_TOKEN, -o token_file or -o token_cmd\)$'

CID=kSbRc9MOnuMKMVLzhZYBo3xkTtk2KK7B
PY=/usr/bin/python3
KR="$PY $ROOT/tests/integration/kr.py"
export HOME=$T_DIR/home XDG_DATA_HOME=$T_DIR/home/.local/share XDG_RUNTIME_DIR=$T_DIR/run
export PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME"
chmod 700 "$XDG_RUNTIME_DIR"
STORE=$XDG_CONFIG_HOME/exalsiusfs/login.json

# gnome-keyring in the foreground, so that its pid is ours to stop
printf 'exfs-test-password' | DBUS_SESSION_BUS_ADDRESS=$KR_BUS \
	gnome-keyring-daemon --foreground --unlock --components=secrets >>"$T_DIR/keyring.log" 2>&1 &
GK_PID=$!
ON_EXIT+=("kill $GK_PID 2>/dev/null")
kr() { DBUS_SESSION_BUS_ADDRESS=$KR_BUS $KR "$@"; }
for _ in $(seq 50); do kr get "$CID" >/dev/null 2>&1 && break; sleep 0.2; done
check "a Secret Service answers on the private bus" kr get "$CID"

emu_start --demo --pending-delay 0.2 || exit 1
auth() { emu_admin "$@"; }
auth_count() { emu_admin GET auth | jq -r ".counts.$1"; }
mint() { emu_admin POST auth/mint "{\"ttl\": $1}"; }
acc_log() { echo "$T_DIR/exfs.log"; }

# acc_mount [BUS] [opts...]: mount with no token in the environment, the
# login service at the emulator; BUS "-" means no Secret Service.
acc_mount() {
	local bus=$1; shift
	[ "$bus" = "-" ] && bus=
	mnt_launch -u EXALSIUS_TOKEN -u ACCESS_TOKEN ${bus:+DBUS_SESSION_BUS_ADDRESS=$bus} -- \
		-o "auth_url=$EMU_URL" "$@"
}
ls_errno() { errno_of listdir "$MNT"; }
# wait_for CMD...: up to 15 s for CMD to succeed
wait_for() { for _ in $(seq 75); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }

# --- the exls login in the Secret Service
LOGIN=$(mint 3600)
kr set "$CID" <<<"$LOGIN"
: >"$T_DIR/exfs.log"
acc_mount "$KR_BUS" -o "api_url=$EMU_URL/v1,cache_ttl=0" || exit 1
check "after exls login, a mount with no token option lists the workspaces" test -d "$MNT/train-llama"
check "the log names the exls login as the source" grep -q "using the exls login in the Secret Service" "$T_DIR/exfs.log"
# .account: which login the mount uses (cred_describe), never the token
ACC=$(cat "$MNT/.account")
expect_match ".account names the source" "$ACC" $'(^|\n)source keyring\n'
expect_match ".account shows the e-mail and organisation" "$ACC" $'email dev@example.com\norganisation Emulator Org\n'
expect_match ".account shows the expiry" "$ACC" $'expires [0-9]{4}-[0-9]{2}-[0-9]{2}T'
check ".account never shows the token" bash -c "! grep -qF '$(jq -r .access_token <<<"$LOGIN")' '$MNT/.account'"
mnt_stop

# --- the same as a daemon (no -f): the Secret Service is first asked after the fork
env -u EXALSIUS_TOKEN -u ACCESS_TOKEN DBUS_SESSION_BUS_ADDRESS=$KR_BUS \
	"$EXFS_BIN" -o "auth_url=$EMU_URL,api_url=$EMU_URL/v1,cache_ttl=0" "$MNT" >>"$T_DIR/exfs.log" 2>&1
check "a daemonised mount reads the exls login too" wait_for test -d "$MNT/train-llama"
fusermount3 -u "$MNT"
for _ in $(seq 50); do grep -qs " $MNT fuse" /proc/mounts || break; sleep 0.1; done

# --- renewal before expiry, written back to the keyring
auth POST auth '{"token_ttl": 8}' >/dev/null
LOGIN=$(mint 8)
kr set "$CID" <<<"$LOGIN"
OLD_AT=$(jq -r .access_token <<<"$LOGIN")
OLD_RT=$(jq -r .refresh_token <<<"$LOGIN")
r0=$(auth_count refresh)
e0=$(auth_count api_expired)
acc_mount "$KR_BUS" -o "api_url=$EMU_URL/v1,cache_ttl=0" || exit 1
bad=0
for _ in $(seq 40); do	# 10 s of reads across at least one expiry
	cat "$MNT/train-llama/status" >/dev/null 2>&1 || bad=$((bad + 1))
	sleep 0.25
done
expect "reads across the expiry all succeed" "$bad" "0"
r1=$(auth_count refresh)
check "the login was renewed (before the token expired)" test "$r1" -gt "$r0"
expect "no request went out with an expired token" "$(auth_count api_expired)" "$e0"
mnt_stop
NEW=$(kr get "$CID")
check "the keyring now holds a new access token" test "$(jq -r .access_token <<<"$NEW")" != "$OLD_AT"
check "and the rotated refresh token" test "$(jq -r .refresh_token <<<"$NEW")" != "$OLD_RT"
expect_match "and an ISO-8601 UTC expiry Python reads back" "$(jq -r .expiry <<<"$NEW")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\+00:00$'
kr attrs "$CID" >"$T_DIR/attrs.json"
check "one item per name, with the attributes Python keyring gives them" jq -e \
	'(to_entries | all(.value | length == 1)) and all(.[]; .[0].application == "Python keyring library" and .[0].service == "exalsius_cli")' "$T_DIR/attrs.json"
check "the written-back refresh token is the live one" bash -c \
	"curl -sf -XPOST '$EMU_URL/oauth/token' -d grant_type=refresh_token -d client_id=$CID -d refresh_token=$(jq -r .refresh_token <<<"$NEW") >/dev/null"

# --- a refused refresh token: EACCES, log says log in again, a new login is picked up
auth POST auth '{"token_ttl": 3600}' >/dev/null
LOGIN=$(mint 3)
kr set "$CID" <<<"$LOGIN"
auth POST auth '{"revoke_refresh": true}' >/dev/null
: >"$T_DIR/exfs.log"
acc_mount "$KR_BUS" -o "api_url=$EMU_URL/v1,cache_ttl=0,max_stale=0" || exit 1
sleep 3.5
expect "with the refresh token revoked and the token expired, ls fails with EACCES" "$(ls_errno)" "EACCES@listdir"
check "the log says to log in again" grep -q "log in again" "$T_DIR/exfs.log"
expect_match ".account says to log in again" "$(cat "$MNT/.account")" $'status login-required\nmessage .*log in again'
r0=$(auth_count refresh)
for _ in 1 2 3 4 5; do ls "$MNT" >/dev/null 2>&1; sleep 0.4; done
expect "while refused, the login service is not asked again" "$(auth_count refresh)" "$r0"
kr set "$CID" <<<"$(mint 3600)"
check "a new exls login is picked up without a remount" wait_for test -d "$MNT/train-llama"
mnt_stop

# --- while the login is refused, what is held is served (within max_stale)
# and every API call fails with EACCES
LIFE=3
[ "${EXFS_VALGRIND:-}" ] && LIFE=20	# the daemon starts slowly there
LOGIN=$(mint $LIFE)
kr set "$CID" <<<"$LOGIN"
auth POST auth '{"revoke_refresh": true}' >/dev/null
: >"$T_DIR/exfs.log"
acc_mount "$KR_BUS" -o "api_url=$EMU_URL/v1,cache_ttl=1,max_stale=120" || exit 1
held=$(cat "$MNT/train-llama/status")
check "the listing is in while the token works" test -n "$held"
sleep $((LIFE + 1))
cat "$MNT/train-llama/status" >/dev/null 2>&1	# past the TTL: the refresh meets the refusal
wait_for grep -q "log in again" "$T_DIR/exfs.log"
expect "with the login refused, the held status is still served" "$(cat "$MNT/train-llama/status" 2>&1)" "$held"
expect "and ls still lists" "$(ls_errno)" "OK"
expect "while a control write fails with EACCES" "$(errno_of write "$MNT/train-llama/control" stop)" "EACCES@write"
mnt_stop

# --- a 401 storm shares one renewal
kr set "$CID" <<<"$(mint 3600)"
acc_mount "$KR_BUS" -o "api_url=$EMU_URL/v1,cache_ttl=0" || exit 1
ls "$MNT" >/dev/null
auth POST auth '{"revoke_access": true, "refresh_delay": 1}' >/dev/null
r0=$(auth_count refresh)
pids=()
for d in "$MNT"/*/; do cat "$d/status.json" >"$T_DIR/storm.$(basename "$d")" 2>&1 & pids+=($!); done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
expect "every reader of the storm succeeds" "$bad" "0"
expect "one renewal served the whole storm" "$(( $(auth_count refresh) - r0 ))" "1"
auth POST auth '{"refresh_delay": 0}' >/dev/null
mnt_stop

# --- exalsiusfs login into the Secret Service, then logout
kr clear "$CID"
auth POST auth '{"interval": 1}' >/dev/null
DBUS_SESSION_BUS_ADDRESS=$KR_BUS "$EXFS_BIN" login -o "auth_url=$EMU_URL" >"$T_DIR/login.out" 2>&1 &
LPID=$!
wait_for grep -q "enter the code" "$T_DIR/login.out"
expect_match "login prints the URL and the user code" "$(cat "$T_DIR/login.out")" "open https://emulator.invalid/activate.*enter the code [0-9A-F]{4}-[0-9A-F]{4}"
auth POST auth '{"device": "approve"}' >/dev/null
rc=0; for _ in $(seq 100); do kill -0 $LPID 2>/dev/null || break; sleep 0.1; done; wait $LPID || rc=$?
expect "login exits 0 once approved" "$rc" "0"
check "and says the tokens are in the Secret Service" grep -q "Secret Service" "$T_DIR/login.out"
check "exls (Python keyring) now sees the login" bash -c "$(printf '%q ' env DBUS_SESSION_BUS_ADDRESS="$KR_BUS" PYTHON_KEYRING_BACKEND=$PYTHON_KEYRING_BACKEND $KR get "$CID") | jq -e '.access_token and .refresh_token and .id_token and .expiry'"
check "login wrote no file" test ! -e "$STORE"
DBUS_SESSION_BUS_ADDRESS=$KR_BUS "$EXFS_BIN" logout >"$T_DIR/logout.out" 2>&1
expect "logout removes the keyring login" "$(kr get "$CID" | jq -c '[.[]] | unique')" "[null]"

# --- no Secret Service: login writes our own 0600 file, the mount uses it and writes renewals back
auth POST auth '{"token_ttl": 8}' >/dev/null
env -u DBUS_SESSION_BUS_ADDRESS "$EXFS_BIN" login -o "auth_url=$EMU_URL" >"$T_DIR/login2.out" 2>&1 &
LPID=$!
wait_for grep -q "enter the code" "$T_DIR/login2.out"
auth POST auth '{"device": "approve"}' >/dev/null
rc=0; for _ in $(seq 100); do kill -0 $LPID 2>/dev/null || break; sleep 0.1; done; wait $LPID || rc=$?
expect "without a Secret Service login still succeeds" "$rc" "0"
expect "into our own file, mode 0600" "$(stat -c %a "$STORE" 2>&1)" "600"
expect "in a 0700 directory" "$(stat -c %a "$(dirname "$STORE")" 2>&1)" "700"
OLD_RT=$(jq -r .refresh_token "$STORE")
: >"$T_DIR/exfs.log"
acc_mount - -o "api_url=$EMU_URL/v1,cache_ttl=0" || exit 1
check "the mount uses that login" test -d "$MNT/train-llama"
check "and says so" grep -q "using the login of exalsiusfs login" "$T_DIR/exfs.log"
bad=0
for _ in $(seq 40); do cat "$MNT/train-llama/status" >/dev/null 2>&1 || bad=$((bad + 1)); sleep 0.25; done
expect "reads across the expiry all succeed (file login)" "$bad" "0"
mnt_stop
check "the renewed tokens were written back to the file" test "$(jq -r .refresh_token "$STORE")" != "$OLD_RT"
expect "still mode 0600" "$(stat -c %a "$STORE")" "600"
check "no temporary file was left" bash -c "! ls '$(dirname "$STORE")' | grep -q tmp"
env -u DBUS_SESSION_BUS_ADDRESS "$EXFS_BIN" logout >/dev/null 2>&1
check "logout removes the file" test ! -e "$STORE"
auth POST auth '{"token_ttl": 3600}' >/dev/null

# --- login: denied, expired, slow_down, Ctrl-C
login_case() {	# login_case NAME ACTION WANT_RC WANT_MSG
	env -u DBUS_SESSION_BUS_ADDRESS "$EXFS_BIN" login -o "auth_url=$EMU_URL" >"$T_DIR/lc.out" 2>&1 &
	local pid=$! rc=0
	wait_for grep -q "enter the code" "$T_DIR/lc.out"
	if [ "$2" = INT ]; then kill -INT $pid; else auth POST auth "{\"device\": \"$2\"}" >/dev/null; fi
	[ "$2" = slow_down ] && { sleep 1.5; auth POST auth '{"device": "approve"}' >/dev/null; }
	for _ in $(seq 150); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	kill $pid 2>/dev/null
	wait $pid || rc=$?
	if [ "$rc" = "$3" ] && grep -q "$4" "$T_DIR/lc.out"; then pass "$1"; else fail "$1: rc=$rc $(tr '\n' ' ' <"$T_DIR/lc.out")"; fi
}
login_case "login refused by the user fails" deny 1 "User refused"
login_case "an expired code fails and says to run login again" expire 1 "run login again"
login_case "login after slow_down still succeeds" slow_down 0 "Logged in"
login_case "Ctrl-C ends login" INT 130 "interrupted"
env -u DBUS_SESSION_BUS_ADDRESS "$EXFS_BIN" logout >/dev/null 2>&1

# --- the /v1 base-path fallback, both ways
kr set "$CID" <<<"$(mint 3600)"
: >"$T_DIR/exfs.log"
acc_mount "$KR_BUS" -o "api_url=$EMU_URL,cache_ttl=0" || exit 1
check "a base without /v1 falls back to /v1" test -d "$MNT/train-llama"
check "and logs the base it uses" grep -q "answered 404 at $EMU_URL; using $EMU_URL/v1" "$T_DIR/exfs.log"
mnt_stop
EMU1_PID=$EMU_PID EMU1_URL=$EMU_URL
rm -f "$T_DIR/port"
python3 "$ROOT/scripts/emulator.py" --port 0 --port-file "$T_DIR/port" --quiet --demo --base-path "" >>"$T_DIR/emu2.log" 2>&1 &
EMU2_PID=$!
ON_EXIT+=("kill $EMU2_PID 2>/dev/null")
wait_for test -s "$T_DIR/port"
EMU2_URL="http://127.0.0.1:$(cat "$T_DIR/port")"
: >"$T_DIR/exfs.log"
acc_mount "$KR_BUS" -o "api_url=$EMU2_URL/v1,cache_ttl=0" || exit 1
check "a base with /v1 falls back to the bare host" test -d "$MNT/train-llama"
mnt_stop
: >"$T_DIR/exfs.log"
acc_mount "$KR_BUS" -o "api_url=$EMU1_URL/api,cache_ttl=0,max_stale=0" || exit 1
expect_match "a base that answers neither way fails" "$(ls_errno)" "^E(NOENT|IO)@listdir$"
check "and the error names both URLs" grep -q "no workspace listing at $EMU1_URL/api/workspaces nor at $EMU1_URL/api/v1/workspaces" "$T_DIR/exfs.log"
mnt_stop

# --- the API host from EXLS_BACKEND_HOST and from exls's config.yaml (as exls has it: no /v1)
: >"$T_DIR/exfs.log"
EXLS_BACKEND_HOST=$EMU1_URL acc_mount "$KR_BUS" -o cache_ttl=0 || exit 1
check "EXLS_BACKEND_HOST is used" test -d "$MNT/train-llama"
check "and named in the log" grep -q "from EXLS_BACKEND_HOST" "$T_DIR/exfs.log"
mnt_stop
mkdir -p "$XDG_CONFIG_HOME/exalsius"
printf 'default_cluster: null\nbackend_host: "%s"\nauth0:\n  domain: x\n' "$EMU1_URL" >"$XDG_CONFIG_HOME/exalsius/config.yaml"
: >"$T_DIR/exfs.log"
acc_mount "$KR_BUS" -o cache_ttl=0 || exit 1
check "backend_host in config.yaml is used" test -d "$MNT/train-llama"
check "and named in the log" grep -q "from $XDG_CONFIG_HOME/exalsius/config.yaml" "$T_DIR/exfs.log"
mnt_stop
EXALSIUS_API_URL=$EMU1_URL/v1 acc_mount "$KR_BUS" -o cache_ttl=0 || exit 1
check "EXALSIUS_API_URL comes before config.yaml" test -d "$MNT/train-llama"
mnt_stop

# --- -o token_source pins one source
: >"$T_DIR/exfs.log"
acc_mount "$KR_BUS" -o "api_url=$EMU1_URL/v1,cache_ttl=0,max_stale=0,token_source=store" || exit 1
expect "token_source=store ignores the keyring login" "$(ls_errno)" "EACCES@listdir"
mnt_stop
out=$(timeout 10 "$EXFS_BIN" -f -o "token_source=bogus" "$MNT" 2>&1)
expect_match "an unknown token_source is refused" "$out" "token_source must be one of"
finish
