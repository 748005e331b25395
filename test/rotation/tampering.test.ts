// The tampering rule (lambda/rotation/tampering.ts) and its plans, as pure functions: which
// AWSCURRENT values the rotator did not write, and what a run does about them (never a
// retirement on their account).
import { describe, expect, it } from 'vitest';
import { serializeIntent } from '../../lambda/rotation/intent.ts';
import type { ObservedTarget, Policy } from '../../lambda/rotation/model.ts';
import { planTarget } from '../../lambda/rotation/plan.ts';
import { detectTampering, mayBeTampered } from '../../lambda/rotation/tampering.ts';
import { at, cred, record, target } from '../support/credentials.ts';

const POLICY: Policy = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };
const version = (id: string, value: string | undefined) => ({ versionId: id, createdAt: at(0), value });
const PLACEHOLDER = 'placeholder: the first run issues a credential';

function observed(current: string | undefined, extra: Partial<ObservedTarget> = {}): ObservedTarget {
  return { target, current: version('v2', current), credentials: [cred('C1', 0)], ...extra };
}
const intentSaw = (currentVersionId: string) =>
  version(
    'i1',
    serializeIntent({
      requestId: 'r',
      writtenAt: at(0).toISOString(),
      deadline: at(1).toISOString(),
      currentVersionId,
      known: [],
    }),
  );

describe('detectTampering', () => {
  const now = at(5);

  it("a new secret's placeholder (no earlier record, no intent) is not tampering", () => {
    expect(detectTampering(observed(PLACEHOLDER, { credentials: [] }), now)).toBeUndefined();
    // The intent saw this very placeholder: an interrupted first run, recovered by rule 4.
    expect(detectTampering(observed(PLACEHOLDER, { intent: intentSaw('v2') }), now)).toBeUndefined();
  });

  it('a placeholder over a record of this target, or after the intent saw another version', () => {
    const overRecord = detectTampering(
      observed(PLACEHOLDER, { previous: version('v1', record('C1', 0)) }),
      now,
    );
    expect(overRecord?.reason).toMatch(/holds no credential record .*tampering/);
    expect(overRecord?.inUse?.credential.id).toBe('C1');
    const storedSince = detectTampering(observed('not json', { intent: intentSaw('v1') }), now);
    expect(storedSince).toBeDefined();
    expect(storedSince?.inUse).toBeUndefined();
  });

  it("another pair's record is always tampering", () => {
    expect(detectTampering(observed(record('B1', 0, { userName: 'bob' })), now)?.reason).toContain('bob');
  });

  it('a record of an unlisted credential only while AWSPREVIOUS proves another one in use', () => {
    const forged = observed(record('FORGED', 0), { previous: version('v1', record('C1', 0)) });
    expect(detectTampering(forged, now)?.inUse?.credential.id).toBe('C1');
    // Deleted by hand with nothing to prove: a bootstrap, as before.
    expect(detectTampering(observed(record('GONE', 0)), now)).toBeUndefined();
  });

  it('says what it found, for the report, the log and the event', () => {
    const tail = ': a value the rotator did not write (tampering); nothing is retired on its account';
    const forged = observed(record('FORGED', 0), { previous: version('v1', record('C1', 0)) });
    expect(detectTampering(forged, now)?.reason).toBe(
      `AWSCURRENT (version v2) records credential FORGED, which IAM does not list${tail}`,
    );
    const placeholder = observed(PLACEHOLDER, { previous: version('v1', record('C1', 0)) });
    expect(detectTampering(placeholder, now)?.reason).toBe(
      `AWSCURRENT (version v2) holds no credential record (a placeholder or another value)${tail}`,
    );
  });

  it('a record of an unlisted credential after a store the intent saw, with nothing in use proven, is a bootstrap', () => {
    expect(detectTampering(observed(record('GONE', 0), { intent: intentSaw('v1') }), now)).toBeUndefined();
  });

  it("a record of a listed credential is the rotator's own, whatever AWSPREVIOUS holds", () => {
    // After a rotation: AWSCURRENT records C1, AWSPREVIOUS the one before, both listed.
    const rotated = observed(record('C1', 0), {
      previous: version('v1', record('C0', -30)),
      credentials: [cred('C0', -30), cred('C1', 0)],
      intent: intentSaw('v0'),
    });
    expect(detectTampering(rotated, now)).toBeUndefined();
    expect(
      detectTampering({ target, current: undefined, credentials: [cred('C1', 0)] }, now),
    ).toBeUndefined();
  });

  it('AWSPREVIOUS proves nothing when IAM lists its credential switched off or with another date', () => {
    const previous = version('v1', record('C1', 0));
    const inactive = observed(PLACEHOLDER, { previous, credentials: [cred('C1', 0, 'Inactive')] });
    expect(detectTampering(inactive, now)?.inUse).toBeUndefined();
    const redated = observed(PLACEHOLDER, { previous, credentials: [cred('C1', 1)] });
    expect(detectTampering(redated, now)?.inUse).toBeUndefined();
  });

  it('mayBeTampered: only when AWSCURRENT is not a record of a listed credential', () => {
    expect(mayBeTampered(observed(record('C1', 0)))).toBe(false);
    expect(mayBeTampered(observed(PLACEHOLDER))).toBe(true);
    expect(mayBeTampered(observed(record('GONE', 0)))).toBe(true);
    expect(mayBeTampered({ target, current: undefined, credentials: [] })).toBe(false);
  });
});

describe('plans on a tampered target', () => {
  const tampered = observed(PLACEHOLDER, {
    previous: version('v1', record('C1', 0)),
    credentials: [cred('C0', -40, 'Inactive'), cred('C1', 0)],
  });
  const retires = (p: { actions: readonly { type: string; credentialId?: string }[] }) =>
    p.actions.filter((a) => (a.type === 'deactivate' || a.type === 'delete') && a.credentialId === 'C1');

  it('reconcile, not due: the in-use record written back, rule 1 on the older one, C1 untouched', () => {
    const plan = planTarget(tampered, POLICY, at(10));
    expect(plan.outcome).toBe('recovered');
    expect(plan.actions).toEqual([
      { type: 'restore', credentialId: 'C1' },
      { type: 'delete', credentialId: 'C0' },
    ]);
    expect(plan.tampering).toBeDefined();
    expect(plan.reason).toMatch(/; the lifecycle goes on from credential C1 .*: its record is written back$/);
  });

  it('reconcile, an interrupted rotation to finish: the usual plan adopts its credential, nothing written back first', () => {
    const orphan = cred('ORPHAN', 30, 'Active', { createdAt: at(30, 1000) });
    // The intent saw this placeholder's version as current, so its credential was never stored.
    const interrupted: ObservedTarget = {
      target,
      current: { versionId: 'v2', createdAt: at(29), value: PLACEHOLDER },
      previous: version('v1', record('C1', 0)),
      credentials: [cred('C1', 0), orphan],
      intent: version(
        'i1',
        serializeIntent({
          requestId: 'r',
          writtenAt: at(30).toISOString(),
          deadline: at(30, 15 * 60_000).toISOString(),
          currentVersionId: 'v2',
          known: ['C1'],
          endedAt: at(30, 5000).toISOString(),
        }),
      ),
    };
    const plan = planTarget(interrupted, POLICY, at(31));
    expect(plan.outcome).toBe('recovered');
    expect(plan.actions).toEqual([
      { type: 'adopt', credentialId: 'ORPHAN' },
      { type: 'deactivate', credentialId: 'C1' },
    ]);
    expect(plan.reason).toMatch(
      /tampering.*; the lifecycle goes on from credential C1 \(the one in use, from AWSPREVIOUS\); credential ORPHAN was issued by invocation r, which ended before storing it/,
    );
    expect(plan.tampering).toBeDefined();
  });

  it('reconcile, due: the usual rotation stores a new record over the foreign value, nothing written back', () => {
    const plan = planTarget(tampered, POLICY, at(31));
    expect(plan.outcome).toBe('rotated');
    expect(plan.actions.map((a) => a.type)).toEqual(['delete', 'issue', 'deactivate']);
    expect(plan.reason).toMatch(
      /tampering.*; the lifecycle goes on from credential C1 \(the one in use, from AWSPREVIOUS\)$/,
    );
    expect(plan.tampering).toBeDefined();
  });

  it("a forced rotate still refuses another pair's record: overwriting it would lose that pair's password", () => {
    const plan = planTarget(observed(record('B1', 0, { userName: 'bob' })), POLICY, at(5), {
      command: 'rotate',
      force: true,
      requestId: 'r',
    });
    expect(plan).toMatchObject({ outcome: 'failed', actions: [] });
    expect(plan.reason).toContain('bob');
  });

  it('rotate (manual or createSecret) is held; forced, it is a bootstrap', () => {
    const held = planTarget(tampered, POLICY, at(5), { command: 'rotate', force: false, requestId: 'r' });
    expect(held).toMatchObject({ outcome: 'failed', actions: [] });
    expect(held.reason).toContain('held: credential C1 stays Active');
    const forced = planTarget(tampered, POLICY, at(5), { command: 'rotate', force: true, requestId: 'r' });
    expect(forced.outcome).toBe('rotated');
    expect(forced.tampering).toBeUndefined();
  });

  it('never retires the credential in use on the foreign value’s account', () => {
    for (let day = 1; day < 29; day += 3) expect(retires(planTarget(tampered, POLICY, at(day)))).toEqual([]);
    const unproven = observed(PLACEHOLDER, { intent: intentSaw('v1'), credentials: [cred('C1', 0)] });
    const held = planTarget(unproven, POLICY, at(5));
    expect(held).toMatchObject({ outcome: 'failed', actions: [] });
    expect(held.reason).toContain('no credential is retired; restore the value, or run a manual rotate');
  });
});
