/**
 * Bench clients all talk from 127.0.0.1, so the per-source limits that @ptftp/protocol turns on
 * by default would throttle a storm of 1,000 simulated phones as if it were one host (the
 * servers compared with it have no such limits). Benches that measure something else lift them;
 * bench/hardening.bench.mjs measures them.
 */
export const ONE_ADDRESS_FOR_ALL_PHONES = {
  maxSessionsPerSource: Number.POSITIVE_INFINITY,
  newSessionsPerSecondPerSource: Number.POSITIVE_INFINITY,
};
