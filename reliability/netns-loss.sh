#!/usr/bin/env bash
# Real packet loss for real clients: inside a private network namespace (only `lo`, up), an
# nftables rule drops LOSS% of the DATA and ACK datagrams at random on input, both directions.
# The handshake (RRQ, OACK, ACK 0) is spared on purpose: curl 7.88 never resends a lost RRQ,
# and atftp 0.8 aborts with "unexpected OACK" when its ACK 0 is lost and the server rightly
# resends the OACK. Those are client bugs; the in-process lossy-link tests cover the handshake.
# For atftp only DATA is dropped: atftp 0.8 re-ACKs a duplicate DATA once and then ignores
# further copies, so a lost ACK followed by a lost re-ACK stalls it until the server gives up.
# Our built server serves ROOT; curl and atftp fetch every file in it; each SHA-256 is checked.
#
#   unshare --net reliability/netns-loss.sh ROOT [LOSS_PERCENT=5] [BLKSIZE=1428]
#
# curl derives its TFTP retransmit time from --connect-timeout; 2 s keeps a lossy run short.
# Prints "OK <client> <file>" or "FAIL <client> <file> <why>" per transfer, "NFT-DROPPED <n>",
# and the server's counters as "SERVER <json>". Exits 1 if any transfer failed, 2 on set-up errors.
set -euo pipefail

root=${1:?usage: netns-loss.sh ROOT [LOSS_PERCENT] [BLKSIZE]}
loss=${2:-5}
blksize=${3:-1428}
here=$(cd "$(dirname "$0")" && pwd)

# Refuse to touch the host's network: this must run in a namespace of its own.
if ip -o link show | grep -qv ': lo:'; then
  echo "netns-loss.sh: run me inside 'unshare --net' (found interfaces other than lo)" >&2
  exit 2
fi
ip link set lo up
nft add table inet ptftp_loss
nft add chain inet ptftp_loss in '{ type filter hook input priority 0; policy accept; }'
# @th,64,16 is the TFTP opcode (the first two bytes after the 8-byte UDP header): 3 DATA, 4 ACK.
lose() { # opcodes to drop ("3, 4" or "3"); ACK 0 is always spared
  nft flush chain inet ptftp_loss in
  nft add rule inet ptftp_loss in meta l4proto udp @th,64,16 "{ $1 }" @th,64,32 '!=' 0x00040000 \
    numgen random mod 100 '<' "$loss" counter drop
}
dropped() { nft list chain inet ptftp_loss in | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }

out=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$out"
}
trap cleanup EXIT

node "$here/netns-server.mjs" "$root" >"$out/server.log" 2>"$out/server.err" &
server_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$out/server.log" 2>/dev/null || true)
  [ -n "$port" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "netns-loss.sh: server did not start: $(cat "$out/server.err")" >&2
  exit 2
fi

failed=0
total_dropped=0
check() { # client file fetched-copy
  local want got
  want=$(sha256sum <"$root/$2" | cut -d' ' -f1)
  got=$(sha256sum <"$3" | cut -d' ' -f1)
  if [ "$want" = "$got" ]; then echo "OK $1 $2"; else echo "FAIL $1 $2 sha256 $got != $want"; failed=1; fi
}
files=()
while IFS= read -r -d '' path; do files+=("${path#"$root"/}"); done < <(find "$root" -type f -print0 | sort -z)

lose '3, 4'
for name in "${files[@]}"; do
  if timeout 120 curl -sS --max-time 110 --connect-timeout 2 --tftp-blksize "$blksize" -o "$out/curl.bin" "tftp://127.0.0.1:$port/$name" 2>"$out/curl.err"; then
    check curl "$name" "$out/curl.bin"
  else
    echo "FAIL curl $name $(tr '\n' ' ' <"$out/curl.err")"
    failed=1
  fi
done
total_dropped=$((total_dropped + $(dropped)))

lose '3'
for name in "${files[@]}"; do
  if timeout 120 atftp --tftp-timeout 1 --option "blksize $blksize" -g -r "$name" -l "$out/atftp.bin" 127.0.0.1 "$port" >"$out/atftp.err" 2>&1; then
    check atftp "$name" "$out/atftp.bin"
  else
    echo "FAIL atftp $name $(tr '\n' ' ' <"$out/atftp.err")"
    failed=1
  fi
done
total_dropped=$((total_dropped + $(dropped)))

echo "NFT-DROPPED $total_dropped"
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
echo "SERVER $(grep '^{' "$out/server.log" || echo '{}')"
exit "$failed"
