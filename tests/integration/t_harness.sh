#!/usr/bin/env bash
# The harness itself: the checks that guard every other suite must fail
# when what they guard is broken (a green run must mean something).
source "$(dirname "$0")/lib.sh"

# -- the contract test fails, not skips, without the OpenAPI description
out=$(EXALSIUS_OPENAPI_DIR=$T_DIR/no-spec "$PY" "$ROOT/tests/contract/test_emulator_contract.py" 2>&1)
rc=$?
expect "contract test without the spec exits 1" "$rc" 1
expect_match "and says why" "$out" "not ok - spec: not found at $T_DIR/no-spec"

# -- finish() fails on daemon log lines nobody expected
cat >"$T_DIR/child.sh" <<'SH'
source "$ROOT/tests/integration/lib.sh"
log_expect "$LOG_W"'templates unavailable \(HTTP [0-9]+\)$'
printf '%s\n' "$@" >"$T_DIR/exfs.log"
pass "a check"
finish
SH
# log_verdict LINE...: how finish() judges a daemon log of these lines
log_verdict() {
	local out
	out=$(ROOT=$ROOT bash "$T_DIR/child.sh" "$@" 2>&1)
	case $? in
	0) echo clean ;;
	*) grep -q '^not ok - daemon log holds no unexpected' <<<"$out" && echo flagged || echo "other: $out" ;;
	esac
}
expect "info lines and declared warnings pass" \
	"$(log_verdict 'exalsiusfs: info: mounted' 'exalsiusfs: warning: templates unavailable (HTTP 500)')" clean
expect "an undeclared warning fails" "$(log_verdict 'exalsiusfs: warning: something new')" flagged
expect "an undeclared error fails" "$(log_verdict 'exalsiusfs: error: workspace x: oops')" flagged
expect "a declared warning with more text fails" \
	"$(log_verdict 'exalsiusfs: warning: templates unavailable (HTTP 500) and more')" flagged
expect "libfuse's own warnings fail" "$(log_verdict 'fuse: warning: library too old, some operations may not work')" flagged
expect "a valgrind report fails" "$(log_verdict '==4242== Invalid read of size 8')" flagged
expect "a sanitizer report fails" "$(log_verdict '==4242==ERROR: AddressSanitizer: heap-use-after-free')" flagged

# -- t_secrets fails on a dead mount instead of finding no token in it
out=$(T_SECRETS_KILL_DAEMON=1 bash "$ROOT/tests/integration/t_secrets.sh" 2>&1)
rc=$?
check "t_secrets with its daemon killed fails" test "$rc" -ne 0
expect_match "its leak check fails on the dead mount" "$out" \
	"not ok - the token is in no log and no file of the mount: grep failed"
expect_match "its unmount check fails" "$out" "not ok - the daemon exited cleanly at unmount"
finish
