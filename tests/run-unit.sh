#!/usr/bin/env bash
# Run the unit test binaries given as arguments, one after the other, each
# printing its own cmocka report; with VALGRIND=1 each runs under valgrind
# (definite leaks and memory errors fail it). Ends with one summary line,
# "unit: N passed, N failed", counting binaries; exits 1 if any failed.
# Dependency files (*.d) matched by a glob such as build/tests/test_* are
# skipped; any other argument that is not an executable counts as failed.
set -u

if [ "$#" -eq 0 ]; then
	echo "usage: $0 build/tests/test_<module>..." >&2
	exit 2
fi

runner=()
if [ "${VALGRIND:-0}" = 1 ]; then
	runner=(valgrind --error-exitcode=99 --leak-check=full
		--errors-for-leak-kinds=definite -q)
fi

passed=0
failed=0
failed_names=()
for bin in "$@"; do
	case "$bin" in
	*.d | *.o) continue ;;	# make's by-products when given a glob
	esac
	name=$(basename -- "$bin")
	echo "== $name"
	if [ ! -x "$bin" ]; then
		echo "$name: not found or not executable" >&2
		rc=127
	else
		${runner[@]+"${runner[@]}"} "$bin"
		rc=$?
	fi
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failed_names+=("$name (exit $rc)")
	fi
done

for f in "${failed_names[@]+"${failed_names[@]}"}"; do
	echo "FAILED: $f"
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
