#!/usr/bin/env bash
# Waiting holds no thread: hundreds of blocked wait/STATE readers while
# unrelated reads answer at once; one list request per wait interval for
# all of them; Ctrl-C and rmdir end a wait at once; a state that is no
# workspace_status is ENOENT at lookup, never a block; workers a burst
# started do not stay idle.
source "$(dirname "$0")/lib.sh"
# the failures this suite provokes on purpose (see finish)
log_expect "$LOG_E"'wait for (RUNNING|STOPPED) on .+: the workspace was deleted$'

stat_of() { awk -v k="$1" '$1 == k {print $2}' "$MNT/.stats"; }
# wait_for_stat KEY VALUE: poll .stats (bounded) until KEY has VALUE
wait_for_stat() {
	local got=
	for _ in $(seq 100); do
		got=$(stat_of "$1")
		[ "$got" = "$2" ] && break
		sleep 0.1
	done
	echo "$got"
}

emu_start --seed 21 || exit 1
mnt_start -o cache_ttl=10 || exit 1
mapfile -t WS < <(ls "$MNT")
# a state each workspace is not in (and will not reach by itself)
other_state() { case $(cat "$MNT/$1/status") in RUNNING) echo STOPPED ;; *) echo RUNNING ;; esac; }
victim=${WS[0]}
others=()
for w in "${WS[@]:1}"; do
	[ "$(cat "$MNT/$w/status")" = FAILED ] || others+=("$w")
done
others=("${others[@]:0:20}")
check "21 workspaces to wait on" test "${#others[@]}" -ge 10
threads0=$(ls /proc/"$EXFS_PID"/task | wc -l)

# an unrelated reader's usual time
t0=$(date +%s%N); stat "$MNT/${others[0]}/id" >/dev/null; cat "$MNT/${others[0]}/status" >/dev/null
base_ms=$(( ($(date +%s%N) - t0) / 1000000 ))

pids=()
vstate=$(other_state "$victim")
for i in $(seq 200); do
	cat "$MNT/$victim/wait/$vstate" >/dev/null 2>&1 & pids+=($!)
done
for w in "${others[@]}"; do
	s=$(other_state "$w")
	for i in $(seq 10); do cat "$MNT/$w/wait/$s" >/dev/null 2>&1 & pids+=($!); done
done
n=$(( 200 + 10 * ${#others[@]} ))
expect "$n readers block on wait files" "$(wait_for_stat waiters "$n")" "$n"
t0=$(date +%s%N)
timeout 10 stat "$MNT/${others[0]}/status.json" >/dev/null &&
	timeout 10 cat "$MNT/${others[1]}/status" >/dev/null
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "meanwhile an unrelated stat and cat succeed" "$rc" "0"
check "and answer at once (${ms} ms; ${base_ms} ms without waiters; under 1000)" test "$ms" -lt 1000
threads=$(ls /proc/"$EXFS_PID"/task | wc -l)
check "the daemon keeps no thread for a waiter ($threads threads, $threads0 before; at most 4 idle workers)" test "$threads" -le $((threads0 + 4))
emu_reset
sleep 3
lists=$(emu_count list_workspaces)
check "all $n waiters cost one list request per 1 s interval ($lists in 3 s)" test "$lists" -le 4 -a "$lists" -ge 2
expect "and no describe" "$(emu_count describe_workspace)" "0"
{ kill -KILL "${pids[@]}"; for p in "${pids[@]}"; do wait "$p"; done; } 2>/dev/null
expect "killed readers leave no waiter behind" "$(wait_for_stat waiters 0)" "0"

# --- Ctrl-C ends one wait at once, and writes nothing in error --------------
w=${others[2]}
s=$(other_state "$w")
before=$(cat "$MNT/$w/error")
# background jobs of a script ignore SIGINT: restore it as a terminal would
python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp("cat", ["cat", sys.argv[1]])' \
	"$MNT/$w/wait/$s" >/dev/null 2>&1 & p=$!
wait_for_stat waiters 1 >/dev/null
t0=$(date +%s%N)
kill -INT "$p"
wait "$p"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGINT ends a wait (cat exits $rc)" test "$rc" -ne 0
check "at once (${ms} ms < 500)" test "$ms" -lt 500
expect "an interrupted wait writes nothing in error" "$(cat "$MNT/$w/error")" "$before"

# --- deleting the workspace ends its waits with ENOENT ----------------------
w=${others[3]}
s=$(other_state "$w")
( errno_of read "$MNT/$w/wait/$s" >"$T_DIR/waitrc" ) & p=$!
wait_for_stat waiters 1 >/dev/null
t0=$(date +%s%N)
check "rmdir of a workspace someone waits on succeeds" rmdir "$MNT/$w"
wait "$p"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "the waiter gets ENOENT" "$(cat "$T_DIR/waitrc")" "ENOENT@open"
check "at once (${ms} ms < 1000)" test "$ms" -lt 1000

# --- a typo never blocks ---------------------------------------------------
w=${others[4]}
cat "$MNT/$w/status" >/dev/null	# the listing after the rmdir is in
expect "wait/RUNING is ENOENT at lookup" "$(errno_of read "$MNT/$w/wait/RUNING")" "ENOENT@open"
expect "so is a lower-case state" "$(errno_of stat "$MNT/$w/wait/running")" "ENOENT@stat"
t0=$(date +%s%N)
timeout 10 cat "$MNT/$w/wait/RUNING" 2>/dev/null
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "cat of it fails without waiting (exit $rc, ${ms} ms < 500)" test "$rc" -eq 1 -a "$ms" -lt 500
check "a spec state is a wait file" test -f "$MNT/$w/wait/DELETED"

# --- workers a burst started end when it is over -----------------------------
# 10 control writes at once, each waiting 1.5 s on the API, keep 10 workers
# busy; once they are answered at most 4 stay idle (-o max_idle_threads)
emu_fault '{"latency": 1.5, "count": 10, "endpoint": "start_workspace"}'
emu_fault '{"latency": 1.5, "count": 10, "endpoint": "stop_workspace"}'
tasks() { ls /proc/"$EXFS_PID"/task | wc -l; }
bg=()
for w in "${others[@]:5}"; do
	case $(cat "$MNT/$w/status") in RUNNING) a=stop ;; STOPPED) a=start ;; *) continue ;; esac
	( echo "$a" >"$MNT/$w/control" ) 2>/dev/null & bg+=($!)
	[ ${#bg[@]} -eq 10 ] && break
done
peak=0
for _ in $(seq 300); do	# while the writes last (30 s at most)
	t=$(tasks)
	[ "$t" -gt "$peak" ] && peak=$t
	busy=0
	for p in "${bg[@]}"; do kill -0 "$p" 2>/dev/null && busy=1; done
	[ "$busy" -eq 0 ] && break
	sleep 0.1
done
wait "${bg[@]}"
for _ in $(seq 50); do after=$(tasks); [ "$after" -le $((threads0 + 4)) ] && break; sleep 0.1; done
emu_clear
check "a burst of ${#bg[@]} slow control writes starts workers ($peak threads at its peak, $threads0 at mount)" \
	test "${#bg[@]}" -eq 10 -a "$peak" -ge $((threads0 + 6))
check "and the idle ones end after it ($after threads; at most 4 idle workers)" test "$after" -le $((threads0 + 4))

mnt_stop
check "daemon exited cleanly" test $? -eq 0
finish
