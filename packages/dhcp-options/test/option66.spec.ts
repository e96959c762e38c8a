import { DhcpOptionsError, decodeOption66, encodeOption66 } from '@ptftp/dhcp-options';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex, toHexString } from './support/messages.js';

function errorOf(fn: () => unknown): DhcpOptionsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DhcpOptionsError);
    return err as DhcpOptionsError;
  }
  throw new Error('expected a DhcpOptionsError');
}

const TFTP_EXAMPLE = '42 10 74 66 74 70 2e 65 78 61 6d 70 6c 65 2e 63 6f 6d';

describe('DHCPv4 option 66 (RFC 2132 §9.4)', () => {
  it('spec vector: "tftp.example.com" encodes to 42 10 "tftp.example.com" (no NUL)', () => {
    expect(toHexString(encodeOption66('tftp.example.com'))).toBe(TFTP_EXAMPLE.replace(/ /g, ''));
  });

  it('spec vector: 42 10 "tftp.example.com" decodes to the name', () => {
    expect(decodeOption66(hex(TFTP_EXAMPLE))).toBe('tftp.example.com');
  });

  it('spec: strips the trailing NUL dnsmasq adds (42 11 ... 00)', () => {
    expect(decodeOption66(hex(`42 11 ${TFTP_EXAMPLE.slice(6)} 00`))).toBe('tftp.example.com');
  });

  it('a dotted address is carried as text', () => {
    expect(toHexString(encodeOption66('10.1.1.10'))).toBe(`4209${Buffer.from('10.1.1.10').toString('hex')}`);
  });

  it('rejects non-ASCII, naming the field and the value', () => {
    const err = errorOf(() => encodeOption66('tftp.exämple.com'));
    expect(err.code).toBe('PTFTP_ERR_DHCP_NOT_ASCII');
    expect(err.field).toBe('option66');
    expect(err.value).toBe('tftp.exämple.com');
    expect(errorOf(() => decodeOption66(hex('42 02 41 c3'))).code).toBe('PTFTP_ERR_DHCP_NOT_ASCII');
  });

  it('rejects an empty name, all-NUL data and names over 255 bytes', () => {
    expect(errorOf(() => encodeOption66('')).code).toBe('PTFTP_ERR_DHCP_EMPTY');
    expect(errorOf(() => decodeOption66(hex('42 01 00'))).code).toBe('PTFTP_ERR_DHCP_EMPTY');
    const err = errorOf(() => encodeOption66('a'.repeat(256)));
    expect(err.code).toBe('PTFTP_ERR_DHCP_LENGTH');
    expect(err.value).toBe(256);
  });

  it('rejects truncated data', () => {
    expect(errorOf(() => decodeOption66(hex('42 10 74 66'))).code).toBe('PTFTP_ERR_DHCP_TRUNCATED');
  });

  it('round-trips any printable ASCII name of 1..255 bytes (fast-check)', () => {
    const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.array(printable, { minLength: 1, maxLength: 255 }), (chars) => {
        const name = chars.join('');
        expect(decodeOption66(encodeOption66(name))).toBe(name);
      }),
    );
  });
});
