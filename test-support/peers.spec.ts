import { expect, test } from 'vitest';
import { runCommand, startAtftpd, startTftpdHpa } from './peers.js';

test('the Debian peers start on loopback and serve a file to curl', async () => {
  for (const [name, start] of [
    ['hpa', startTftpdHpa],
    ['atftpd', startAtftpd],
  ] as const) {
    for (const host of name === 'hpa' ? ['127.0.0.1', '::1'] : ['127.0.0.1']) {
      const p = await start({ root: '/tmp/r', host });
      const url = host.includes(':') ? `tftp://[${host}]:${p.port}/a.txt` : `tftp://${host}:${p.port}/a.txt`;
      const r = await runCommand('/usr/bin/curl', ['-s', url]);
      expect(r.stdout).toBe('hello\n');
      await p.stop();
    }
  }
});
