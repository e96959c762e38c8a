/**
 * @packageDocumentation
 * `@ptftp/server/internal`: pieces the `ptftp` CLI and this repository's tests use that are
 * not part of the package's public face. No semver promise: they may change in any release.
 */
export { AdminEndpoint } from './admin.js';
export { canBind } from './demo.js';
export { DEMO_CLUSTERS, DEMO_COMMON_FILES, DEMO_LOCAL_PHONE, phoneConfigXml } from './demo-files.js';
export { parseProcNet } from './systemd.js';
export { topologyIssues } from './topology.js';
