#!/usr/bin/env bash
# soak: a login whose access tokens expire every 20 s, renewed by the mount
# for SOAK_SECONDS (default 600) under a steady load of readers and
# start/stop commands. Passes when no reader or command ever saw EACCES,
# no request went out with an expired token, and the login was renewed
# about once per token lifetime (not once per request). Not part of
# make check (it takes ten minutes): run it with make soak.
source "$(dirname "$0")/../integration/lib.sh"

SECS=${SOAK_SECONDS:-600}
TTL=${SOAK_TOKEN_TTL:-20}
emu_start --demo --pending-delay 0.2 --token-ttl "$TTL" || exit 1
CID=kSbRc9MOnuMKMVLzhZYBo3xkTtk2KK7B
STORE=$XDG_CONFIG_HOME/exalsiusfs/login.json
mkdir -p "$(dirname "$STORE")"
chmod 700 "$(dirname "$STORE")"
emu_admin POST auth/mint "{\"ttl\": $TTL}" |
	jq --arg cid "$CID" '{client_id: $cid, access_token, id_token, refresh_token, expiry: ""}' >"$STORE"
chmod 600 "$STORE"
MNT_TOKEN="" mnt_start -o "auth_url=$EMU_URL,cache_ttl=0,token_source=store" || exit 1
WS=$MNT/train-llama
end=$((SECONDS + SECS))
reader() {	# reader N: read every status file until the end; count failures
	local bad=0 n=0
	while [ $SECONDS -lt $end ]; do
		for f in "$MNT"/*/status.json; do
			r=$(errno_of read "$f")
			n=$((n + 1))
			case $r in OK*) ;; *) bad=$((bad + 1)); echo "$r" >>"$T_DIR/reader.$1.errors" ;; esac
		done
		sleep 0.2
	done
	echo "$n $bad" >"$T_DIR/reader.$1"
}
commander() {	# stop and start one workspace, over and over
	local bad=0 n=0 cmd=stop
	while [ $SECONDS -lt $end ]; do
		r=$(errno_of write "$WS/control" "$cmd")
		n=$((n + 1))
		[ "$r" = OK ] || [ "$r" = EBUSY@write ] || { bad=$((bad + 1)); echo "$r" >>"$T_DIR/cmd.errors"; }
		[ "$cmd" = stop ] && cmd=start || cmd=stop
		sleep 1
	done
	echo "$n $bad" >"$T_DIR/cmd"
}
pids=()
for i in 1 2 3; do reader $i & pids+=($!); done
commander & pids+=($!)
wait "${pids[@]}"	# not the emulator's or the daemon's
reads=0 rbad=0
for i in 1 2 3; do read -r n b <"$T_DIR/reader.$i"; reads=$((reads + n)); rbad=$((rbad + b)); done
read -r cmds cbad <"$T_DIR/cmd"
state=$(emu_admin GET auth)
refreshes=$(jq -r .counts.refresh <<<"$state")
expired=$(jq -r .counts.api_expired <<<"$state")
echo "# $SECS s, token lifetime $TTL s: $reads reads, $cmds commands, $refreshes renewals"
expect "no reader failed" "$rbad" "0"
expect "no command failed (EBUSY from the emulator's state machine aside)" "$cbad" "0"
grep -qs EACCES "$T_DIR"/reader.*.errors "$T_DIR/cmd.errors" && fail "EACCES was seen" || pass "EACCES was never seen"
expect "no request went out with an expired token" "$expired" "0"
# renewed when a quarter of the lifetime is left: once per 3/4 lifetime
lo=$((SECS / TTL - 1)) hi=$((SECS * 4 / (TTL * 3) + 2))
if [ "$refreshes" -ge "$lo" ] && [ "$refreshes" -le "$hi" ]; then
	pass "one renewal per token lifetime ($refreshes, expected $lo..$hi)"
else
	fail "one renewal per token lifetime: $refreshes, expected $lo..$hi"
fi
mnt_stop || fail "the daemon exited cleanly"
finish
