/**
 * What one boot produced: the timeline of files (each with its transport, the server's
 * answer, size, time and the phone's verdict), and whether the phone would register. Plain
 * data, JSON-safe, so `ptftp phone boot --json` prints it as is.
 */
import type { Remedy } from '@ptftp/security';
import type { CallManagerNode } from './device-config.js';
import type { FetchAttempt, Transport } from './fetch-file.js';

/** Why the phone asked for a file. */
export type FilePurpose =
  | 'CTL'
  | 'ITL'
  | 'config'
  | 'loads'
  | 'image'
  | 'dial-plan'
  | 'softkeys'
  | 'feature-policy'
  | 'ring-list'
  | 'locale';

/** How the phone judged a file it received. */
export type StepVerdict =
  | 'accepted'
  | 'rejected'
  | 'unsigned'
  | 'malformed'
  | 'hash-ok'
  | 'size-ok'
  | 'hash-mismatch'
  | 'size-mismatch'
  | 'not-checked'
  | 'none';

/** The signer and the rule of a trust decision (from `@ptftp/security`'s `evaluateTrust`). */
export interface TrustSummary {
  readonly rule: string | undefined;
  readonly reason: string;
  readonly signer: { readonly name: string; readonly serialHex: string; readonly issuer: string };
  readonly remedies: readonly Remedy[];
}

/** One file of the timeline. */
export interface BootStep {
  readonly name: string;
  readonly purpose: FilePurpose;
  readonly status: 'ok' | 'not-found' | 'failed';
  /** The transport that delivered it, or the last one asked. */
  readonly transport: Transport;
  /** The server's last answer: `200`, `OK` (TFTP), `ERROR 1 (file not found)`, `PTFTP_ERR_TIMEOUT: ...`. */
  readonly answer: string;
  readonly size: number;
  readonly ms: number;
  /** SHA-256 of what arrived (hex; '' when nothing did). */
  readonly sha256: string;
  readonly verdict: StepVerdict;
  /** One sentence about the verdict. */
  readonly detail: string;
  readonly trust: TrustSummary | undefined;
  readonly attempts: readonly FetchAttempt[];
}

/** Why a phone would not register; the first such reason of a boot. */
export type BootFailureCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_REJECTED'
  | 'CONFIG_INVALID'
  | 'NO_CALL_MANAGER'
  | 'FIRMWARE_FAILED'
  | 'TRANSFER_FAILED';

export interface BootFailure {
  readonly code: BootFailureCode;
  /** The file that decided it. */
  readonly file: string;
  readonly reason: string;
  /** What an operator can do (`trust check`'s remedies for a trust rejection). */
  readonly remedies: readonly Remedy[];
}

/** The outcome of one phone's start-up. */
export interface BootResult {
  readonly mac: string;
  readonly model: string;
  /** True when the phone would go on to register with {@link BootResult.callManager}. */
  readonly registered: boolean;
  readonly callManager: CallManagerNode | undefined;
  readonly failure: BootFailure | undefined;
  readonly steps: readonly BootStep[];
  /** Things that do not stop registration (an ITL update refused, a dial plan rejected). */
  readonly warnings: readonly string[];
  readonly ms: number;
  /** Bytes received, by transport. */
  readonly bytes: Readonly<Record<Transport, number>>;
  /** Bytes received, by purpose. */
  readonly bytesByPurpose: Readonly<Partial<Record<FilePurpose, number>>>;
  /** What the phone holds after the boot (the signer of each list, or undefined). */
  readonly holds: { readonly itl: string | undefined; readonly ctl: string | undefined };
}
