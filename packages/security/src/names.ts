import type forge from 'node-forge';

/**
 * A certificate name the way Cisco writes it in trust lists and signed-file headers:
 * `CN=cucm-pub;OU=TAC;O=Cisco;L=Krakow;ST=Malopolska;C=PL` — most specific attribute first,
 * semicolons, no spaces. DER lists attributes country first, so the order is reversed and CN
 * moved to the front if a certificate put it elsewhere.
 */
export function ciscoName(attributes: readonly forge.pki.CertificateField[]): string {
  const parts = attributes.map((a) => `${a.shortName ?? a.name ?? a.type}=${String(a.value)}`).reverse();
  const cn = parts.findIndex((p) => p.startsWith('CN='));
  if (cn > 0) parts.unshift(...parts.splice(cn, 1));
  return parts.join(';');
}

/** The CN of a Cisco-style name, or the whole name when it has none. */
export function commonNameOf(name: string): string {
  const cn = name.split(';').find((p) => p.startsWith('CN='));
  return cn ? cn.slice(3) : name;
}
