/**
 * A minimal pcap writer (libpcap format, LINKTYPE_ETHERNET) for feeding our payloads to an
 * independent decoder (tshark, scapy). The IPv4 UDP checksum is zero ("not computed", which
 * IPv4 allows); IPv6 requires one, so it is computed.
 */

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

function ipv4Checksum(header: number[]): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += (header[i]! << 8) | header[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function udp4Frame(payload: Uint8Array, srcPort: number, dstPort: number): Uint8Array {
  const udp = [...u16(srcPort), ...u16(dstPort), ...u16(8 + payload.length), 0, 0];
  const ip = [
    0x45,
    0,
    ...u16(20 + udp.length + payload.length),
    0,
    0,
    0,
    0,
    64,
    17,
    0,
    0,
    10,
    0,
    0,
    1,
    10,
    0,
    0,
    2,
  ];
  const sum = ipv4Checksum(ip);
  ip[10] = sum >> 8;
  ip[11] = sum & 0xff;
  const eth = [0, 0x1b, 0x54, 0xaa, 0xbb, 0xcc, 0, 0x0c, 0x29, 0x11, 0x22, 0x33, 0x08, 0x00];
  return Uint8Array.from([...eth, ...ip, ...udp, ...payload]);
}

export function udp6Frame(payload: Uint8Array, srcPort: number, dstPort: number): Uint8Array {
  const udpLen = 8 + payload.length;
  const udp = [...u16(srcPort), ...u16(dstPort), ...u16(udpLen), 0, 0];
  const src = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const dst = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
  const ip = [0x60, 0, 0, 0, ...u16(udpLen), 17, 64, ...src, ...dst];
  const eth = [0, 0x1b, 0x54, 0xaa, 0xbb, 0xcc, 0, 0x0c, 0x29, 0x11, 0x22, 0x33, 0x86, 0xdd];
  // IPv6 forbids a zero UDP checksum, so compute it over the pseudo-header.
  const pseudo = [...src, ...dst, 0, 0, ...u16(udpLen), 0, 0, 0, 17, ...udp, ...payload];
  if (pseudo.length % 2) pseudo.push(0);
  let sum = 0;
  for (let i = 0; i < pseudo.length; i += 2) sum += (pseudo[i]! << 8) | pseudo[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const check = ~sum & 0xffff || 0xffff;
  udp[6] = check >> 8;
  udp[7] = check & 0xff;
  return Uint8Array.from([...eth, ...ip, ...udp, ...payload]);
}

export function pcap(frames: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16);
  global.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  parts.push(global);
  frames.forEach((frame, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, Buffer.from(frame));
  });
  return Buffer.concat(parts);
}
