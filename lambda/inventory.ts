// The inventory a security team asks for first: every service-specific credential in the
// account that no target covers. Pure: given what IAM lists and which (user, service) pairs
// the run covered, it says which credentials nobody rotates. It only reads; the rotator never
// writes a credential it does not manage (docs/SECURITY.md).
import type { Credential, CredentialStatus } from './rotation/model.ts';

/** One credential no target covers. Ids, names, status and times only: never a secret. */
export interface UnmanagedCredential {
  readonly userName: string;
  readonly serviceName: string;
  readonly credentialId: string;
  readonly status: CredentialStatus;
  /** IAM's CreateDate, ISO 8601. */
  readonly issuedAt: string;
  /** Whole days since it was issued, rounded down. */
  readonly ageDays: number;
}

/** A (user, service) pair the run covered: a target, whatever its outcome. */
export interface CoveredPair {
  readonly userName: string;
  readonly serviceName: string;
}

const DAY_MS = 86_400_000;

/** IAM user names are unique case-insensitively; service names are compared as written. */
const pairKey = (userName: string, serviceName: string) => `${userName.toLowerCase()}\u0000${serviceName}`;

/**
 * The credentials in `listed` whose (user, service) pair is not in `covered`, oldest first
 * (then by user, service and id, so the same account always reads the same way). A
 * credential listed twice (two listings overlapping) appears once.
 */
export function unmanagedCredentials(
  listed: readonly Credential[],
  covered: readonly CoveredPair[],
  now: Date,
): UnmanagedCredential[] {
  const coveredKeys = new Set(covered.map((c) => pairKey(c.userName, c.serviceName)));
  const seen = new Set<string>();
  const out: UnmanagedCredential[] = [];
  for (const c of listed) {
    if (coveredKeys.has(pairKey(c.userName, c.serviceName)) || seen.has(c.id)) continue;
    seen.add(c.id);
    out.push({
      userName: c.userName,
      serviceName: c.serviceName,
      credentialId: c.id,
      status: c.status,
      issuedAt: c.createdAt.toISOString(),
      ageDays: Math.max(0, Math.floor((now.getTime() - c.createdAt.getTime()) / DAY_MS)),
    });
  }
  return out.sort(
    (a, b) =>
      a.issuedAt.localeCompare(b.issuedAt) ||
      a.userName.localeCompare(b.userName) ||
      a.serviceName.localeCompare(b.serviceName) ||
      a.credentialId.localeCompare(b.credentialId),
  );
}

/**
 * The services whose credentials the inventory lists: the known ones, and any other service a
 * target names (a service AWS added later, accepted with allowUnknownService).
 */
export function inventoryServices(known: readonly string[], covered: readonly CoveredPair[]): string[] {
  return [...new Set([...known, ...covered.map((c) => c.serviceName)])].sort();
}
