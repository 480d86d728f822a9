#!/usr/bin/env bash
# run.sh: run every integration suite (t_*.sh) in its own process, then
# print the total as "integration: N passed, N failed".
cd "$(dirname "$0")" || exit 1
pass=0
fail=0
suites=${SUITES:-$(ls t_*.sh)}
# the suites' temp dirs go into one directory of this run, so that the
# leak check below sees this run's mounts only (other runs may be going on)
EXFS_TEST_TMP=$(mktemp -d /tmp/exfs-run.XXXXXX) || exit 1
export EXFS_TEST_TMP
# any test mount left after the suites is a leak
mounts() { awk -v d="$EXFS_TEST_TMP/" '$3 ~ /^fuse/ && index($2, d) == 1 {print $2}' /proc/mounts | sort; }
log=$(mktemp)
trap 'rm -f "$log"; rmdir "$EXFS_TEST_TMP" 2>/dev/null' EXIT
for s in $suites; do
	echo "# suite $s"
	bash "$s" 2>&1 | tee "$log"
	out=$(grep -E "^${s%.sh}: [0-9]+ passed, [0-9]+ failed$" "$log" | tail -n 1)
	if [[ "$out" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		pass=$((pass + BASH_REMATCH[1]))
		fail=$((fail + BASH_REMATCH[2]))
	else
		echo "not ok - $s ended without a summary"
		fail=$((fail + 1))
	fi
done
if [ -n "$(mounts)" ]; then
	echo "not ok - a test mount was left behind"
	fail=$((fail + 1))
fi
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
