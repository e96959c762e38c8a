import { TFTP_PORT } from '@ptftp/protocol';
import { type ClusterConfig, validateTopology } from '@ptftp/resolver';
import { formatEndpoint, parseEndpoint } from './address.js';
import type { ConfigIssue } from './errors.js';

/**
 * The remote-cluster rules (at most 3 TFTP addresses per cluster, ID and FQDN characters,
 * single-level hierarchy, no peer loops) belong to the resolver, which enforces them on every
 * reconfiguration and discovery result too; the configuration loader asks it so that a file
 * is refused at start with the same messages, located by the same paths.
 * On success, `clusters` holds the entries with every TFTP address as `host:port`.
 */
export function topologyIssues(
  clusters: unknown[],
  opts: { primaryId?: string | undefined; listen: string[] },
): { issues: ConfigIssue[]; clusters?: ClusterConfig[] } {
  const result = validateTopology(clusters, {
    ...(opts.primaryId !== undefined && { primaryId: opts.primaryId }),
    listen: opts.listen,
  });
  if (!result.ok) return { issues: result.violations.map((v) => ({ path: v.path, message: v.message })) };
  const normalised = result.clusters.map((c) => ({
    ...c,
    tftp: c.tftp.map((a) => {
      const ep = parseEndpoint(a, TFTP_PORT);
      return typeof ep === 'string' ? a : formatEndpoint(ep);
    }),
  }));
  return { issues: [], clusters: normalised };
}
