/**
 * @packageDocumentation
 * Helpers that the other `@ptftp` packages share with this one and that are not part of the
 * TFTP engine's public face: they may change in any release. Import them from
 * `@ptftp/protocol/internal`.
 */

/** Read a whole {@link Content} into one buffer (the caches that store files whole use it). */
export { readAll } from './content.js';
