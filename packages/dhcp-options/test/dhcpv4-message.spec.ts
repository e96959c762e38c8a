import { DhcpOptionsError, decodeDhcpv4Message, encodeOption66, encodeOption150 } from '@ptftp/dhcp-options';
import { describe, expect, it } from 'vitest';
import { hex, v4Message } from './support/messages.js';

function errorOf(fn: () => unknown): DhcpOptionsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DhcpOptionsError);
    return err as DhcpOptionsError;
  }
  throw new Error('expected a DhcpOptionsError');
}

const ACK = [53, 1, 5];
const END = 255;

function list(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.2.${i >> 8}.${i & 255}`);
}

function ipBytes(addresses: string[]): number[] {
  return addresses.flatMap((a) => a.split('.').map(Number));
}

describe('DHCPv4 message decoder (RFC 2131, RFC 3396, option 52)', () => {
  it('returns options 150 and 66 and the header fields of an ACK', () => {
    const msg = decodeDhcpv4Message(
      v4Message({
        xid: 0xdeadbeef,
        yiaddr: [10, 1, 1, 100],
        options: [
          ...ACK,
          ...encodeOption150(['10.1.1.10', '10.1.1.11']),
          ...encodeOption66('tftp.example.com'),
          END,
        ],
      }),
    );
    expect(msg.op).toBe(2);
    expect(msg.xid).toBe(0xdeadbeef);
    expect(msg.yiaddr).toBe('10.1.1.100');
    expect(msg.messageType).toBe(5);
    expect(msg.tftpServers).toEqual(['10.1.1.10', '10.1.1.11']);
    expect(msg.tftpServerName).toBe('tftp.example.com');
    expect(msg.options.get(150)).toEqual(hex('0a01010a0a01010b'));
    expect(msg.overload).toBe(0);
  });

  it('skips Pad, stops at End, ignores bytes after End', () => {
    const msg = decodeDhcpv4Message(v4Message({ options: [0, 0, ...ACK, 0, END, 150, 4, 1, 2, 3, 4] }));
    expect(msg.tftpServers).toBeUndefined();
    expect(msg.options.has(150)).toBe(false);
  });

  it('RFC 3396: joins instances separated by other options, split mid-address', () => {
    const value = ipBytes(['10.1.1.10', '10.1.1.11', '10.1.1.12']);
    const msg = decodeDhcpv4Message(
      v4Message({ options: [150, 5, ...value.slice(0, 5), ...ACK, 150, 7, ...value.slice(5), END] }),
    );
    expect(msg.tftpServers).toEqual(['10.1.1.10', '10.1.1.11', '10.1.1.12']);
    expect(msg.instances.filter((i) => i.code === 150)).toHaveLength(2);
  });

  it('option 52 = 1: reads the file field after the options field (ISC dhcpd layout)', () => {
    const addresses = list(70); // 280 bytes: ISC splits it at 255 bytes, then continues in `file`
    const value = ipBytes(addresses);
    const file = [150, 25, ...value.slice(255), END];
    const msg = decodeDhcpv4Message(
      v4Message({ options: [...ACK, 52, 1, 1, 150, 255, ...value.slice(0, 255), END], file }),
    );
    expect(msg.overload).toBe(1);
    expect(msg.tftpServers).toEqual(addresses);
    expect(msg.file).toBeUndefined();
  });

  it('option 52 = 3: order is options, then file, then sname', () => {
    const addresses = ['10.1.1.1', '10.1.1.2', '10.1.1.3'];
    const value = ipBytes(addresses);
    const msg = decodeDhcpv4Message(
      v4Message({
        options: [...ACK, 52, 1, 3, 150, 4, ...value.slice(0, 4), END],
        file: [150, 4, ...value.slice(4, 8), END],
        sname: [150, 4, ...value.slice(8, 12), 66, 4, ...Buffer.from('tftp'), END],
      }),
    );
    expect(msg.tftpServers).toEqual(addresses);
    expect(msg.tftpServerName).toBe('tftp');
    expect(msg.sname).toBeUndefined();
  });

  it('without option 52, sname and file are text and their bytes are not options', () => {
    const msg = decodeDhcpv4Message(
      v4Message({
        options: [...ACK, END],
        sname: [...Buffer.from('tftp-a'), 0],
        file: [150, 4, 10, 1, 1, 10, 0],
      }),
    );
    expect(msg.sname).toBe('tftp-a');
    expect(msg.tftpServers).toBeUndefined();
  });

  it('rejects a short message and a missing magic cookie', () => {
    expect(errorOf(() => decodeDhcpv4Message(new Uint8Array(239))).code).toBe('PTFTP_ERR_DHCP_TRUNCATED');
    const bad = v4Message({ options: [END] });
    bad[236] = 0;
    const err = errorOf(() => decodeDhcpv4Message(bad));
    expect(err.code).toBe('PTFTP_ERR_DHCP_UNEXPECTED_CODE');
    expect(err.value).toBe('00825363');
  });

  it('rejects an option that runs past the options area', () => {
    const err = errorOf(() => decodeDhcpv4Message(v4Message({ options: [...ACK, 150, 8, 10, 1, 1, 10] })));
    expect(err.code).toBe('PTFTP_ERR_DHCP_TRUNCATED');
    expect(err.field).toBe('dhcpv4.options.option150');
  });

  it('reports a malformed option 150 inside a message with its field', () => {
    const err = errorOf(() => decodeDhcpv4Message(v4Message({ options: [...ACK, 150, 3, 10, 1, 1, END] })));
    expect(err.code).toBe('PTFTP_ERR_DHCP_LENGTH');
    expect(err.field).toBe('option150');
  });
});
