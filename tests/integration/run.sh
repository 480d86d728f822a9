#!/usr/bin/env bash
# run.sh: run every integration suite (t_*.sh) in its own process, then
# print the total as "integration: N passed, N failed".
cd "$(dirname "$0")" || exit 1
pass=0
fail=0
suites=${SUITES:-$(ls t_*.sh)}
# test mounts present now; any new one after the suites is a leak
mounts() { awk '$3 ~ /^fuse/ && $2 ~ /\/tmp\/exfs-t_/ {print $2}' /proc/mounts | sort; }
before=$(mounts)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
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
if [ "$(mounts)" != "$before" ]; then
	echo "not ok - a test mount was left behind"
	fail=$((fail + 1))
fi
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
