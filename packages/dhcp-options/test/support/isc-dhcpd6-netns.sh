#!/usr/bin/env bash
# Run ISC dhcpd -6 with the configuration file $1 and send it one DHCPv6 message (hex $2),
# printing the reply in hex. Like isc-dhcpd-netns.sh: inside a private network namespace
# (unshare --net, root), a veth pair whose far end sits in a second namespace where the
# client runs. Addresses are added without duplicate address detection (nodad) so that they
# are usable at once. The client sends to All_DHCP_Relay_Agents_and_Servers (ff02::1:2) from
# port 546, as a phone does; the fixed ports exist only inside these namespaces.
set -euo pipefail
conf=$1
request=$2
dir=$(dirname "$conf")
ip link set lo up
unshare --net sleep 60 &
client_ns=$!
trap 'kill $client_ns 2>/dev/null || true' EXIT
sleep 0.2
ip link add ptftp0 type veth peer name ptftp1
ip link set ptftp1 netns "$client_ns"
ip -6 addr add fe80::1/64 dev ptftp0 nodad
ip -6 addr add 2001:db8:99::1/64 dev ptftp0 nodad
ip link set ptftp0 up
nsenter --net="/proc/$client_ns/ns/net" sh -c 'ip link set lo up; ip -6 addr add fe80::2/64 dev ptftp1 nodad; ip link set ptftp1 up'
touch "$dir/leases6"
/usr/sbin/dhcpd -f -d -6 -cf "$conf" -lf "$dir/leases6" -pf "$dir/pid" ptftp0 >"$dir/log" 2>&1 &
dhcpd=$!
trap 'kill $dhcpd $client_ns 2>/dev/null || true' EXIT
# The client: repeat the request until dhcpd (still starting) answers; print the reply.
nsenter --net="/proc/$client_ns/ns/net" "$NODE" -e '
  const sock = require("node:dgram").createSocket({ type: "udp6" });
  const msg = Buffer.from(process.argv[1], "hex");
  sock.bind(546, "fe80::2%ptftp1", () => {
    const send = () => sock.send(msg, 547, "ff02::1:2%ptftp1");
    send();
    setInterval(send, 250);
  });
  sock.on("message", (reply) => { console.log(reply.toString("hex")); process.exit(0); });
  setTimeout(() => { console.error("no reply from dhcpd"); process.exit(1); }, 10000);
' "$request" || { cat "$dir/log" >&2; exit 1; }
