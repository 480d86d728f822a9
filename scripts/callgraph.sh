#!/usr/bin/env bash
# scripts/callgraph.sh [BUILD [REGEX]]: which module calls into which, from the
# object files (a symbol one .o leaves undefined and another defines), and
# the circles among them; exits 1 when there is one among the modules
# whose names match REGEX (default: all). Run after make; BUILD defaults
# to build.
set -u
B=${1:-build}/obj
ONLY=${2:-.*}
cd "$(dirname "$0")/.." || exit 2
[ -d "$B" ] || { echo "no $B: run make first" >&2; exit 2; }
declare -A def
for o in "$B"/*.o; do
	m=$(basename "$o" .o)
	for s in $(nm --defined-only -g "$o" | awk '{ print $3 }'); do def[$s]=$m; done
done
edges=$(for o in "$B"/*.o; do
	m=$(basename "$o" .o)
	for s in $(nm -u "$o" | awk '{ print $2 }'); do
		d=${def[$s]:-}
		[ -n "$d" ] && [ "$d" != "$m" ] && echo "$m $d"
	done
done | sort -u)
echo "# calls (caller -> callee module)"
awk '{ a[$1] = a[$1] " " $2 } END { for (k in a) print k " ->" a[k] }' <<<"$edges" | sort
echo "# circles among modules matching /$ONLY/ (tsort reports the modules on each)"
edges=$(awk -v re="^($ONLY)\$" '$1 ~ re && $2 ~ re' <<<"$edges")
if tsort <<<"$edges" >/dev/null 2>&1; then
	echo "none"
	exit 0
fi
tsort <<<"$edges" 2>&1 >/dev/null | sed -n 's/^tsort: //p' | grep -v "input contains a loop"
exit 1
