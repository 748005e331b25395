// End-of-bench checks of the product's promises (DESIGN.md I1–I6) on every target of a bench
// world, read straight from the emulator's state. Same rules as test/support/world.ts, but
// collecting violations instead of failing a test, so the report can show them.
import type { RunReport } from '../lambda/rotation/model.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../lambda/rotation/services.ts';
import { isWriteCall } from '../emulator/index.ts';
import { type BenchWorld, captured, DAY_MS, POLICY } from './harness.ts';

export interface InvariantResult {
  readonly targets: number;
  /** Per check: how many targets (or runs) violate it; 0 everywhere = all pass. */
  readonly violations: Record<string, number>;
  /** A few examples, for the report. */
  readonly examples: string[];
  readonly passed: boolean;
}

const SCHEDULED = { action: 'reconcile' };

/**
 * I1 (no lockout), I4 (at most two credentials, no stray Active one), no target left between
 * Create and store, I6 (a second run writes nothing, checked by running it) and I5 (no issued
 * secret in anything the handler printed or returned). I2/I3 are covered by I1 plus the
 * per-target "at most two, none stray" checks at rest.
 */
export async function checkInvariants(world: BenchWorld): Promise<InvariantResult> {
  const violations: Record<string, number> = {
    'I1 no lockout': 0,
    'I4 at most two credentials': 0,
    'I4 no stray Active credential': 0,
    'no create without store': 0,
    'I6 second run writes nothing': 0,
    'I5 no secret in logs/reports/errors': 0,
  };
  const examples: string[] = [];
  const fail = (check: string, example: string) => {
    violations[check] = (violations[check] ?? 0) + 1;
    if (examples.length < 10) examples.push(`${check}: ${example}`);
  };

  const atRest = () => {
    const { iam, secrets } = world.emulator;
    const now = world.emulator.clock.now().getTime();
    const targets = secrets
      .all()
      .filter((s) => !s.deletedDate && s.tags.some((t) => t.Key === USER_NAME_TAG));
    for (const s of targets) {
      const user = s.tags.find((t) => t.Key === USER_NAME_TAG)?.Value;
      const service = s.tags.find((t) => t.Key === SERVICE_NAME_TAG)?.Value;
      const record = parse(secrets.valueAt(s.arn));
      const cred = record ? iam.credential(String(record.credentialId)) : undefined;
      const stored = record?.password ?? record?.apiKey;
      if (cred?.Status !== 'Active' || stored !== cred.secret) {
        fail('I1 no lockout', `${s.name}: ${cred ? `credential ${cred.Status}` : 'no recorded credential'}`);
      } else if (record?.password !== undefined && record.username !== cred.ServiceUserName) {
        fail('I1 no lockout', `${s.name}: username differs from IAM's`);
      }
      const creds = iam.credentials({ userName: String(user), serviceName: String(service) });
      if (creds.length > 2) fail('I4 at most two credentials', `${s.name}: ${creds.length}`);
      const overlapEnds = (cred?.CreateDate.getTime() ?? 0) + POLICY.overlapDays * DAY_MS;
      for (const c of creds) {
        if (c.Status === 'Active' && c.ServiceSpecificCredentialId !== cred?.ServiceSpecificCredentialId) {
          if (now >= overlapEnds)
            fail('I4 no stray Active credential', `${s.name}: ${c.ServiceSpecificCredentialId}`);
        }
      }
    }
    return targets.length;
  };

  const targets = atRest();
  for (const report of world.reports) checkCreateThenStore(report, fail);

  // I6: run again right away; nothing may be written.
  const again = await world.invoke(SCHEDULED);
  const writes = again.calls.filter(isWriteCall);
  if (writes.length > 0 || again.error) {
    fail(
      'I6 second run writes nothing',
      `${writes.length} writes${again.error ? `, error ${String(again.error)}` : ''}`,
    );
  }
  atRest();

  // I5: every password and API key IAM issued, against all the handler printed and returned.
  const haystack = [
    ...captured,
    ...world.reports.map((r) => JSON.stringify(r)),
    ...world.errors.map((e) => (e instanceof Error ? `${e.name} ${e.message} ${e.stack}` : String(e))),
  ].join('\n');
  const leaked = leakedSecrets(haystack, world.emulator.issuedSecrets());
  if (leaked > 0) fail('I5 no secret in logs/reports/errors', `${leaked} issued secrets found`);

  return {
    targets,
    violations,
    examples,
    passed: Object.values(violations).every((n) => n === 0),
  };
}

function checkCreateThenStore(report: RunReport, fail: (check: string, example: string) => void): void {
  for (const t of report.targets) {
    const created = t.actions.filter((a) => a.type === 'create' || a.type === 'reset');
    for (const c of created) {
      if (!t.actions.some((a) => a.type === 'store' && a.credentialId === c.credentialId)) {
        fail('no create without store', `${t.secretId}: ${c.credentialId}`);
      }
    }
  }
}

/**
 * How many issued secrets occur in `text`. Secrets are runs of [A-Za-z0-9+/=_-]; rather than
 * searching the (megabytes of) text once per secret, every such run of the text is cut into
 * windows of each secret length and looked up in a set.
 */
function leakedSecrets(text: string, issued: readonly string[]): number {
  const secrets = new Set(issued);
  const lengths = [...new Set(issued.map((s) => s.length))];
  const found = new Set<string>();
  for (const m of text.matchAll(/[A-Za-z0-9+/=_-]{16,}/g)) {
    const run = m[0];
    for (const n of lengths) {
      for (let i = 0; i + n <= run.length; i++) {
        const w = run.slice(i, i + n);
        if (secrets.has(w)) found.add(w);
      }
    }
  }
  return found.size;
}

function parse(value: string | undefined): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(value ?? '');
    return typeof v === 'object' && v !== null ? v : undefined;
  } catch {
    return undefined;
  }
}
