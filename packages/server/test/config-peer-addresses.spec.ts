import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/index.js';

describe('configuration: peerAddresses', () => {
  it('a peer address that is not an IP is refused by path, since it could never match a request', () => {
    let error: unknown;
    try {
      parseConfig({
        peerAddresses: ['10.0.0.5', 'proxy-b.corp.example', '10.0.0.6:6969', '[2001:db8::5]', 'x:y'],
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      {
        path: 'peerAddresses[1]',
        message:
          '"proxy-b.corp.example" must be an IP address: a peer proxy is recognised by the address its requests come from',
      },
      { path: 'peerAddresses[4]', message: '"x:y" has an invalid port' },
    ]);
    expect(parseConfig({ peerAddresses: ['10.0.0.5', '[2001:db8::5]'] }).peerAddresses).toEqual([
      '10.0.0.5',
      '[2001:db8::5]',
    ]);
  });
});
