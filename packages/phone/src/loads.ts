/**
 * A firmware `.loads` file: the list of images that make up one load. Cisco publishes no
 * specification of it; what a phone needs from it is the image names and, to check them, a
 * size or hash. Two shapes are read: XML elements with a `name` attribute or text
 * (`<image name="kern88xx.14-1-1.sbn" sha256="…" size="…"/>`), or one image per line
 * (`kern88xx.14-1-1.sbn sha256=… size=…`). A signed `.loads` (Cisco header) is unwrapped first.
 */
import { InvalidArgumentError } from '@ptftp/protocol';
import { stripSgn } from '@ptftp/security';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** One image a load names. */
export interface LoadImage {
  readonly name: string;
  /** Expected SHA-256 (lower-case hex), when the `.loads` file gives one. */
  readonly sha256: string | undefined;
  /** Expected size in bytes, when given. */
  readonly size: number | undefined;
}

const FILE_NAME = /^[A-Za-z0-9._\-/]+$/;

function image(name: string, sha: string | undefined, size: string | undefined): LoadImage {
  if (!FILE_NAME.test(name) || name.includes('..'))
    throw new InvalidArgumentError('loads', `"${name}" is not an image file name`);
  if (sha !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha))
    throw new InvalidArgumentError('loads', `the SHA-256 of ${name} is not 64 hex digits`);
  if (size !== undefined && !/^[0-9]{1,12}$/.test(size))
    throw new InvalidArgumentError('loads', `the size of ${name} is not a whole number`);
  return { name, sha256: sha?.toLowerCase(), size: size === undefined ? undefined : Number(size) };
}

/** A signed file starts with VERSION (tag 1, length 2); XML and text never do. */
function unwrap(bytes: Uint8Array): string {
  const b = Buffer.from(bytes);
  const signed = b.length > 5 && b[0] === 1 && b[1] === 0 && b[2] === 2;
  return (signed ? stripSgn(b) : b).toString('utf8');
}

/**
 * The images of a `.loads` file, in the order listed. Throws InvalidArgumentError (`loads`)
 * for a name that could escape the server's folder or a malformed hash or size.
 *
 * @example
 * ```ts
 * parseLoads('<load><image name="kern.sbn" size="1024"/></load>'); // [{ name: 'kern.sbn', size: 1024, sha256: undefined }]
 * ```
 */
export function parseLoads(bytes: Uint8Array | string): LoadImage[] {
  const body = typeof bytes === 'string' ? bytes : unwrap(bytes);
  if (body.trimStart().startsWith('<')) return xmlImages(body);
  return body
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((line) => {
      const [name, ...rest] = line.split(/\s+/);
      const kv = Object.fromEntries(rest.map((t) => t.split('=', 2) as [string, string]));
      return image(name!, kv.sha256, kv.size);
    });
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => name === 'image' || name === 'file',
});

function xmlImages(body: string): LoadImage[] {
  const valid = XMLValidator.validate(body);
  if (valid !== true)
    throw new InvalidArgumentError('loads', `not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const out: LoadImage[] = [];
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key !== 'image' && key !== 'file') {
        walk(value);
        continue;
      }
      for (const el of value as unknown[]) {
        const e = typeof el === 'string' ? { '#text': el } : (el as Record<string, string | undefined>);
        const name = e['@name'] ?? e['#text']?.trim();
        if (name) out.push(image(name, e['@sha256'] ?? e['@hash'], e['@size']));
      }
    }
  };
  walk(parser.parse(body));
  return out;
}
