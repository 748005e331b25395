// Tampering: a value in AWSCURRENT the rotator did not write. The rotator writes only
// credential records of the target's own pair, each naming a credential IAM issued; a
// placeholder, a value that is not a record, another pair's record, or a record of a
// credential IAM does not list, found where the rotator had written before, was put there by
// someone else (an administrator with PutSecretValue, once the resource policy was removed).
// Obeyed, it would look like a target to bootstrap, and the bootstrap retires every other
// credential: the one applications use. So it is reported, never obeyed (docs/SECURITY.md).
//
// What counts as "the rotator had written before", from Secrets Manager's own labels (which the
// resource policy fences like the value): AWSPREVIOUS holds a record of this target (the
// rotator's last store, pushed down by the foreign one), or the rotator's intent saw another
// AWSCURRENT version than today's (something was stored since, and the rotator stores only
// records). A new secret's placeholder has neither, and is bootstrapped as before.
import { parseIntent } from './intent.ts';
import type { Credential, CredentialRecord, CurrentVersion, ObservedTarget } from './model.ts';
import { parseRecord } from './record.ts';
import { isUsable } from './retirement.ts';

export interface Tampering {
  /** What was found, for the report, the log and the event (ids and labels only). */
  readonly reason: string;
  /**
   * The credential applications used, when AWSPREVIOUS proves it: its record (the rotator's
   * own, as stored) and IAM's listing of it, Active and with the issue time the record says.
   */
  readonly inUse?: { readonly record: CredentialRecord; readonly credential: Credential } | undefined;
}

/**
 * Whether observation should read AWSPREVIOUS and the intent to decide about tampering: only
 * when AWSCURRENT holds something other than a record of a credential IAM lists (rare: a new
 * secret's placeholder, or tampering). Quiet targets pay nothing.
 */
export function mayBeTampered<O extends Pick<ObservedTarget, 'target' | 'current' | 'credentials'>>(
  observed: O,
): observed is O & { readonly current: CurrentVersion } {
  if (observed.current === undefined) return false;
  const record = parseRecord(observed.current.value, observed.target);
  return record.kind !== 'valid' || !observed.credentials.some((c) => c.id === record.record.credentialId);
}

/** The tampering AWSCURRENT shows, or undefined (a record the rotator wrote, or a new secret). */
export function detectTampering(observed: ObservedTarget, now: Date): Tampering | undefined {
  if (!mayBeTampered(observed)) return undefined;
  const { current, target } = observed;
  const record = parseRecord(current.value, target);
  const previous = parseRecord(observed.previous?.value, target);
  const intent = parseIntent(observed.intent?.value);
  const storedSince = intent !== undefined && intent.currentVersionId !== current.versionId;
  const wroteBefore = previous.kind === 'valid' || storedSince;
  const inUse = provenInUse(observed, now);
  let found: string;
  if (record.kind === 'foreign') {
    // The rotator writes only its target's pair: another pair's record is never its own.
    found = record.reason;
  } else if (!wroteBefore) {
    return undefined;
  } else if (record.kind === 'absent') {
    found = `AWSCURRENT (version ${current.versionId}) holds no credential record (a placeholder or another value)`;
  } else {
    // A record of this pair naming a credential IAM does not list (mayBeTampered), so never
    // the one AWSPREVIOUS proves in use, which IAM lists. Deleted by hand, it would be a
    // bootstrap; so it is only treated as tampering while that one is still there to keep.
    if (!inUse) return undefined;
    found = `AWSCURRENT (version ${current.versionId}) records credential ${record.record.credentialId}, which IAM does not list`;
  }
  return {
    reason: `${found}: a value the rotator did not write (tampering); nothing is retired on its account`,
    ...(inUse ? { inUse } : {}),
  };
}

/** The credential AWSPREVIOUS records, when IAM lists it usable with the record's issue time. */
function provenInUse(observed: ObservedTarget, now: Date): Tampering['inUse'] {
  const previous = parseRecord(observed.previous?.value, observed.target);
  if (previous.kind !== 'valid') return undefined;
  const credential = observed.credentials.find((c) => c.id === previous.record.credentialId);
  if (!credential || !isUsable(credential, now)) return undefined;
  if (Date.parse(previous.record.issuedAt) !== credential.createdAt.getTime()) return undefined;
  return { record: previous.record, credential };
}
