/**
 * @packageDocumentation
 * Internals of `@ptftp/resolver` that other ptftp packages share (`@ptftp/resolver/internal`).
 * Not a public API: names and shapes here change without a major version. Applications use
 * `@ptftp/resolver`.
 */
export { globToRegExp } from './glob.js';
export { sgnBody } from './resign.js';
