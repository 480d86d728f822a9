# lib.sh: shared harness for the integration suites (sourced, bash).
#
# Each suite gets a private temp dir, its own emulator on 127.0.0.1 (port 0,
# port read from a file) and its own mount, all torn down by an EXIT trap,
# also when a check fails or the suite is interrupted. Checks print TAP-like
# lines; the suite ends with "<suite>: N passed, N failed".

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EXFS_BIN=${EXFS_BIN:-$ROOT/build/exalsiusfs}
# Debian's python3 (install-deps installs it) unless EXFS_PYTHON says
# otherwise: a version manager's shim found first in PATH can take 0.3 s
# per start, and the suites start Python hundreds of times.
PY=${EXFS_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
FSOP="$PY $ROOT/tests/integration/fsop.py"
SUITE=$(basename "$0" .sh)
T_DIR=$(mktemp -d "${EXFS_TEST_TMP:-/tmp}/exfs-$SUITE.XXXXXX")
MNT=$T_DIR/mnt
T_TOKEN="itest-token-$$-$RANDOM"
# hermetic: no login of the machine's user (Secret Service, config files)
# is ever seen or changed by a test
export XDG_CONFIG_HOME=$T_DIR/config
unset DBUS_SESSION_BUS_ADDRESS EXLS_BACKEND_HOST EXLS_AUTH0_DOMAIN EXLS_AUTH0_CLIENT_ID \
	EXLS_AUTH0_AUDIENCE EXALSIUS_API_URL
PASS=0
FAIL=0
EMU_PID=
EXFS_PID=
EMU_URL=
ON_EXIT=()	# extra commands for the EXIT trap

cleanup() {
	local rc=$?
	for c in "${ON_EXIT[@]}"; do eval "$c"; done
	if [ -n "$EXFS_PID" ] || grep -qs " $MNT fuse" /proc/mounts; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null
	fi
	if [ -n "$EXFS_PID" ]; then
		for _ in $(seq 50); do kill -0 "$EXFS_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$EXFS_PID" 2>/dev/null
	fi
	[ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
	if [ "$FAIL" -gt 0 ] || [ "${KEEP_LOGS:-}" ]; then
		for f in "$T_DIR"/*.log; do
			[ -f "$f" ] || continue
			echo "# --- $(basename "$f") (last 40 lines) ---"
			tail -n 40 "$f" | sed 's/^/# /'
		done
	fi
	rm -rf "$T_DIR"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { PASS=$((PASS + 1)); echo "ok - $*"; }
fail() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }

# check NAME CMD...: passes when CMD exits 0.
check() {
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name"; fi
}
# expect NAME GOT WANT: passes when the two strings are equal.
expect() {
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}
# expect_match NAME GOT REGEX
expect_match() {
	if [[ "$2" =~ $3 ]]; then pass "$1"; else fail "$1: '$2' does not match /$3/"; fi
}

# Daemon log lines that look like trouble (the words libfuse's own test
# suite looks for, sanitizer and valgrind reports): each one must match a
# pattern the suite declared with log_expect, or the suite fails.
LOG_SUSPICIOUS='\b(error|warning|fatal|exception|traceback|fault|crash(ed)?|abort(ed)?|uninitiali[sz]ed|assert(ion)?|segmentation|sanitizer|leak(s|ed)?|corrupt(ed|ion)?|overflow|double free)\b|^==[0-9]+=='
LOG_EXPECT=()
# pieces for log_expect patterns
LOG_E='^exalsiusfs: error: '
LOG_W='^exalsiusfs: warning: '
LOG_D='^exalsiusfs: debug: '	# libfuse's -d output comes through our log too
LOG_UUID='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
LOG_URL='http://127\.0\.0\.1:[0-9]+/v1'

# log_expect ERE...: daemon log lines (whole lines: anchor them) that this
# suite provokes on purpose.
log_expect() { LOG_EXPECT+=("$@"); }

# log_unexpected FILE...: the suspicious lines no log_expect pattern matches
log_unexpected() {
	# with no pattern declared every suspicious line is unexpected (an
	# empty pattern list would match every line and hide them all)
	if [ ${#LOG_EXPECT[@]} -eq 0 ]; then
		grep -hiE -- "$LOG_SUSPICIOUS" "$@"
	else
		grep -hiE -- "$LOG_SUSPICIOUS" "$@" | grep -vE -f <(printf '%s\n' "${LOG_EXPECT[@]}")
	fi
}

finish() {
	local logs=() unexpected f
	for f in "$T_DIR"/exfs*.log; do [ -f "$f" ] && logs+=("$f"); done
	if [ ${#logs[@]} -gt 0 ]; then
		# the daemon must not have reported sanitizer or valgrind errors
		if grep -Eq 'AddressSanitizer|ThreadSanitizer|runtime error:|LeakSanitizer' "${logs[@]}"; then
			fail "daemon log is free of sanitizer reports"
		fi
		unexpected=$(log_unexpected "${logs[@]}")
		if [ -n "$unexpected" ]; then
			fail "daemon log holds no unexpected warning or error ($(grep -c '' <<<"$unexpected") lines)"
			head -n 20 <<<"$unexpected" | sed 's/^/#   unexpected: /'
		fi
	fi
	echo "$SUITE: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

# emu_start [emulator args]: start the emulator, set EMU_URL.
emu_start() {
	rm -f "$T_DIR/port"
	EXALSIUS_TOKEN=$T_TOKEN "$PY" "$ROOT/scripts/emulator.py" --port 0 \
		--port-file "$T_DIR/port" --quiet "$@" >>"$T_DIR/emu.log" 2>&1 &
	EMU_PID=$!
	for _ in $(seq 100); do
		[ -s "$T_DIR/port" ] && break
		kill -0 "$EMU_PID" 2>/dev/null || { echo "# emulator died"; return 1; }
		sleep 0.1
	done
	[ -s "$T_DIR/port" ] || { echo "# emulator did not start"; return 1; }
	EMU_URL="http://127.0.0.1:$(cat "$T_DIR/port")"
}

emu_stop() {
	[ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
	EMU_PID=
}

# emu_admin METHOD PATH [JSON]
emu_admin() {
	curl -sS --max-time 10 -X "$1" ${3:+-H 'Content-Type: application/json' -d "$3"} \
		"$EMU_URL/_emulator/$2"
}
emu_reset() { emu_admin POST reset >/dev/null; }
# emu_count OP: requests the emulator saw for one operation (or "total").
emu_count() { emu_admin GET counts | jq -r ".$1"; }
emu_fault() { emu_admin POST faults "$1" >/dev/null; }
emu_clear() { emu_admin DELETE faults >/dev/null; }
# api METHOD PATH [JSON]: call the emulator's API directly, as another client.
api() {
	curl -sS --max-time 10 -X "$1" -H "Authorization: Bearer $T_TOKEN" \
		${3:+-H 'Content-Type: application/json' -d "$3"} "$EMU_URL/v1$2"
}

# mnt_start [-o opts...]: mount with the token in the environment.
# MNT_TOKEN (default the emulator's) may be set empty to mount without one.
mnt_start() {
	mnt_launch -u ACCESS_TOKEN EXALSIUS_TOKEN="${MNT_TOKEN-$T_TOKEN}" -- \
		-o "api_url=$EMU_URL/v1" "$@" || { [ -n "$EXFS_PID" ] && echo "# mount did not appear"; return 1; }
}

# mnt_launch ENV... -- ARGS...: start the daemon (env(1) arguments, then
# its own) in the foreground of a background job, under valgrind when
# EXFS_VALGRIND is set; wait for the mount (sets EXFS_PID).
mnt_launch() {
	local envs=() wrap=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	mkdir -p "$MNT"
	if [ "${EXFS_VALGRIND:-}" ]; then
		wrap=(valgrind --error-exitcode=99 --leak-check=full
		      --errors-for-leak-kinds=definite --show-leak-kinds=definite
		      --suppressions="$ROOT/tests/valgrind.supp"
		      --log-file="$T_DIR/valgrind.%p.log")
	fi
	env "${envs[@]}" "${wrap[@]}" "$EXFS_BIN" -f "$@" "$MNT" >>"$T_DIR/exfs.log" 2>&1 &
	EXFS_PID=$!
	for _ in $(seq 300); do
		grep -qs " $MNT fuse" /proc/mounts && return 0
		kill -0 "$EXFS_PID" 2>/dev/null || { echo "# exalsiusfs died"; EXFS_PID=; return 1; }
		sleep 0.1
	done
	return 1
}

# mnt_stop: unmount and wait for the daemon; fails if it exited non-zero.
mnt_stop() {
	local rc=0
	fusermount3 -u "$MNT" || return 1
	wait "$EXFS_PID" || rc=$?
	EXFS_PID=
	if [ "${EXFS_VALGRIND:-}" ]; then
		if grep -Eq 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' "$T_DIR"/valgrind.*.log 2>/dev/null ||
		   ! grep -q 'ERROR SUMMARY: 0 errors' "$T_DIR"/valgrind.*.log 2>/dev/null; then
			cat "$T_DIR"/valgrind.*.log >>"$T_DIR/exfs.log"
			rc=98
		fi
		rm -f "$T_DIR"/valgrind.*.log
	fi
	return $rc
}

# errno_of OP ARGS...: what fsop.py printed.
errno_of() { $FSOP "$@" 2>/dev/null; }

# a valid create request for the emulator
spec_json() {
	local name=$1 extra=${2:-}
	printf '{"name": "%s", "cluster_id": "%s", "template": {"name": "jupyter-notebook", "variables": {"notebook_port": "8888"}}, "resources": {"gpu_count": 1, "gpu_type": "A100", "gpu_vendor": "NVIDIA", "cpu_cores": 4, "memory_gb": 16, "storage_gb": 100}%s}\n' \
		"$name" "${CLUSTER:-11111111-1111-4111-8111-111111111111}" "$extra"
}
