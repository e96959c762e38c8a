#!/usr/bin/env bash
# Run ISC dhcpd with the configuration file $1 and send it one DHCPINFORM (hex $2), printing the
# reply in hex. dhcpd reads through a packet socket and refuses the loopback device, so this
# runs inside a private network namespace (unshare --net, root): a veth pair whose far end sits
# in a second namespace, where the client runs. Nothing is visible outside; the fixed ports
# below exist only inside these namespaces.
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
ip addr add 10.99.0.1/24 dev ptftp0
ip link set ptftp0 up
nsenter --net="/proc/$client_ns/ns/net" sh -c 'ip link set lo up; ip addr add 10.99.0.2/24 dev ptftp1; ip link set ptftp1 up'
touch "$dir/leases"
/usr/sbin/dhcpd -f -d -4 -p 1067 -cf "$conf" -lf "$dir/leases" -pf "$dir/pid" ptftp0 >"$dir/log" 2>&1 &
dhcpd=$!
trap 'kill $dhcpd $client_ns 2>/dev/null || true' EXIT
# The client: repeat the request until dhcpd (still starting) answers; print the reply.
nsenter --net="/proc/$client_ns/ns/net" "$NODE" -e '
  const sock = require("node:dgram").createSocket("udp4");
  const msg = Buffer.from(process.argv[1], "hex");
  sock.bind(1068, "10.99.0.2", () => {
    const send = () => sock.send(msg, 1067, "10.99.0.1");
    send();
    setInterval(send, 250);
  });
  sock.on("message", (reply) => { console.log(reply.toString("hex")); process.exit(0); });
  setTimeout(() => { console.error("no reply from dhcpd"); process.exit(1); }, 10000);
' "$request" || { cat "$dir/log" >&2; exit 1; }
