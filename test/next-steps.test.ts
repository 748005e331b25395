// What invoke's table and fleet's `next` column call a target's next date (scripts/local.ts):
// named by what it is — the rotation, or the other credential's deactivation or deletion —
// also when the report alone is known (`invoke --endpoint`: no view of the credentials).
import { describe, expect, it } from 'vitest';
import type { TargetReport } from '../lambda/rotation/model.ts';
import { nextSteps, renderTarget } from '../scripts/local.ts';

const DAY = 86_400_000;
const ISSUED = Date.parse('2026-01-31T03:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const at = (d: Date) => d.toISOString().slice(0, 10);
const POLICY = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };

const rotated = (nextDueAt: number, extra: Partial<TargetReport> = {}): TargetReport => ({
  secretId: 'service-credentials/app/cassandra.amazonaws.com',
  userName: 'app',
  serviceName: 'cassandra.amazonaws.com',
  outcome: 'rotated',
  actions: [],
  currentCredentialId: 'ACCANEW',
  currentIssuedAt: iso(ISSUED),
  nextDueAt: iso(nextDueAt),
  ...extra,
});

describe('the next date, from a report without the credentials (invoke --endpoint)', () => {
  it('calls a date before issue + rotateAfterDays a deletion, and shows the rotation apart', () => {
    const [line] = renderTarget(rotated(ISSUED + 7 * DAY), undefined, at, POLICY);
    expect(line).toMatch(/next rotation 2026-03-02 · delete the other credential 2026-02-07$/);
  });

  it('calls a date at issue + overlapDays a deactivation', () => {
    const policy = { ...POLICY, overlapDays: 1 };
    expect(nextSteps(rotated(ISSUED + DAY), undefined, policy)).toEqual({
      now: undefined,
      rotateAt: new Date(ISSUED + 30 * DAY),
      retire: { type: 'deactivate', at: new Date(ISSUED + DAY) },
    });
  });

  it('calls the date the rotation when it is issue + rotateAfterDays', () => {
    const [line] = renderTarget(rotated(ISSUED + 30 * DAY), undefined, at, POLICY);
    expect(line).toMatch(/next rotation 2026-03-02$/);
  });

  it('uses the credentials a status report lists', () => {
    const credentials = [
      { id: 'ACCANEW', status: 'Active', issuedAt: iso(ISSUED), current: true },
      { id: 'ACCAOLD', status: 'Inactive', issuedAt: iso(ISSUED - 30 * DAY), current: false },
    ];
    const [line] = renderTarget(rotated(ISSUED + 7 * DAY, { credentials }), undefined, at, POLICY);
    expect(line).toMatch(/next rotation 2026-03-02 · delete ACCAOLD 2026-02-07$/);
  });
});

describe('a retirement due now (dry run, status) is named by its step, as fleet lists them', () => {
  const planned = rotated(ISSUED, { outcome: 'planned', reason: 'would be retired' });
  it.each([
    ['Active', 'deactivate'],
    ['Inactive', 'delete'],
  ])('the other credential %s: %s', (status, step) => {
    expect(nextSteps(planned, [{ id: 'ACCAOLD', status }], POLICY).now).toBe(step);
  });

  it('a rotation and a recovery keep their verbs', () => {
    const would = (what: string) =>
      nextSteps({ ...planned, reason: `would be ${what}: due` }, [], POLICY).now;
    expect([would('rotated'), would('recovered')]).toEqual(['rotate', 'recover']);
  });
});
