/**
 * What a phone reads from its configuration file (`SEP<MAC>.cnf.xml`, or the
 * `XMLDefault.cnf.xml` of auto-registration): the call-control nodes it registers with, the
 * firmware load it must run, and the further files it fetches (dial plan, softkeys, feature
 * policy, locales). Element names are those of CUCM-written files.
 */
import { InvalidArgumentError } from '@ptftp/protocol';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** One call-control node of the configuration's CallManager group, in priority order. */
export interface CallManagerNode {
  /** `<callManager><name>`. */
  readonly name: string;
  /** `<processNodeName>` (host name or address the phone connects to), when given. */
  readonly processNodeName: string | undefined;
}

/** The parts of a device configuration that drive the rest of start-up. */
export interface DeviceConfig {
  readonly callManagers: readonly CallManagerNode[];
  /** `<loadInformation>`: the firmware load id; the phone fetches `<load>.loads`. */
  readonly loadInformation: string | undefined;
  readonly dialTemplate: string | undefined;
  readonly softKeyFile: string | undefined;
  readonly featurePolicyFile: string | undefined;
  /** `<userLocale><name>`. */
  readonly userLocale: string | undefined;
  /** `<networkLocale>` or `<networkLocaleInfo><name>`. */
  readonly networkLocale: string | undefined;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => name === 'member',
});

type Node = Record<string, unknown>;

/** The first value under `key` anywhere below `node`, depth first. */
function find(node: unknown, key: string): unknown {
  if (node === null || typeof node !== 'object') return undefined;
  if (Array.isArray(node)) {
    for (const n of node) {
      const v = find(n, key);
      if (v !== undefined) return v;
    }
    return undefined;
  }
  const obj = node as Node;
  if (key in obj) return obj[key];
  for (const v of Object.values(obj)) {
    const found = find(v, key);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Element text (`<a>x</a>` or `<a attr="">x</a>`), or undefined when empty. */
function text(value: unknown): string | undefined {
  const t =
    typeof value === 'string'
      ? value
      : value && typeof value === 'object'
        ? (value as Node)['#text']
        : undefined;
  return typeof t === 'string' && t.trim() !== '' ? t.trim() : undefined;
}

/**
 * Parse a device configuration. Throws InvalidArgumentError (`config`) for bytes that are not
 * well-formed XML with a `<device>` root, which a phone rejects the same way.
 *
 * @example
 * ```ts
 * const c = parseDeviceConfig(xml);
 * c.callManagers[0]?.name; // 'cucm-pub'
 * c.loadInformation; // 'sip88xx.14-1-1-0001-136'
 * ```
 */
export function parseDeviceConfig(xml: Uint8Array | string): DeviceConfig {
  const source = typeof xml === 'string' ? xml : Buffer.from(xml).toString('utf8');
  const valid = XMLValidator.validate(source);
  if (valid !== true)
    throw new InvalidArgumentError(
      'config',
      `not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`,
    );
  const doc = parser.parse(source) as Node;
  const device = doc.device;
  if (device === undefined || typeof device !== 'object' || device === null)
    throw new InvalidArgumentError('config', 'no <device> root element');
  const members = (find(device, 'member') as Node[] | undefined) ?? [];
  const callManagers = members
    .map((m, i) => ({ m, i, priority: Number(m['@priority'] ?? i) }))
    .sort((a, b) => a.priority - b.priority || a.i - b.i)
    .map(({ m }) => {
      const cm = (m.callManager ?? {}) as Node;
      return { name: text(cm.name) ?? '', processNodeName: text(cm.processNodeName) };
    })
    .filter((cm) => cm.name !== '' || cm.processNodeName !== undefined);
  const userLocale = find(device, 'userLocale');
  const networkLocale =
    text(find(device, 'networkLocale')) ?? text(find(find(device, 'networkLocaleInfo'), 'name'));
  return {
    callManagers,
    loadInformation: text(find(device, 'loadInformation')),
    dialTemplate: text(find(device, 'dialTemplate')),
    softKeyFile: text(find(device, 'softKeyFile')),
    featurePolicyFile: text(find(device, 'featurePolicyFile')),
    userLocale: text(find(userLocale, 'name')) ?? text(userLocale),
    networkLocale,
  };
}
