// The credentials, records and target the pure rotation tests (plan, rule 1, phases, operator,
// tampering) build their observed states from: one user, alice, with Keyspaces credentials,
// dated in days from T0 so a test reads as a calendar.
import type { Credential } from '../../lambda/rotation/model.ts';
import { DAY_MS } from '../../lambda/rotation/retirement.ts';

/** Day 0 of every test calendar. */
export const T0 = new Date('2026-01-01T00:00:00.000Z').getTime();

/** The instant `days` (and `ms`) after T0. */
export const at = (days: number, ms = 0): Date => new Date(T0 + days * DAY_MS + ms);

export const SERVICE = 'cassandra.amazonaws.com';

/** The target every credential below belongs to. */
export const target = { secretId: 'arn:secret', secretName: 's', userName: 'alice', serviceName: SERVICE };

/** alice's Keyspaces credential `id`, created on day `createdDay`. */
export function cred(
  id: string,
  createdDay: number,
  status: Credential['status'] = 'Active',
  extra: Partial<Credential> = {},
): Credential {
  return { id, userName: 'alice', serviceName: SERVICE, status, createdAt: at(createdDay), ...extra };
}

/** The record the rotator stores for credential `id` issued on day `issuedDay`; `extra` overrides fields. */
export function record(id: string, issuedDay: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    credentialId: id,
    userName: 'alice',
    serviceName: SERVICE,
    issuedAt: at(issuedDay).toISOString(),
    username: 'alice-at-1',
    password: 'pw',
    ...extra,
  });
}
