import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFaultyTftpServer, type FaultyTftpServer, instrumentedGet } from '../src/testing/index.js';

const file = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let server: FaultyTftpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const start = async (opts: Omit<Parameters<typeof createFaultyTftpServer>[0], 'files'>) => {
  server = await createFaultyTftpServer({ files: { 'a.bin': file }, retransmitTimeoutMs: 100, ...opts });
  return { address: server.address, port: server.port };
};
const fast = { retransmitTimeoutMs: 100, retries: 2 };

describe('createFaultyTftpServer', () => {
  it("fault 'none' serves the file whole, with blksize and tsize granted (RFC 2348, 2349)", async () => {
    const target = await start({ fault: 'none' });
    const out = await instrumentedGet({ target, name: 'a.bin', options: { blksize: '1024', tsize: '0' } });
    expect(out.ok).toBe(true);
    expect(out.sha256).toBe(sha(file));
    expect(out.oack).toEqual({ blksize: '1024', tsize: '5000' });
    expect(out.blocks).toBe(5); // 4 full blocks of 1024 and one of 904
    // The server counts the transfer once our last ACK reaches it.
    await vi.waitFor(() => expect(server!.completed).toBe(1));
    expect(server!.active).toBe(0);
  });

  it('answers an unknown name with ERROR 1 (RFC 1350)', async () => {
    const target = await start({ fault: 'none' });
    const out = await instrumentedGet({ target, name: 'nope', ...fast });
    expect(out).toMatchObject({ ok: false, errorCode: 1 });
  });

  it("fault 'silent' never answers: the client times out after its retries", async () => {
    const target = await start({ fault: 'silent' });
    const out = await instrumentedGet({ target, name: 'a.bin', ...fast });
    expect(out.ok).toBe(false);
    expect(out.retransmissions).toBe(2);
    expect(out.dataPackets).toBe(0);
    expect(server!.requests).toBe(3); // the RRQ and its two resends
  });

  it("fault 'cut-after-blocks' stops after N blocks, silently or with ERROR 0", async () => {
    const target = await start({ fault: 'cut-after-blocks', cutAfterBlocks: 3 });
    const out = await instrumentedGet({ target, name: 'a.bin', ...fast });
    expect(out).toMatchObject({ ok: false, blocks: 3, bytes: 1536 });
    server!.setFault('none');
    await server!.close();
    const withError = await start({ fault: 'cut-after-blocks', cutAfterBlocks: 1, cutWith: 'error' });
    const out2 = await instrumentedGet({ target: withError, name: 'a.bin', ...fast });
    expect(out2).toMatchObject({ ok: false, blocks: 1, errorCode: 0 });
  });

  it("fault 'error' answers with the chosen ERROR", async () => {
    const target = await start({ fault: 'error', errorCode: 2, errorMessage: 'go away' });
    const out = await instrumentedGet({ target, name: 'a.bin', ...fast });
    expect(out).toMatchObject({ ok: false, errorCode: 2, error: 'ERROR 2: go away' });
  });

  it("fault 'wrong-tsize' announces a size the data does not have", async () => {
    const target = await start({ fault: 'wrong-tsize', tsizeDelta: 100 });
    const out = await instrumentedGet({ target, name: 'a.bin', options: { tsize: '0' } });
    expect(out.ok).toBe(true);
    expect(out.oack.tsize).toBe('5100');
    expect(out.bytes).toBe(5000);
  });

  it('chooses the fault per request when given a function', async () => {
    const target = await start({ fault: (_name, attempt) => (attempt === 0 ? 'error' : 'none') });
    expect((await instrumentedGet({ target, name: 'a.bin', ...fast })).ok).toBe(false);
    expect((await instrumentedGet({ target, name: 'a.bin', ...fast })).sha256).toBe(sha(file));
  });
});
