#!/usr/bin/env bash
# Build the libFuzzer targets in tests/fuzz/ with clang (ASan + UBSan),
# replay the kept regression inputs, then fuzz each target for FUZZ_SECONDS
# on a copy of its seed corpus in build/fuzz/.
#
#   tests/fuzz/run.sh                    all targets, 30 s each
#   FUZZ_SECONDS=300 tests/fuzz/run.sh   longer
#   FUZZ_TARGETS="path spec" tests/fuzz/run.sh
#
# Prints "ok - fuzz_<t> (N runs)" or "not ok - fuzz_<t> ..." per target and
# a last line "fuzz: N passed, N failed"; exits 1 on any failure. Crash
# inputs are left in build/fuzz/crashes/<t>/: copy them to
# tests/fuzz/regressions/<t>/ to keep them as regression cases.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FUZZ_DIR=$ROOT/tests/fuzz
OUT=${FUZZ_OUT:-$ROOT/build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
FUZZ_TARGETS=${FUZZ_TARGETS:-list problem spec path}
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null 2>&1 || CLANG=clang-14

# the pure modules (no FUSE, no curl), those of them that exist: model is
# split over src/model*.c, and utf8.c, rfc3339.c are helpers they use
SRCS=()
for f in "$ROOT"/src/model*.c "$ROOT"/src/{path,snap,htab,log,logbuf,rfc3339,utf8,secret}.c; do
	[ -f "$f" ] && SRCS+=("$f")
done
CFLAGS=(-g -O1 '-fsanitize=fuzzer,address,undefined' -fno-sanitize-recover=undefined
	-fno-omit-frame-pointer -pthread -std=c11 -I"$ROOT/src" -I"$FUZZ_DIR"
	-D_GNU_SOURCE '-DEXFS_VERSION="fuzz"')
read -r -a JANSSON <<<"$(pkg-config --cflags --libs jansson)"

PASS=0
FAIL=0
pass() { PASS=$((PASS + 1)); echo "ok - $*"; }
# signature LOG: the first line that says what went wrong
signature() {
	grep -m1 -E 'fuzz invariant failed|ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|ERROR: libFuzzer' "$1" |
		sed 's/^==[0-9]*==//'
}
fail() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }

mkdir -p "$OUT"
# halt_on_error: a report ends the run and makes it fail; no leak is ignored
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in $FUZZ_TARGETS; do
	bin=$OUT/fuzz_$t
	log=$OUT/fuzz_$t.log
	: >"$log"
	if ! "$CLANG" "${CFLAGS[@]}" -o "$bin" "$FUZZ_DIR/fuzz_$t.c" "${SRCS[@]}" \
		"${JANSSON[@]}" >>"$log" 2>&1; then
		fail "fuzz_$t (build failed, see $log)"
		sed 's/^/# /' "$log" | tail -n 20
		continue
	fi

	# 1. the kept crash inputs, each replayed as a plain input
	reg_bad=0
	reg_n=0
	if [ -d "$FUZZ_DIR/regressions/$t" ]; then
		for f in "$FUZZ_DIR/regressions/$t"/*; do
			[ -f "$f" ] || continue
			reg_n=$((reg_n + 1))
			if ! "$bin" -rss_limit_mb=2048 "$f" >"$log.replay" 2>&1; then
				reg_bad=$((reg_bad + 1))
				echo "# fuzz_$t: regression $(basename "$f") fails: $(signature "$log.replay")"
			fi
			cat "$log.replay" >>"$log"
		done
		rm -f "$log.replay"
	fi

	# 2. fuzzing on a private copy of the seed corpus
	corpus=$OUT/corpus/$t
	crashes=$OUT/crashes/$t
	mkdir -p "$corpus" "$crashes"
	if [ -d "$FUZZ_DIR/corpus/$t" ]; then
		cp -n "$FUZZ_DIR/corpus/$t"/* "$corpus"/ 2>/dev/null
	fi
	dict=()
	[ -f "$FUZZ_DIR/fuzz_$t.dict" ] && dict=(-dict="$FUZZ_DIR/fuzz_$t.dict")
	"$bin" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=25 \
		-close_fd_mask=1 -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$crashes/" "$corpus" >"$log.fuzz" 2>&1
	rc=$?
	cat "$log.fuzz" >>"$log"
	runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log.fuzz" | tail -n 1 | grep -Eo '[0-9]+$')
	runs=${runs:-0}
	if [ $rc -ne 0 ] || [ $reg_bad -gt 0 ]; then
		why=
		if [ $rc -ne 0 ]; then
			why="fuzzing found: $(signature "$log.fuzz"); input in $crashes"
		fi
		[ $reg_bad -gt 0 ] && why="${why:+$why; }$reg_bad of $reg_n regression inputs fail"
		fail "fuzz_$t ($runs runs; $why)"
	else
		pass "fuzz_$t ($runs runs, $reg_n regression inputs)"
	fi
	rm -f "$log.fuzz"
done
echo "fuzz: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
