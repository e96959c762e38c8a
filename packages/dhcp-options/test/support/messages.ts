/**
 * Test-side builders for whole DHCP messages, written from RFC 2131 / RFC 8415 directly rather
 * than with the package's own helpers, so that decoder tests do not check the code against
 * itself.
 */

export interface V4MessageSpec {
  op?: 1 | 2;
  xid?: number;
  ciaddr?: number[];
  yiaddr?: number[];
  giaddr?: number[];
  chaddr?: number[];
  /** Raw bytes of the `sname` (64) and `file` (128) fields. */
  sname?: number[];
  file?: number[];
  /** The options area after the magic cookie, End included if wanted. */
  options: number[];
}

export function v4Message(spec: V4MessageSpec): Uint8Array {
  const out = new Uint8Array(240 + spec.options.length);
  out[0] = spec.op ?? 2;
  out[1] = 1; // Ethernet
  out[2] = 6;
  new DataView(out.buffer).setUint32(4, spec.xid ?? 0x12345678);
  out.set(spec.ciaddr ?? [0, 0, 0, 0], 12);
  out.set(spec.yiaddr ?? [0, 0, 0, 0], 16);
  out.set(spec.giaddr ?? [0, 0, 0, 0], 24);
  out.set(spec.chaddr ?? [0x00, 0x1b, 0x54, 0xaa, 0xbb, 0xcc], 28);
  if (spec.sname) out.set(spec.sname, 44);
  if (spec.file) out.set(spec.file, 108);
  out.set([99, 130, 83, 99], 236);
  out.set(spec.options, 240);
  return out;
}

export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

export function toHexString(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** A DHCPv6 option: 16-bit code, 16-bit length, data. */
export function v6Option(code: number, data: Uint8Array | number[]): number[] {
  const d = Array.from(data);
  return [code >> 8, code & 0xff, d.length >> 8, d.length & 0xff, ...d];
}

export function v6Message(type: number, xid: number, options: number[]): Uint8Array {
  return Uint8Array.from([type, (xid >> 16) & 0xff, (xid >> 8) & 0xff, xid & 0xff, ...options]);
}
