/**
 * A custom Store: the proxy's own files kept in SQLite (better-sqlite3) instead of a folder,
 * e.g. so that a provisioning system can write them in one transaction. Anything that
 * implements `get` (plus, optionally, `put`, `delete`, `list`, `watch`) can be a store; the
 * resolver's compliance suite (`runStoreCompliance` from '@ptftp/resolver/testing') proves it
 * (see examples/test/sqlite-store.spec.ts).
 *
 *   npx tsx examples/sqlite-store.ts                 # in-memory database with sample files
 *   npx tsx examples/sqlite-store.ts ./files.db      # your database (created when missing)
 *   curl tftp://127.0.0.1:6969/SEP001122334455.cnf.xml
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { canonicalFileName, type Store, type StoreEntry } from '@ptftp/resolver';
import { createProxyServer, type ProxyAddresses, type ProxyServer } from '@ptftp/server';
import Database from 'better-sqlite3';

interface Row {
  data: Buffer;
  version: string;
}

/**
 * A {@link Store} in one SQLite table: `files(name TEXT PRIMARY KEY, data BLOB, version TEXT)`.
 * The version is a SHA-256 prefix of the content, so it changes exactly when the bytes do.
 * Reads go to the database every time: a file written by another process (another
 * connection to the same database file) is served at once, without a restart.
 *
 * @example
 * ```ts
 * const store = SqliteStore.open('/var/lib/ptftp/files.db');
 * await store.put('RingList.xml', new TextEncoder().encode('<CiscoIPPhoneRingList/>'));
 * const proxy = createProxyServer(config, { createStore: () => store });
 * ```
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #listeners = new Set<(name: string) => void>();
  readonly #select: Database.Statement<[string], Row>;
  readonly #upsert: Database.Statement<[string, Buffer, string]>;
  readonly #remove: Database.Statement<[string]>;
  readonly #names: Database.Statement<[number, string], { name: string }>;

  private constructor(db: Database.Database) {
    this.#db = db;
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE IF NOT EXISTS files (
      name TEXT PRIMARY KEY NOT NULL,
      data BLOB NOT NULL,
      version TEXT NOT NULL
    ) WITHOUT ROWID`);
    this.#select = db.prepare('SELECT data, version FROM files WHERE name = ?');
    this.#upsert = db.prepare(
      'INSERT INTO files (name, data, version) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data, version = excluded.version',
    );
    this.#remove = db.prepare('DELETE FROM files WHERE name = ?');
    this.#names = db.prepare('SELECT name FROM files WHERE substr(name, 1, ?) = ? ORDER BY name');
  }

  /** Open (or create) a database file; `':memory:'` for a private in-memory one. */
  static open(filename = ':memory:'): SqliteStore {
    return new SqliteStore(new Database(filename));
  }

  async get(name: string, opts?: { signal?: AbortSignal }): Promise<StoreEntry | undefined> {
    opts?.signal?.throwIfAborted();
    // Traversal and other unsafe names are refused (AccessViolationError, TFTP error 2) rather
    // than looked up: a name that cannot be a file on disk must not be one here either.
    const key = canonicalFileName(name);
    const row = this.#select.get(key);
    if (!row) return undefined;
    const data = new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength);
    return { name, size: data.byteLength, version: row.version, data };
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    const key = canonicalFileName(name);
    // A copy: the caller may reuse its buffer, and SQLite binds Buffers, not plain Uint8Arrays.
    const bytes = Buffer.from(data);
    const version = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    this.#upsert.run(key, bytes, version);
    this.#notify(key);
  }

  async delete(name: string): Promise<boolean> {
    const key = canonicalFileName(name);
    const existed = this.#remove.run(key).changes > 0;
    if (existed) this.#notify(key);
    return existed;
  }

  async list(prefix = ''): Promise<string[]> {
    return this.#names.all(prefix.length, prefix).map((r) => r.name);
  }

  /** Reports changes made through this object (other writers are seen by `get`, not here). */
  watch(listener: (name: string) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Write many files in one transaction: readers see all of them or none. */
  async putMany(files: Record<string, Uint8Array | string>): Promise<void> {
    const entries = Object.entries(files).map(([name, data]) => {
      const bytes = Buffer.from(typeof data === 'string' ? new TextEncoder().encode(data) : data);
      return [
        canonicalFileName(name),
        bytes,
        createHash('sha256').update(bytes).digest('hex').slice(0, 16),
      ] as const;
    });
    this.#db.transaction(() => {
      for (const [key, bytes, version] of entries) this.#upsert.run(key, bytes, version);
    })();
    for (const [key] of entries) this.#notify(key);
  }

  close(): void {
    this.#listeners.clear();
    if (this.#db.open) this.#db.close();
  }

  #notify(name: string): void {
    for (const listener of this.#listeners) listener(name);
  }
}

/** Sample content written into an empty database. */
export const SAMPLE_FILES: Record<string, string> = {
  'SEP001122334455.cnf.xml':
    '<device><fullConfig>true</fullConfig><deviceProtocol>SIP</deviceProtocol></device>\n',
  'RingList.xml':
    '<CiscoIPPhoneRingList><Ring><DisplayName>From SQLite</DisplayName></Ring></CiscoIPPhoneRingList>\n',
  'English_United_States/g3-tones.xml': '<tones><!-- locale file --></tones>\n',
};

/** Options of {@link main}. */
export interface SqliteStoreOptions {
  /** The database file (default `':memory:'`). Sample files are added when it holds none. */
  database?: string;
  /** Proxy TFTP addresses (default 127.0.0.1:6969). */
  listen?: string[];
  /** Proxy HTTP addresses (default none). */
  httpListen?: string[];
  log?: (line: string) => void;
}

/** The running example. */
export interface SqliteStoreHandle {
  readonly store: SqliteStore;
  readonly proxy: ProxyServer;
  readonly addresses: ProxyAddresses;
  close(): Promise<void>;
}

/**
 * Serve the files of a SQLite database through the proxy (no remote clusters here: see
 * two-cluster-proxy.ts for those; the store is asked first either way).
 */
export async function main(options: SqliteStoreOptions = {}): Promise<SqliteStoreHandle> {
  const log = options.log ?? (() => {});
  const store = SqliteStore.open(options.database ?? ':memory:');
  try {
    if ((await store.list()).length === 0) await store.putMany(SAMPLE_FILES);
    const proxy = createProxyServer(
      {
        listen: options.listen ?? ['127.0.0.1:6969'],
        http: options.httpListen ? { listen: options.httpListen } : { enabled: false },
        admin: { enabled: false },
        clusters: [],
      },
      { createStore: () => store },
    );
    proxy.on('served', (s) => log(`${s.transport} ${s.name}: ${s.bytes} B from ${s.source}`));
    store.watch((name) => log(`store changed: ${name}`));
    let addresses: ProxyAddresses;
    try {
      addresses = await proxy.start();
    } catch (err) {
      await proxy.close({ graceMs: 0 });
      throw err;
    }
    for (const a of [...addresses.tftp, ...addresses.http]) log(`serving ${await store.list()} on ${a.url}`);
    return {
      store,
      proxy,
      addresses,
      async close() {
        await proxy.close({ graceMs: 1000 });
        store.close();
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ex = await main({ ...(process.argv[2] && { database: process.argv[2] }), log: console.log });
  console.log(`try: curl ${ex.addresses.tftp[0]?.url}/RingList.xml   (Ctrl-C stops)`);
  process.once('SIGINT', () => void ex.close());
}
