import { afterEach, describe, expect, it } from 'vitest';
import { requestName } from '../src/http-frontend.js';
import type { ProxyServer } from '../src/index.js';
import { rawGet, startProxy } from './fixtures.js';

describe('HTTP front end: request targets are never normalised into another name', () => {
  let server: ProxyServer | undefined;
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  it('requestName keeps dot segments and backslashes for the resolver to refuse, drops query and authority', () => {
    expect(requestName('/a/%2e%2e/SEP001122334455.cnf.xml')).toBe('a/../SEP001122334455.cnf.xml');
    expect(requestName('/a/../b.xml')).toBe('a/../b.xml');
    expect(requestName('/..\\b.xml')).toBe('..\\b.xml');
    expect(requestName('//b.xml')).toBe('b.xml');
    expect(requestName('/b.xml?x=1#f')).toBe('b.xml');
    expect(requestName('http://proxy:6970/Desktops/List.xml?q')).toBe('Desktops/List.xml');
    expect(requestName('*')).toBeUndefined();
    expect(requestName('/%E0%A4%A')).toBeUndefined();
  });

  it('traversal through %2e%2e, "..", or a backslash is 403 over HTTP, as over TFTP, never another file', async () => {
    server = await startProxy({}, { 'a.xml': 'secret-ish', 'x/a.xml': 'x' });
    for (const target of [
      '/x/%2e%2e/a.xml',
      '/x/%2E%2E/a.xml',
      '/x/../a.xml',
      '/x/..\\a.xml',
      '/x\\..\\a.xml',
    ]) {
      const res = await rawGet(server, target);
      expect({ target, status: res.status }).toEqual({ target, status: 403 });
      expect(res.body).not.toContain('secret-ish');
    }
  });

  it('"//name" and a query string still name the file; an absolute-form target is served by its path', async () => {
    server = await startProxy({}, { 'a.xml': 'A', 'b/c.xml': 'C' });
    expect(await rawGet(server, '//a.xml')).toEqual({ status: 200, body: 'A' });
    expect(await rawGet(server, '/a.xml?rand=1')).toEqual({ status: 200, body: 'A' });
    expect(await rawGet(server, 'http://phone.example/b/c.xml')).toEqual({ status: 200, body: 'C' });
    // Before: URL parsing read "//b/c.xml" as host "b" and path "/c.xml".
    expect((await rawGet(server, '//b/c.xml')).body).toBe('C');
  });
});
