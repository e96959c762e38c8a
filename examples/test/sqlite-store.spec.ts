import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tftpGet } from '@ptftp/protocol';
import { runStoreCompliance } from '@ptftp/resolver/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../test-support/peers.js';
import { main, SAMPLE_FILES, SqliteStore, type SqliteStoreHandle } from '../sqlite-store.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

// The resolver's contract for every Store, run against the example's SQLite store.
runStoreCompliance(
  'SqliteStore (examples/sqlite-store.ts)',
  async (files) => {
    const store = SqliteStore.open(':memory:');
    for (const [name, data] of Object.entries(files)) await store.put(name, data);
    return { store, cleanup: () => store.close() };
  },
  { describe, it, expect },
);

describe('examples/sqlite-store.ts', () => {
  let ex: SqliteStoreHandle | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await ex?.close();
    ex = undefined;
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('serves the database files over TFTP and HTTP byte for byte, and a put is served at once', async () => {
    const port = await freeUdpPort();
    ex = await main({ listen: [`127.0.0.1:${port}`], httpListen: ['127.0.0.1:0'] });
    const target = { host: '127.0.0.1', port };
    for (const [name, text] of Object.entries(SAMPLE_FILES)) {
      expect(sha256(await tftpGet(target, name)), name).toBe(sha256(text));
    }
    const res = await fetch(`${ex.addresses.http[0]!.url}/English_United_States/g3-tones.xml`);
    expect(await res.text()).toBe(SAMPLE_FILES['English_United_States/g3-tones.xml']);

    const firmware = new Uint8Array(70_000).map((_, i) => (i * 31 + 7) & 0xff);
    await ex.store.put('loads/fw.bin', firmware);
    const got = await tftpGet(target, 'loads/fw.bin', { blksize: 1468 });
    expect(sha256(got)).toBe(sha256(firmware));
    expect(await ex.store.delete('loads/fw.bin')).toBe(true);
    await expect(tftpGet(target, 'loads/fw.bin', { retries: 1 })).rejects.toMatchObject({
      code: 'PTFTP_ERR_NOT_FOUND',
    });
  });

  it('sees a file written by another connection to the same database file without a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ptftp-ex-sqlite-'));
    dirs.push(dir);
    const database = join(dir, 'files.db');
    const port = await freeUdpPort();
    ex = await main({ database, listen: [`127.0.0.1:${port}`] });
    const target = { host: '127.0.0.1', port };
    expect((await tftpGet(target, 'RingList.xml')).toString()).toBe(SAMPLE_FILES['RingList.xml']);

    const writer = SqliteStore.open(database);
    try {
      await writer.put(
        'RingList.xml',
        new TextEncoder().encode('<CiscoIPPhoneRingList><!-- v2 --></CiscoIPPhoneRingList>'),
      );
    } finally {
      writer.close();
    }
    expect((await tftpGet(target, 'RingList.xml')).toString()).toBe(
      '<CiscoIPPhoneRingList><!-- v2 --></CiscoIPPhoneRingList>',
    );
  });

  it('putMany writes every file in one transaction and reports each to watchers', async () => {
    const store = SqliteStore.open();
    try {
      const seen: string[] = [];
      const stop = store.watch((n) => seen.push(n));
      await store.putMany({ 'a.xml': 'A', 'dir/b.xml': new Uint8Array([0, 255]) });
      stop();
      expect(seen).toEqual(['a.xml', 'dir/b.xml']);
      expect(await store.list('dir/')).toEqual(['dir/b.xml']);
      expect([...((await store.get('dir/b.xml'))?.data ?? [])]).toEqual([0, 255]);
    } finally {
      store.close();
    }
  });
});
