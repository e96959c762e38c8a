/**
 * @ptftp/security (and node-forge behind it) loads on the first re-signing, not at import: a
 * proxy that never re-signs does not pay its memory (several MiB of RSS).
 */
let security: Promise<typeof import('@ptftp/security')> | undefined;
function loadSecurity(): Promise<typeof import('@ptftp/security')> {
  // A failed load is not kept: the next re-signing tries again.
  security ??= import('@ptftp/security').catch((err: unknown) => {
    security = undefined;
    throw err;
  });
  return security;
}

/** The proxy's signing key and certificate, for `ResolverInit.resign`. */
export interface ResignOptions {
  keyPem: string;
  certPem: string;
  /** Signature hash; @ptftp/security's default (SHA-1, CUCM's default) unless given. */
  hash?: 'sha1' | 'sha256' | 'sha512';
}

/** Re-signs one file: `(original body, requested .sgn name)` → a new signed file. */
export type Signer = (body: Uint8Array, filename: string) => Promise<Uint8Array> | Uint8Array;

/** The original file inside a `.sgn` (everything after the header). */
export async function sgnBody(signed: Uint8Array): Promise<Uint8Array> {
  const { stripSgn } = await loadSecurity();
  return stripSgn(signed);
}

/** True for names whose content can be re-signed (`.sgn`, but not encrypted `.enc.sgn`). */
export function isResignable(name: string): boolean {
  return /\.sgn$/i.test(name) && !/\.enc\.sgn$/i.test(name);
}

/** The default signer: @ptftp/security's `signSgn` with the proxy's key and certificate. */
export function securitySigner(opts: ResignOptions): Signer {
  return async (body, filename) => {
    const { signSgn } = await loadSecurity();
    return signSgn(body, {
      filename,
      keyPem: opts.keyPem,
      certPem: opts.certPem,
      ...(opts.hash ? { hash: opts.hash } : {}),
    });
  };
}
