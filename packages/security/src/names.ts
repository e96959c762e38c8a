import forge from 'node-forge';

/**
 * Distinguished names read straight from the DER (node-forge's own attribute list leaves
 * UTF8String bytes undecoded and has no short name for DC), rendered two ways: Cisco's
 * `CN=...;OU=...` for what trust lists and signed-file headers carry, and RFC 4514 for people.
 * Names are only ever shown: signers are matched on serial numbers, DER and keys.
 */

/** One attribute of a relative distinguished name. */
export interface NameAttribute {
  /** Dotted OID. */
  readonly oid: string;
  /** Short name (`CN`, `DC`...) when RFC 4514 or common usage gives one. */
  readonly shortName: string | undefined;
  readonly value: string;
  /** The value's DER (tag, length, contents), for RFC 4514's `#hex` form of unnamed types. */
  readonly der: Buffer;
}

/** A name as its RDNs, in DER order (most general first); each RDN has one or more attributes. */
export type DistinguishedName = readonly (readonly NameAttribute[])[];

const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '2.5.4.4': 'SN',
  '2.5.4.42': 'GN',
  '2.5.4.12': 'title',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** The short names RFC 4514 section 3 lists; anything else is written as `OID=#hex`. */
const RFC4514_NAMES = new Set(['CN', 'L', 'ST', 'O', 'OU', 'C', 'STREET', 'DC', 'UID']);

function decodeString(node: forge.asn1.Asn1): string {
  const raw = Buffer.from(String(node.value), 'binary');
  switch (node.type) {
    case forge.asn1.Type.UTF8:
      return raw.toString('utf8');
    case forge.asn1.Type.BMPSTRING: {
      const swapped = Buffer.from(raw);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    default:
      // PrintableString, IA5String, TeletexString: single bytes.
      return raw.toString('latin1');
  }
}

/** Decode an X.501 `Name` node (SEQUENCE OF SET OF AttributeTypeAndValue). */
export function decodeName(node: forge.asn1.Asn1): DistinguishedName {
  const rdns = node.value as forge.asn1.Asn1[];
  return rdns.map((set) =>
    (set.value as forge.asn1.Asn1[]).map((atv) => {
      const [type, value] = atv.value as forge.asn1.Asn1[];
      const oid = forge.asn1.derToOid(type!.value as string);
      const isString = !value!.constructed;
      return {
        oid,
        shortName: SHORT_NAMES[oid],
        value: isString ? decodeString(value!) : '',
        der: Buffer.from(forge.asn1.toDer(value!).getBytes(), 'binary'),
      };
    }),
  );
}

/**
 * A name the way Cisco writes it in trust lists and signed-file headers:
 * `CN=cucm-pub;OU=TAC;O=Cisco;L=Krakow;ST=Malopolska;C=PL` — most specific attribute first,
 * semicolons, no spaces. DER lists attributes country first, so the order is reversed and CN
 * moved to the front if a certificate put it elsewhere.
 */
export function ciscoName(name: DistinguishedName): string {
  const parts = name
    .flat()
    .map((a) => `${a.shortName ?? a.oid}=${a.value}`)
    .reverse();
  const cn = parts.findIndex((p) => p.startsWith('CN='));
  if (cn > 0) parts.unshift(...parts.splice(cn, 1));
  return parts.join(';');
}

function escapeValue(value: string): string {
  let out = value.replace(/[\\"+,;<>]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/**
 * RFC 4514 string of a name: last RDN first, RDNs joined by `,`, multi-valued RDNs by `+`,
 * special characters escaped, types without an RFC 4514 short name as `OID=#<DER hex>`.
 *
 * @example
 * ```ts
 * rfc4514Name(readCertificate(pem).subject); // 'CN=cucm-pub,OU=VTG,O=Example\, Inc.,DC=example,DC=com'
 * ```
 */
export function rfc4514Name(name: DistinguishedName): string {
  return [...name]
    .reverse()
    .map((rdn) =>
      rdn
        .map((a) =>
          a.shortName && RFC4514_NAMES.has(a.shortName)
            ? `${a.shortName}=${escapeValue(a.value)}`
            : `${a.oid}=#${a.der.toString('hex')}`,
        )
        .join('+'),
    )
    .join(',');
}

/** The CN of a certificate name, or the whole Cisco-form name when it has none. */
export function commonNameOf(name: DistinguishedName): string {
  const cn = name.flat().find((a) => a.oid === '2.5.4.3');
  return cn ? cn.value : ciscoName(name);
}
