/**
 * @packageDocumentation
 * Test doubles and harnesses for TFTP, for this project's tests and for embedders' own: a
 * lossy link that spoils traffic on loopback, a misbehaving TFTP server, a counting raw
 * client, a boot-storm generator that plays hundreds of phones, a probe for reflection
 * (amplification), and corpora of hostile packets and file names.
 */
export * from './amplification.js';
export * from './boot-storm.js';
export * from './faulty-server.js';
export * from './lossy-link.js';
export * from './malformed-corpus.js';
export * from './prng.js';
export * from './raw-client.js';
export * from './traversal-corpus.js';
