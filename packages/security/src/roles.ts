import { SecurityError } from './errors.js';

/** Trust-list record roles (tag 4), as CUCM numbers them. */
export const Role = {
  SAST: 0,
  CCM: 1,
  CCM_TFTP: 2,
  TFTP: 3,
  CAPF: 4,
  SRST: 5,
  APP_SERVER: 7,
  TVS: 21,
} as const;

export type RoleValue = (typeof Role)[keyof typeof Role];
/** A role by number or by the name the CLI and Cisco dumps use (`SAST`, `CCM+TFTP`, ...). */
export type RoleInput = number | string;

const NAMES: Record<number, [short: string, long: string]> = {
  0: ['SAST', 'System Administrator Security Token'],
  1: ['CCM', 'CCM'],
  2: ['CCM+TFTP', 'CCM+TFTP'],
  3: ['TFTP', 'TFTP'],
  4: ['CAPF', 'CAPF'],
  5: ['SRST', 'SRST'],
  7: ['APP-SERVER', 'Application Server'],
  21: ['TVS', 'TVS'],
};

/** Short name of a role (`CCM+TFTP`), or `ROLE(<n>)` for numbers Cisco has not been seen to use. */
export function roleName(role: number): string {
  return NAMES[role]?.[0] ?? `ROLE(${role})`;
}

/** The wording of Cisco's `show ctl` FUNCTION line. */
export function roleDescription(role: number): string {
  return NAMES[role]?.[1] ?? `unknown role ${role}`;
}

/**
 * Parse a role name or number.
 *
 * @example
 * ```ts
 * toRole('CCM+TFTP'); // 2
 * ```
 */
export function toRole(input: RoleInput): number {
  if (typeof input === 'number') {
    if (Number.isInteger(input) && input >= 0 && input <= 0xffff) return input;
  } else {
    const wanted = input.trim().toUpperCase().replace(/_/g, '-');
    for (const [n, [short]] of Object.entries(NAMES)) if (short === wanted) return Number(n);
    if (wanted === 'CCM-TFTP' || wanted === 'CCMTFTP') return Role.CCM_TFTP;
    if (/^\d+$/.test(wanted)) return toRole(Number(wanted));
  }
  const known = Object.values(NAMES)
    .map(([s]) => s)
    .join(', ');
  throw new SecurityError(
    'PTFTP_ERR_ARGUMENT',
    `unknown role ${JSON.stringify(input)} (one of ${known}, or a number)`,
  );
}

/** Roles whose certificate may sign configuration files (the TFTP service's certificate). */
export function canSignFiles(role: number): boolean {
  return role === Role.TFTP || role === Role.CCM_TFTP;
}
