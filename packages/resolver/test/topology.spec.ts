import { describe, expect, it } from 'vitest';
import { TopologyError, type TopologyViolation, validateTopology } from '../src/index.js';

const ok = (clusters: unknown[], opts?: Parameters<typeof validateTopology>[1]) => {
  const r = validateTopology(clusters, opts);
  if (!r.ok) throw new Error(JSON.stringify(r.violations));
  return r.clusters;
};
const violations = (
  clusters: unknown[],
  opts?: Parameters<typeof validateTopology>[1],
): TopologyViolation[] => {
  const r = validateTopology(clusters, opts);
  if (r.ok) throw new Error('expected violations');
  return r.violations;
};

describe('validateTopology: remote-cluster entries (proxy-tftp.md "Topology rules")', () => {
  it('accepts 1-3 IPv4/IPv6 TFTP addresses with optional ports and fills the defaults', () => {
    expect(
      ok([
        {
          id: 'B',
          tftp: ['10.0.0.1', '10.0.0.2:69', '[2001:db8::1]:6969'],
          fqdn: 'tftp.b.example',
          description: 'Branch B',
        },
        { id: 'c.lab', tftp: ['2001:db8::2'], secure: true, peers: ['primary'] },
      ]),
    ).toEqual([
      {
        id: 'B',
        tftp: ['10.0.0.1', '10.0.0.2:69', '[2001:db8::1]:6969'],
        enabled: true,
        secure: false,
        fqdn: 'tftp.b.example',
        description: 'Branch B',
      },
      { id: 'c.lab', tftp: ['2001:db8::2'], enabled: true, secure: true, peers: ['primary'] },
    ]);
  });

  it('each remote cluster holds at most 3 TFTP addresses: max-tftp-addresses on tftp[3]', () => {
    expect(violations([{ id: 'B', tftp: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'] }])).toEqual([
      {
        path: 'clusters[0].tftp[3]',
        entry: 'B',
        rule: 'max-tftp-addresses',
        message: 'at most 3 TFTP addresses per cluster',
      },
    ]);
  });

  it('an enabled cluster needs at least one TFTP address; a disabled one may have none', () => {
    expect(violations([{ id: 'B', tftp: [] }])).toEqual([
      {
        path: 'clusters[0].tftp',
        entry: 'B',
        rule: 'tftp-addresses-required',
        message: 'at least one TFTP address is required when TFTP is enabled',
      },
    ]);
    expect(ok([{ id: 'B', tftp: [], enabled: false }])[0]?.enabled).toBe(false);
  });

  it.each([
    ['10.0.0', 'three octets'],
    ['10.0.0.256', 'octet out of range'],
    ['tftp.example', 'a name, not an address'],
    ['[2001:db8::1', 'unclosed bracket'],
    ['10.0.0.1:0', 'port 0'],
    ['10.0.0.1:65536', 'port too large'],
    ['[2001:db8::1]:x', 'non-numeric port'],
  ])('TFTP addresses are IPv4 or IPv6 (ipaddr.js): %s (%s) is tftp-address-invalid', (address) => {
    expect(violations([{ id: 'B', tftp: [address] }])).toEqual([
      {
        path: 'clusters[0].tftp[0]',
        entry: 'B',
        rule: 'tftp-address-invalid',
        message: 'TFTP address must be an IPv4 or IPv6 address, optionally with a port',
      },
    ]);
  });

  it('the same address twice in one cluster is tftp-address-duplicate (69 is the default port)', () => {
    expect(violations([{ id: 'B', tftp: ['10.0.0.1', '10.0.0.1:69'] }])).toEqual([
      {
        path: 'clusters[0].tftp[1]',
        entry: 'B',
        rule: 'tftp-address-duplicate',
        message: 'TFTP address is listed twice in this cluster',
      },
    ]);
  });

  it('cluster ID: required, at most 50 characters, letters, digits, "." and "-", unique, not the primary', () => {
    expect(violations([{ tftp: ['10.0.0.1'] }])).toEqual([
      { path: 'clusters[0].id', rule: 'cluster-id-required', message: 'cluster ID is required' },
    ]);
    expect(violations([{ id: 'x'.repeat(51), tftp: ['10.0.0.1'] }])).toEqual([
      {
        path: 'clusters[0].id',
        entry: 'x'.repeat(51),
        rule: 'cluster-id-length',
        message: 'cluster ID must be at most 50 characters',
      },
    ]);
    expect(ok([{ id: 'x'.repeat(50), tftp: ['10.0.0.1'] }])).toHaveLength(1);
    expect(violations([{ id: 'b_1', tftp: ['10.0.0.1'] }])).toEqual([
      {
        path: 'clusters[0].id',
        entry: 'b_1',
        rule: 'cluster-id-characters',
        message: "cluster ID may contain only letters, digits, '.' and '-'",
      },
    ]);
    expect(
      violations([
        { id: 'B', tftp: ['10.0.0.1'] },
        { id: 'B', tftp: ['10.0.0.2'] },
      ]),
    ).toEqual([
      {
        path: 'clusters[1].id',
        entry: 'B',
        rule: 'cluster-id-duplicate',
        message: 'cluster ID is already used by another entry',
      },
    ]);
    expect(violations([{ id: 'hq', tftp: ['10.0.0.1'] }], { primaryId: 'hq' })).toEqual([
      {
        path: 'clusters[0].id',
        entry: 'hq',
        rule: 'cluster-id-primary',
        message: "cluster ID must differ from the primary's ID",
      },
    ]);
  });

  it('FQDN: at most 50 characters of letters, digits, ".", "-", "*" and space', () => {
    expect(ok([{ id: 'B', tftp: ['10.0.0.1'], fqdn: '*.tftp-b.example com' }])).toHaveLength(1);
    expect(violations([{ id: 'B', tftp: ['10.0.0.1'], fqdn: 'a'.repeat(51) }])).toEqual([
      {
        path: 'clusters[0].fqdn',
        entry: 'B',
        rule: 'fqdn-length',
        message: 'TFTP server FQDN must be at most 50 characters',
      },
    ]);
    expect(violations([{ id: 'B', tftp: ['10.0.0.1'], fqdn: 'tftp_b.example' }])).toEqual([
      {
        path: 'clusters[0].fqdn',
        entry: 'B',
        rule: 'fqdn-characters',
        message: "TFTP server FQDN may contain only letters, digits, '.', '-', '*' and space",
      },
    ]);
  });

  it('description: at most 128 characters, none of " < > \\ - & %', () => {
    expect(ok([{ id: 'B', tftp: ['10.0.0.1'], description: 'd'.repeat(128) }])).toHaveLength(1);
    expect(violations([{ id: 'B', tftp: ['10.0.0.1'], description: 'd'.repeat(129) }])).toEqual([
      {
        path: 'clusters[0].description',
        entry: 'B',
        rule: 'description-length',
        message: 'description must be at most 128 characters',
      },
    ]);
    for (const ch of ['"', '<', '>', '\\', '-', '&', '%']) {
      expect(violations([{ id: 'B', tftp: ['10.0.0.1'], description: `Branch ${ch} B` }])).toEqual([
        {
          path: 'clusters[0].description',
          entry: 'B',
          rule: 'description-characters',
          message: 'description must not contain any of " < > \\ - & %',
        },
      ]);
    }
  });

  it('flags and lists have their types: enabled-type, secure-type, tftp-type, http-type, peers-type, entry-type', () => {
    expect(
      violations([
        { id: 'B', tftp: '10.0.0.1', enabled: 'yes', secure: 1, http: 'x', peers: 'primary' },
        'C',
        { id: 'D', tftp: ['10.0.0.1'], http: ['not a url'], fqdn: 5, description: 5 },
      ]).map((v) => [v.path, v.rule, v.message]),
    ).toEqual([
      ['clusters[0].enabled', 'enabled-type', 'TFTP-enabled flag must be a boolean'],
      ['clusters[0].secure', 'secure-type', 'cluster-is-secure flag must be a boolean'],
      ['clusters[0].tftp', 'tftp-type', 'TFTP addresses must be a list of strings'],
      ['clusters[0].http', 'http-type', 'HTTP addresses must be a list of strings'],
      ['clusters[0].peers', 'peers-type', 'peers must be a list of cluster IDs'],
      ['clusters[1]', 'entry-type', 'cluster entry must be an object'],
      ['clusters[2].fqdn', 'fqdn-type', 'TFTP server FQDN must be a string'],
      ['clusters[2].description', 'description-type', 'description must be a string'],
      ['clusters[2].http[0]', 'http-address-invalid', 'HTTP address must be an http(s) URL or an IP address'],
    ]);
  });

  it("a cluster address that is this proxy's own listen address is refused (self-address)", () => {
    expect(
      violations([{ id: 'B', tftp: ['10.0.0.9', '127.0.0.1:6969'] }], { listen: ['127.0.0.1:6969'] }),
    ).toEqual([
      {
        path: 'clusters[0].tftp[1]',
        entry: 'B',
        rule: 'self-address',
        message: "TFTP address is this proxy's own listen address (the proxy would ask itself)",
      },
    ]);
    // Another port on the same host is another server.
    expect(ok([{ id: 'B', tftp: ['127.0.0.1:6970'] }], { listen: ['127.0.0.1:6969'] })).toHaveLength(1);
    // A wildcard listen address stands for every local interface, loopback included.
    expect(violations([{ id: 'B', tftp: ['127.0.0.1'] }], { listen: ['0.0.0.0'] })[0]?.rule).toBe(
      'self-address',
    );
  });

  it('every violation is reported at once, each naming its entry and rule', () => {
    const v = violations([
      { id: 'B', tftp: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'], description: 'a-b' },
      { id: 'C!', tftp: ['nope'] },
    ]);
    expect(v.map((x) => `${x.entry}:${x.rule}`)).toEqual([
      'B:description-characters',
      'B:max-tftp-addresses',
      'C!:cluster-id-characters',
      'C!:tftp-address-invalid',
    ]);
    const err = new TopologyError(v);
    expect(err.code).toBe('PTFTP_ERR_TOPOLOGY');
    expect(err.message).toBe(
      'invalid topology (4 violations): clusters[0].description: description must not contain any of " < > \\ - & %; ' +
        'clusters[0].tftp[3]: at most 3 TFTP addresses per cluster; ' +
        "clusters[1].id: cluster ID may contain only letters, digits, '.' and '-'; " +
        'clusters[1].tftp[0]: TFTP address must be an IPv4 or IPv6 address, optionally with a port',
    );
  });
});

describe('validateTopology: peer graph (single level, no loops, remotes point back to the primary)', () => {
  it('remotes that omit peers, or list only the primary, are a valid single-level hierarchy', () => {
    expect(
      ok([
        { id: 'B', tftp: ['10.0.0.1'] },
        { id: 'C', tftp: ['10.0.0.2'], peers: ['primary'] },
      ]),
    ).toHaveLength(2);
    expect(ok([{ id: 'B', tftp: ['10.0.0.1'], peers: ['hq'] }], { primaryId: 'hq' })).toHaveLength(1);
  });

  it('A peers with B and C; B and C peering with each other is a loop, named by its edge (peer-loop)', () => {
    expect(
      violations([
        { id: 'B', tftp: ['10.0.0.1'], peers: ['primary', 'C'] },
        { id: 'C', tftp: ['10.0.0.2'], peers: ['primary', 'B'] },
      ]),
    ).toEqual([
      {
        path: 'clusters[0].peers[1]',
        entry: 'B',
        rule: 'peer-loop',
        message: 'peers form a loop (B -> C -> B): the hierarchy is single level',
      },
      {
        path: 'clusters[1].peers[1]',
        entry: 'C',
        rule: 'peer-loop',
        message: 'peers form a loop (C -> B -> C): the hierarchy is single level',
      },
    ]);
  });

  it('a longer loop through three remotes is reported on each of its edges', () => {
    const v = violations([
      { id: 'B', tftp: ['10.0.0.1'], peers: ['primary', 'C'] },
      { id: 'C', tftp: ['10.0.0.2'], peers: ['primary', 'D'] },
      { id: 'D', tftp: ['10.0.0.3'], peers: ['primary', 'B'] },
    ]);
    expect(v.map((x) => x.message)).toEqual([
      'peers form a loop (B -> C -> D -> B): the hierarchy is single level',
      'peers form a loop (C -> D -> B -> C): the hierarchy is single level',
      'peers form a loop (D -> B -> C -> D): the hierarchy is single level',
    ]);
  });

  it('no remote peered with another remote, even one way (remote-peer)', () => {
    expect(
      violations([
        { id: 'B', tftp: ['10.0.0.1'], peers: ['primary', 'C'] },
        { id: 'C', tftp: ['10.0.0.2'] },
      ]),
    ).toEqual([
      {
        path: 'clusters[0].peers[1]',
        entry: 'B',
        rule: 'remote-peer',
        message: 'remote clusters must not peer with each other (edge B -> C)',
      },
    ]);
  });

  it('a remote reaching the primary only through another remote is a second level (multi-level)', () => {
    expect(
      violations([
        { id: 'B', tftp: ['10.0.0.1'], peers: ['C'] },
        { id: 'C', tftp: ['10.0.0.2'] },
      ]),
    ).toEqual([
      {
        path: 'clusters[0].peers[0]',
        entry: 'B',
        rule: 'multi-level',
        message:
          'remote cluster reaches the primary only through another remote (edge B -> C): the hierarchy is single level',
      },
    ]);
  });

  it('every remote must point back to the primary (primary-peer-required); unknown and self peers are refused', () => {
    expect(
      violations([
        { id: 'B', tftp: ['10.0.0.1'], peers: [] },
        { id: 'C', tftp: ['10.0.0.2'], peers: ['primary', 'Z'] },
        { id: 'D', tftp: ['10.0.0.3'], peers: ['primary', 'D'] },
      ]).map((v) => [v.path, v.entry, v.rule, v.message]),
    ).toEqual([
      ['clusters[0].peers', 'B', 'primary-peer-required', 'remote cluster must peer back with the primary'],
      ['clusters[1].peers[1]', 'C', 'peer-unknown', 'peer is not a configured cluster or the primary'],
      ['clusters[2].peers[1]', 'D', 'peer-self', 'a cluster must not peer with itself'],
    ]);
  });
});
