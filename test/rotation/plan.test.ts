import { describe, expect, it } from 'vitest';
import { serializeIntent } from '../../lambda/rotation/intent.ts';
import type { Credential, Intent, ObservedTarget, Policy } from '../../lambda/rotation/model.ts';
import { mayNeedIntent } from '../../lambda/rotation/orphans.ts';
import { type Plan, planTarget } from '../../lambda/rotation/plan.ts';
import { DAY_MS } from '../../lambda/rotation/retirement.ts';
import type { LifecycleRequest } from '../../lambda/rotation/commands.ts';
import { at, cred, record, T0, target } from '../support/credentials.ts';

const POLICY: Policy = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };
const OVERLAP: Policy = { rotateAfterDays: 30, overlapDays: 2, gracePeriodDays: 7 };

/** The secret records `recordedId`, written at `writtenDay` (defaults to the credential's day + 1 minute). */
function observe(
  credentials: Credential[],
  value: string | undefined,
  writtenAt: Date = at(-100),
): ObservedTarget {
  return { target, current: { versionId: 'v1', createdAt: writtenAt, value }, credentials };
}
function recordedBy(c: Credential): string {
  return record(c.id, (c.createdAt.getTime() - T0) / DAY_MS);
}
const written = (day: number) => at(day, 60_000);

/** How long the issuing invocation of the intents below may run (Lambda's maximum). */
const DEADLINE_MS = 15 * 60_000;
/**
 * `observed` plus the intent version: by default, invocation req-issuer wrote it at day 30 while
 * AWSCURRENT was v1 and IAM listed only C, and may run until day 30 + 15 min.
 */
function withIntent(
  observed: ObservedTarget,
  fields: Partial<Omit<Intent, 'writtenAt' | 'endedAt'>> & { writtenAt?: Date; endedAt?: Date } = {},
): ObservedTarget {
  const { writtenAt = at(30), endedAt, ...rest } = fields;
  const intent: Intent = {
    requestId: 'req-issuer',
    deadline: at(30, DEADLINE_MS).toISOString(),
    known: observed.credentials
      .filter((c) => c.createdAt.getTime() < writtenAt.getTime() - 1000)
      .map((c) => c.id),
    ...('currentVersionId' in fields ? {} : { currentVersionId: observed.current?.versionId }),
    ...rest,
    writtenAt: writtenAt.toISOString(),
    ...(endedAt ? { endedAt: endedAt.toISOString() } : {}),
  };
  return { ...observed, intent: { versionId: 'i1', createdAt: writtenAt, value: serializeIntent(intent) } };
}

const MANUAL: LifecycleRequest = { command: 'rotate', force: false };
const FORCED: LifecycleRequest = { command: 'rotate', force: true };

interface Case {
  name: string;
  observed: ObservedTarget;
  now: Date;
  policy?: Policy;
  request?: LifecycleRequest;
  outcome: Plan['outcome'];
  actions: string[];
  nextDueAt?: Date;
  reason?: RegExp;
}

const C = cred('ACCACURRENT0000000001', 0);
const O_ACTIVE = cred('ACCAOTHER00000000001', -30);
const O_INACTIVE = cred('ACCAOTHER00000000001', -30, 'Inactive');
/** What an interrupted run leaves: issued one second after its intent (day 30), unrecorded. */
const ORPHAN = cred('ACCAORPHAN0000000001', 30, 'Active', { createdAt: at(30, 1000) });

const cases: Case[] = [
  // --- Bootstrap (rule 3)
  {
    name: 'bootstraps a secret with no value',
    observed: { target, current: undefined, credentials: [] },
    now: at(0),
    outcome: 'rotated',
    actions: ['issue'],
    nextDueAt: at(30),
  },
  {
    name: 'bootstraps a placeholder value',
    observed: observe([], 'placeholder'),
    now: at(0),
    outcome: 'rotated',
    actions: ['issue'],
  },
  {
    name: 'bootstraps JSON of the wrong shape',
    observed: observe([], '{"username":"x"}'),
    now: at(0),
    outcome: 'rotated',
    actions: ['issue'],
  },
  {
    name: 'bootstraps when the recorded credential is gone from IAM',
    observed: observe([], record('ACCAGONE000000000001', -5)),
    now: at(0),
    outcome: 'rotated',
    actions: ['issue'],
  },
  {
    name: 'bootstraps when the recorded credential is Inactive and a slot is free; the Inactive one becomes other',
    observed: observe([cred(C.id, 0, 'Inactive')], recordedBy(C), written(0)),
    now: at(1),
    outcome: 'rotated',
    actions: ['issue'],
    nextDueAt: at(8),
  },
  {
    name: 'bootstraps when the recorded credential has expired',
    observed: observe([cred(C.id, 0, 'Active', { expiresAt: at(1) })], recordedBy(C), written(0)),
    now: at(1),
    outcome: 'rotated',
    actions: ['issue', `deactivate ${C.id}`],
  },
  {
    name: 'treats a pre-existing credential as other at bootstrap and deactivates it (overlap 0)',
    observed: observe([O_ACTIVE], 'placeholder', at(-1)),
    now: at(0),
    outcome: 'rotated',
    actions: ['issue', `deactivate ${O_ACTIVE.id}`],
    nextDueAt: at(7),
  },
  {
    name: 'keeps a pre-existing credential active during the overlap at bootstrap',
    observed: observe([O_ACTIVE], 'placeholder', at(-1)),
    now: at(0),
    policy: OVERLAP,
    outcome: 'rotated',
    actions: ['issue'],
    nextDueAt: at(2),
  },
  {
    name: 'blocks a bootstrap when both slots hold credentials the secret does not know',
    observed: observe(
      [cred('ACCAUNKNOWN000000001', -40), cred('ACCAUNKNOWN000000002', -35)],
      'placeholder',
      at(-1),
    ),
    now: at(0),
    outcome: 'blocked',
    actions: [],
    reason:
      /both credential slots are taken by ACCAUNKNOWN000000001 \(Active\), ACCAUNKNOWN000000002 \(Active\)/,
  },
  {
    name: 'forced rotate at bootstrap deletes the oldest unknown credential early',
    observed: observe(
      [cred('ACCAUNKNOWN000000002', -35), cred('ACCAUNKNOWN000000001', -40)],
      'placeholder',
      at(-1),
    ),
    now: at(0),
    request: FORCED,
    outcome: 'rotated',
    actions: ['delete ACCAUNKNOWN000000001 (early)', 'issue', 'deactivate ACCAUNKNOWN000000002'],
  },
  {
    name: 'switches the recorded credential back on when it was deactivated by hand and no slot is free',
    observed: observe([cred(C.id, 0, 'Inactive'), O_INACTIVE], recordedBy(C), written(0)),
    now: at(3),
    outcome: 'recovered',
    actions: [`activate ${C.id}`],
    nextDueAt: at(7),
  },
  // --- Rule 1: retire the other credential
  {
    name: 'does nothing for a fresh credential alone',
    observed: observe([C], recordedBy(C), written(0)),
    now: at(1),
    outcome: 'unchanged',
    actions: [],
    nextDueAt: at(30),
  },
  {
    name: 'deactivates an Active other at once when overlap is 0',
    observed: observe([C, O_ACTIVE], recordedBy(C), written(0)),
    now: at(0, 120_000),
    outcome: 'retired',
    actions: [`deactivate ${O_ACTIVE.id}`],
    nextDueAt: at(7),
  },
  {
    name: 'keeps the other Active one second before the overlap ends',
    observed: observe([C, O_ACTIVE], recordedBy(C), written(0)),
    now: at(2, -1000),
    policy: OVERLAP,
    outcome: 'unchanged',
    actions: [],
    nextDueAt: at(2),
  },
  {
    name: 'deactivates the other exactly when the overlap ends',
    observed: observe([C, O_ACTIVE], recordedBy(C), written(0)),
    now: at(2),
    policy: OVERLAP,
    outcome: 'retired',
    actions: [`deactivate ${O_ACTIVE.id}`],
    nextDueAt: at(9),
  },
  {
    name: 'keeps an Inactive other one second before the grace period ends',
    observed: observe([C, O_INACTIVE], recordedBy(C), written(0)),
    now: at(7, -1000),
    outcome: 'unchanged',
    actions: [],
    nextDueAt: at(7),
  },
  {
    name: 'deletes an Inactive other exactly when the grace period ends',
    observed: observe([C, O_INACTIVE], recordedBy(C), written(0)),
    now: at(7),
    outcome: 'retired',
    actions: [`delete ${O_INACTIVE.id}`],
    nextDueAt: at(30),
  },
  {
    name: 'deletes an Expired other after the grace period like an Inactive one',
    observed: observe([C, cred(O_ACTIVE.id, -30, 'Expired')], recordedBy(C), written(0)),
    now: at(8),
    outcome: 'retired',
    actions: [`delete ${O_ACTIVE.id}`],
  },
  {
    name: 'deactivates and deletes in one run when both are due (so a second run writes nothing)',
    observed: observe([C, O_ACTIVE], recordedBy(C), written(0)),
    now: at(20),
    outcome: 'retired',
    actions: [`deactivate ${O_ACTIVE.id}`, `delete ${O_ACTIVE.id}`],
  },
  {
    name: 'never deactivates or deletes the current credential, however old',
    observed: observe([C], recordedBy(C), written(0)),
    now: at(29),
    outcome: 'unchanged',
    actions: [],
  },
  // --- Rule 2: rotate
  {
    name: 'does not rotate one second before the credential is due',
    observed: observe([C], recordedBy(C), written(0)),
    now: at(30, -1000),
    outcome: 'unchanged',
    actions: [],
    nextDueAt: at(30),
  },
  {
    name: 'rotates exactly when due and deactivates the old credential in the same run',
    observed: observe([C], recordedBy(C), written(0)),
    now: at(30),
    outcome: 'rotated',
    actions: ['issue', `deactivate ${C.id}`],
    nextDueAt: at(37),
  },
  {
    name: 'keeps the old credential Active through the overlap after rotating',
    observed: observe([C], recordedBy(C), written(0)),
    now: at(30),
    policy: OVERLAP,
    outcome: 'rotated',
    actions: ['issue'],
    nextDueAt: at(32),
  },
  {
    name: 'deletes an other whose grace is over to make room, then rotates',
    observed: observe([C, O_INACTIVE], recordedBy(C), written(0)),
    now: at(30),
    outcome: 'rotated',
    actions: [`delete ${O_INACTIVE.id}`, 'issue', `deactivate ${C.id}`],
  },
  {
    name: 'rotates on a manual request whatever the age',
    observed: observe([C], recordedBy(C), written(0)),
    now: at(1),
    request: MANUAL,
    outcome: 'rotated',
    actions: ['issue', `deactivate ${C.id}`],
  },
  {
    name: 'blocks a manual rotate while the other is in its grace period',
    observed: observe([C, O_INACTIVE], recordedBy(C), written(0)),
    now: at(3),
    request: MANUAL,
    outcome: 'blocked',
    actions: [],
    nextDueAt: at(7),
    reason:
      /both credential slots are taken by ACCACURRENT0000000001 \(current\) and ACCAOTHER00000000001 \(Inactive\).*"force": true/,
  },
  {
    name: 'still retires what is due when a rotation is blocked',
    observed: observe([C, O_ACTIVE], recordedBy(C), written(0)),
    now: at(3),
    request: MANUAL,
    outcome: 'blocked',
    actions: [`deactivate ${O_ACTIVE.id}`],
  },
  {
    name: 'a forced rotate deletes the other early, never the current one',
    observed: observe([C, O_INACTIVE], recordedBy(C), written(0)),
    now: at(3),
    request: FORCED,
    outcome: 'rotated',
    actions: [`delete ${O_INACTIVE.id} (early)`, 'issue', `deactivate ${C.id}`],
  },
  {
    name: 'a forced rotate with a free slot deletes nothing',
    observed: observe([C], recordedBy(C), written(0)),
    now: at(3),
    request: FORCED,
    outcome: 'rotated',
    actions: ['issue', `deactivate ${C.id}`],
  },
  // --- Rule 4: recover (the intent decides whose an unrecorded credential is)
  {
    name: 'adopts the credential of an invocation that ended before storing it (it said so on its way out)',
    observed: withIntent(observe([C, ORPHAN], recordedBy(C), written(0)), { endedAt: at(30, 5000) }),
    now: at(30, 60_000),
    outcome: 'recovered',
    actions: [`adopt ${ORPHAN.id}`, `deactivate ${C.id}`],
    nextDueAt: at(37, 1000),
    reason: /ACCAORPHAN0000000001 was issued by invocation req-issuer, which ended before storing it/,
  },
  {
    name: 'leaves the credential alone while the issuing invocation may still be running',
    observed: withIntent(observe([C, ORPHAN], recordedBy(C), written(0))),
    now: at(30, DEADLINE_MS - 1),
    outcome: 'unchanged',
    actions: [],
    nextDueAt: at(30, DEADLINE_MS),
    reason: /issued by invocation req-issuer, which may still be running and storing it/,
  },
  {
    name: 'adopts exactly at the issuing invocation’s deadline',
    observed: withIntent(observe([C, ORPHAN], recordedBy(C), written(0))),
    now: at(30, DEADLINE_MS),
    outcome: 'recovered',
    actions: [`adopt ${ORPHAN.id}`, `deactivate ${C.id}`],
  },
  {
    name: 'adopts at once on a retry of the issuing invocation itself (Lambda keeps the request id)',
    observed: withIntent(observe([C, ORPHAN], recordedBy(C), written(0))),
    now: at(30, 60_000),
    request: { command: 'reconcile', requestId: 'req-issuer' },
    outcome: 'recovered',
    actions: [`adopt ${ORPHAN.id}`, `deactivate ${C.id}`],
  },
  {
    name: 'blocks a manual rotate while the issuing invocation may still be running',
    observed: withIntent(observe([C, ORPHAN], recordedBy(C), written(0))),
    now: at(30, 60_000),
    request: MANUAL,
    outcome: 'blocked',
    actions: [],
  },
  {
    name: 'adopts the orphan of an interrupted bootstrap',
    observed: withIntent(observe([ORPHAN], 'placeholder', at(-1)), { endedAt: at(30, 5000) }),
    now: at(30, 60_000),
    outcome: 'recovered',
    actions: [`adopt ${ORPHAN.id}`],
    nextDueAt: at(60, 1000),
  },
  {
    // plan.ts used to read "the version's CreatedDate" unguarded: a secret with no AWSCURRENT
    // version at all (created without a value) and an Active credential.
    name: 'adopts the orphan of a bootstrap of a secret that has no AWSCURRENT version',
    observed: withIntent(
      { target, current: undefined, credentials: [ORPHAN] },
      { endedAt: at(30, 5000), currentVersionId: undefined },
    ),
    now: at(30, 60_000),
    outcome: 'recovered',
    actions: [`adopt ${ORPHAN.id}`],
  },
  {
    name: 'treats an Active credential of a secret with no AWSCURRENT version and no intent as someone else’s',
    observed: { target, current: undefined, credentials: [ORPHAN] },
    now: at(30, 60_000),
    outcome: 'rotated',
    actions: ['issue', `deactivate ${ORPHAN.id}`],
  },
  {
    // IAM's CreateDate has whole seconds: issued 0.6 s after the intent, dated 0.4 s before it.
    name: 'adopts a credential IAM dates in the same second just before the intent was written',
    observed: withIntent(observe([C, cred(ORPHAN.id, 30)], recordedBy(C), written(0)), {
      writtenAt: at(30, 400),
      endedAt: at(30, 5000),
    }),
    now: at(30, 60_000),
    outcome: 'recovered',
    actions: [`adopt ${ORPHAN.id}`, `deactivate ${C.id}`],
  },
  {
    name: 'never adopts a credential made by hand more than a second before the intent: someone else’s, rule 1',
    observed: withIntent(observe([C, cred('ACCABYHAND0000000001', 30)], recordedBy(C), written(0)), {
      writtenAt: at(30, 1001),
      endedAt: at(30, 5000),
    }),
    now: at(30, 60_000),
    outcome: 'rotated',
    actions: [
      'deactivate ACCABYHAND0000000001',
      'delete ACCABYHAND0000000001',
      'issue',
      `deactivate ${C.id}`,
    ],
  },
  {
    name: 'never adopts a credential made by hand after the issuing invocation ended',
    observed: withIntent(
      observe(
        [C, cred('ACCABYHAND0000000001', 30, 'Active', { createdAt: at(30, 6000) })],
        recordedBy(C),
        written(0),
      ),
      { endedAt: at(30, 5000) },
    ),
    now: at(30, 60_000),
    outcome: 'rotated',
    actions: [
      'deactivate ACCABYHAND0000000001',
      'delete ACCABYHAND0000000001',
      'issue',
      `deactivate ${C.id}`,
    ],
  },
  {
    name: 'never adopts a credential the intent already saw, even one IAM dates within its window',
    observed: withIntent(observe([C, ORPHAN], recordedBy(C), written(0)), {
      known: [C.id, ORPHAN.id],
      endedAt: at(30, 5000),
    }),
    now: at(30, 60_000),
    outcome: 'rotated',
    actions: [`deactivate ${ORPHAN.id}`, `delete ${ORPHAN.id}`, 'issue', `deactivate ${C.id}`],
  },
  {
    // Replaces the old same-second tie rule: a credential rotated within one second of the
    // one before is the previous record's (in its overlap). The intent that issued the
    // current one saw AWSCURRENT at v0; it is v1 now, so that intent is closed.
    name: 'does not adopt anything once AWSCURRENT was written after the intent (it is closed)',
    observed: withIntent(
      observe(
        [cred('ACCAFIRST00000000001', 0), cred('ACCASECOND0000000001', 0)],
        record('ACCASECOND0000000001', 0),
        at(0, 700),
      ),
      { writtenAt: at(0, 100), currentVersionId: 'v0', known: [] },
    ),
    now: at(3),
    policy: { rotateAfterDays: 3, overlapDays: 0.5, gracePeriodDays: 1 },
    outcome: 'rotated',
    actions: ['deactivate ACCAFIRST00000000001', 'delete ACCAFIRST00000000001', 'issue'],
  },
  {
    name: 'adopts the credential an interrupted adoption named, however old, once that invocation ended',
    observed: withIntent(observe([C, cred(ORPHAN.id, 29)], recordedBy(C), written(0)), {
      credentialId: ORPHAN.id,
      known: [C.id, ORPHAN.id],
      endedAt: at(30, 5000),
    }),
    now: at(30, 60_000),
    outcome: 'recovered',
    actions: [`adopt ${ORPHAN.id}`, `deactivate ${C.id}`],
  },
  {
    name: 'adopts an orphan one millisecond before it is due for rotation',
    observed: withIntent(observe([C, ORPHAN], recordedBy(C), written(0)), { endedAt: at(30, 5000) }),
    now: at(60, 999),
    outcome: 'recovered',
    actions: [`adopt ${ORPHAN.id}`, `deactivate ${C.id}`, `delete ${C.id}`],
  },
  {
    // Found by the lifecycle properties: adopting an orphan already due for rotation left the
    // rotation to the run after (I6). It is retired like any other credential instead.
    name: 'does not adopt an orphan exactly at rotation age; rotates and retires it',
    observed: withIntent(observe([C, ORPHAN], recordedBy(C), written(0)), { endedAt: at(30, 5000) }),
    now: at(60, 1000),
    outcome: 'rotated',
    actions: [`deactivate ${ORPHAN.id}`, `delete ${ORPHAN.id}`, 'issue', `deactivate ${C.id}`],
  },
  {
    name: 'adopts the newest of two orphans and retires the other',
    observed: withIntent(
      observe(
        [
          cred('ACCAORPHAN0000000002', 30, 'Active', { createdAt: at(30, 1000) }),
          cred('ACCAORPHAN0000000001', 30, 'Active', { createdAt: at(30, 3000) }),
        ],
        'placeholder',
        at(-1),
      ),
      { endedAt: at(30, 5000) },
    ),
    now: at(31),
    outcome: 'recovered',
    actions: ['adopt ACCAORPHAN0000000001', 'deactivate ACCAORPHAN0000000002'],
  },
  {
    name: 'does not adopt an Inactive unrecorded credential',
    observed: withIntent(observe([C, cred(ORPHAN.id, 30, 'Inactive')], recordedBy(C), written(0)), {
      endedAt: at(30, 5000),
    }),
    now: at(30, 60_000),
    outcome: 'rotated',
    actions: [`delete ${ORPHAN.id}`, 'issue', `deactivate ${C.id}`],
  },
  {
    name: 'treats an unrecorded Active credential as someone else’s when no intent was read',
    observed: observe([C, ORPHAN], recordedBy(C), written(0)),
    now: at(30, 60_000),
    outcome: 'rotated',
    actions: [`deactivate ${ORPHAN.id}`, `delete ${ORPHAN.id}`, 'issue', `deactivate ${C.id}`],
  },
  {
    name: 'ignores an intent version whose value is not an intent',
    observed: {
      ...observe([C, ORPHAN], recordedBy(C), written(0)),
      intent: { versionId: 'i1', createdAt: at(30), value: '{"requestId":1}' },
    },
    now: at(30, 60_000),
    outcome: 'rotated',
    actions: [`deactivate ${ORPHAN.id}`, `delete ${ORPHAN.id}`, 'issue', `deactivate ${C.id}`],
  },
  // --- Known but unusable current credential: rule 1 still dates the others
  {
    // Found by the lifecycle properties: the activate plan left the other's retirement to
    // the next run, which then wrote (I6).
    name: 'switches a hand-deactivated current credential back on and retires the other in the same run',
    observed: observe([cred(C.id, 0, 'Inactive'), O_ACTIVE], recordedBy(C), written(0)),
    now: at(1),
    outcome: 'recovered',
    actions: [`activate ${C.id}`, `deactivate ${O_ACTIVE.id}`],
    nextDueAt: at(7),
  },
  {
    name: 'deletes the other past its grace period, freeing the slot to rotate, when the current one was switched off by hand',
    observed: observe([cred(C.id, 0, 'Inactive'), O_INACTIVE], recordedBy(C), written(0)),
    now: at(8),
    outcome: 'rotated',
    actions: [`delete ${O_INACTIVE.id}`, 'issue'],
  },
  {
    name: 'deletes the predecessor of an expired API key once its grace period is over, freeing the slot to rotate',
    observed: observe(
      [cred(C.id, 0, 'Expired', { expiresAt: at(37) }), O_INACTIVE],
      recordedBy(C),
      written(0),
    ),
    now: at(40),
    outcome: 'rotated',
    actions: [`delete ${O_INACTIVE.id}`, 'issue'],
  },
  {
    name: 'still blocks an expired current credential whose predecessor is within its grace period',
    observed: observe(
      [cred(C.id, 0, 'Expired', { expiresAt: at(5) }), O_INACTIVE],
      recordedBy(C),
      written(0),
    ),
    now: at(6),
    outcome: 'blocked',
    actions: [],
    reason: /both credential slots are taken/,
  },
  {
    // Found by the soak run: the secret rolled back to the record of a switched-off
    // credential; the newer one is past its overlap and grace as dated by the recorded one,
    // so rule 1 retires it and frees the slot (it used to block, needing an operator).
    name: 'applies rule 1 to an Active other dated by a switched-off recorded credential, then rotates',
    observed: observe(
      [cred(C.id, 0, 'Inactive'), cred('ACCANEWER00000000001', 0.5)],
      recordedBy(C),
      written(8),
    ),
    now: at(8),
    outcome: 'rotated',
    actions: ['deactivate ACCANEWER00000000001', 'delete ACCANEWER00000000001', 'issue'],
  },
  // --- Foreign record, and what is not a record
  {
    name: 'refuses to overwrite a record of the same user for another service',
    observed: observe(
      [],
      JSON.stringify({
        ...JSON.parse(record('ACCAFOREIGN000000001', 0)),
        serviceName: 'codecommit.amazonaws.com',
      }),
      written(0),
    ),
    now: at(1),
    outcome: 'failed',
    actions: [],
    reason: /records a credential of alice\/codecommit\.amazonaws\.com/,
  },
  {
    name: 'bootstraps a record with a user name but no password (not a record)',
    observed: observe([C], JSON.stringify({ ...JSON.parse(recordedBy(C)), password: undefined }), written(0)),
    now: at(1),
    outcome: 'rotated',
    actions: ['issue', `deactivate ${C.id}`],
    reason: /secret value is not a credential record/,
  },
  {
    name: 'refuses to overwrite a record of another target',
    observed: observe([], record('ACCAFOREIGN000000001', 0, { userName: 'bob' }), written(0)),
    now: at(1),
    outcome: 'failed',
    actions: [],
    reason:
      /records a credential of bob\/cassandra\.amazonaws\.com, but its tags name alice\/cassandra\.amazonaws\.com/,
  },
];

function describeAction(a: Plan['actions'][number]): string {
  if (a.type === 'issue') return 'issue';
  return `${a.type} ${a.credentialId}${a.type === 'delete' && a.early ? ' (early)' : ''}`;
}

describe('planTarget', () => {
  it.each(cases)('$name', (c) => {
    const plan = planTarget(c.observed, c.policy ?? POLICY, c.now, c.request);
    expect(plan.outcome).toBe(c.outcome);
    expect(plan.actions.map(describeAction)).toEqual(c.actions);
    if (c.nextDueAt) expect(plan.nextDueAt?.toISOString()).toBe(c.nextDueAt.toISOString());
    if (c.reason) expect(plan.reason).toMatch(c.reason);
  });

  it('never plans to deactivate or delete the credential the secret records while it is usable', () => {
    for (const c of cases) {
      const plan = planTarget(c.observed, c.policy ?? POLICY, c.now, c.request);
      const parsed = c.observed.current?.value?.startsWith('{') ? JSON.parse(c.observed.current.value) : {};
      const recorded = c.observed.credentials.find(
        (x) => x.id === parsed.credentialId && x.status === 'Active',
      );
      if (!recorded || plan.actions.some((a) => a.type === 'issue' || a.type === 'adopt')) continue;
      expect(plan.actions.filter((a) => 'credentialId' in a && a.credentialId === recorded.id)).toEqual([]);
    }
  });

  it('reports the issue time of the credential that is current after the plan', () => {
    const plan = planTarget(observe([C], recordedBy(C), written(0)), POLICY, at(30));
    expect(plan.currentIssuedAt?.toISOString()).toBe(at(30).toISOString());
    const quiet = planTarget(observe([C], recordedBy(C), written(0)), POLICY, at(3));
    expect(quiet.currentCredentialId).toBe(C.id);
    expect(quiet.currentIssuedAt?.toISOString()).toBe(C.createdAt.toISOString());
  });
});

describe('mayNeedIntent', () => {
  const withIntentLabel = { ...target, intentVersionId: 'i1' };
  const seen = (credentials: Credential[], current = true): ObservedTarget => ({
    target: withIntentLabel,
    current: current ? { versionId: 'v1', createdAt: written(0), value: recordedBy(C) } : undefined,
    credentials,
  });

  it('reads nothing when the secret has no intent version', () => {
    expect(mayNeedIntent({ ...seen([C, ORPHAN]), target })).toBe(false);
  });

  it('reads nothing for the recorded credential and for others issued before AWSCURRENT was written', () => {
    expect(mayNeedIntent(seen([C, O_ACTIVE]))).toBe(false);
    expect(mayNeedIntent(seen([C, cred(ORPHAN.id, 30, 'Inactive')]))).toBe(false);
  });

  it('reads the intent for an Active unrecorded credential issued after AWSCURRENT was written', () => {
    expect(mayNeedIntent(seen([C, ORPHAN]))).toBe(true);
    // IAM's whole seconds, and a second of clock difference: the same second counts, and the one before.
    expect(mayNeedIntent(seen([C, cred(ORPHAN.id, 0, 'Active', { createdAt: at(0, 59_000) })]))).toBe(true);
    expect(mayNeedIntent(seen([C, cred(ORPHAN.id, 0, 'Active', { createdAt: at(0, 58_999) })]))).toBe(false);
  });

  it('reads the intent for any Active credential when the secret has no AWSCURRENT version', () => {
    expect(mayNeedIntent(seen([O_ACTIVE], false))).toBe(true);
  });
});

describe('planTarget: forced rotate picks the older credential by date, not by id', () => {
  it('deletes the older of two credentials made by hand even when its id sorts last', () => {
    const older = cred('ACCAZZZZ000000000001', 1);
    const newer = cred('ACCAAAAA000000000001', 2);
    const plan = planTarget(observe([newer, older], 'placeholder', at(-1)), POLICY, at(3), FORCED);
    expect(plan.actions.map(describeAction)).toEqual([
      `delete ${older.id} (early)`,
      'issue',
      `deactivate ${newer.id}`,
    ]);
  });

  it('breaks a tie in dates by id', () => {
    const a = cred('ACCAAAAA000000000001', 1);
    const b = cred('ACCABBBB000000000001', 1);
    const plan = planTarget(observe([b, a], 'placeholder', at(-1)), POLICY, at(3), FORCED);
    expect(plan.actions[0]).toEqual({ type: 'delete', credentialId: a.id, early: true });
  });
});

// The exact words a blocked or recovering target reports, and the edges of an intent's
// window: what an operator reads in the report, and what decides whose a credential is.
describe('planTarget: reasons and the intent window', () => {
  /** A Bedrock key recorded by the secret, past its expiry although IAM still lists it Active. */
  const EXPIRED = cred('ACCAEXPIRED000000001', 0, 'Active', { expiresAt: at(20) });
  const OLD = cred('ACCAOLD0000000000001', -10);

  it('says which recorded credential no longer exists', () => {
    const plan = planTarget(observe([], recordedBy(C), written(0)), POLICY, at(3));
    expect(plan.outcome).toBe('rotated');
    expect(plan.reason).toBe(`recorded credential ${C.id} no longer exists`);
  });

  it('says the recorded credential is Expired, even when IAM still lists it Active, and at the very expiry', () => {
    expect(planTarget(observe([EXPIRED], recordedBy(EXPIRED), written(0)), POLICY, at(25)).reason).toBe(
      `recorded credential ${EXPIRED.id} is Expired`,
    );
    expect(planTarget(observe([EXPIRED], recordedBy(EXPIRED), written(0)), POLICY, at(20)).reason).toBe(
      `recorded credential ${EXPIRED.id} is Expired`,
    );
  });

  it('says a recorded credential switched off by hand is Inactive, whatever its expiry', () => {
    const off = cred('ACCAOFF0000000000001', 0, 'Inactive', { expiresAt: at(20) });
    expect(planTarget(observe([off], recordedBy(off), written(0)), POLICY, at(25)).reason).toBe(
      `recorded credential ${off.id} is Inactive`,
    );
  });

  it('blocks with the slots, their states and why the recorded credential cannot be used', () => {
    // Rule 1 deactivates OLD (past the overlap after EXPIRED's issue) but may not delete it yet
    // (a long grace period): the report shows it Inactive.
    const longGrace: Policy = { ...POLICY, gracePeriodDays: 60 };
    const plan = planTarget(observe([EXPIRED, OLD], recordedBy(EXPIRED), written(0)), longGrace, at(25));
    expect(plan.outcome).toBe('blocked');
    expect(plan.actions.map(describeAction)).toEqual([`deactivate ${OLD.id}`]);
    expect(plan.reason).toBe(
      `both credential slots are taken by ${EXPIRED.id} (Active), ${OLD.id} (Inactive); ` +
        `recorded credential ${EXPIRED.id} is Expired: a new credential can be issued once one is deleted ` +
        'after its grace period, or now with a manual rotate and "force": true',
    );
  });

  it('blocks a manual rotate naming the current credential and the other, with nothing more to say', () => {
    const plan = planTarget(observe([C, O_INACTIVE], recordedBy(C), written(0)), POLICY, at(3), MANUAL);
    expect(plan.outcome).toBe('blocked');
    expect(plan.reason).toBe(
      `both credential slots are taken by ${C.id} (current) and ${O_INACTIVE.id} (Inactive): a new credential ` +
        'can be issued once one is deleted after its grace period, or now with a manual rotate and "force": true',
    );
  });

  it('retires the expired recorded credential too once rule 1 has freed the other slot', () => {
    const plan = planTarget(observe([EXPIRED, OLD], recordedBy(EXPIRED), written(0)), POLICY, at(40));
    expect(plan.outcome).toBe('rotated');
    expect(plan.actions.map(describeAction)).toEqual([
      `deactivate ${OLD.id}`,
      `delete ${OLD.id}`,
      'issue',
      `deactivate ${EXPIRED.id}`,
    ]);
  });

  it('says why it switches a hand-deactivated recorded credential back on', () => {
    const off = cred('ACCAOFF0000000000001', 0, 'Inactive');
    const plan = planTarget(
      observe([off, cred('ACCANEW0000000000001', 1)], recordedBy(off), written(0)),
      POLICY,
      at(3),
    );
    expect(plan.outcome).toBe('recovered');
    expect(plan.reason).toBe(
      `recorded credential ${off.id} is Inactive; no free slot to rotate, so it is switched back on`,
    );
  });

  it('says which invocation issued an adopted credential', () => {
    const observed = withIntent(observe([C, ORPHAN], recordedBy(C), written(0)), { endedAt: at(30, 5000) });
    expect(planTarget(observed, POLICY, at(30, 60_000)).reason).toBe(
      `credential ${ORPHAN.id} was issued by invocation req-issuer, which ended before storing it; it is adopted with a new password`,
    );
  });

  it('plans as usual under an open intent that covers no credential', () => {
    // The intent's run may still be going, but nothing it could have issued is listed.
    const observed = withIntent(observe([C], recordedBy(C), written(0)));
    const plan = planTarget(observed, POLICY, at(30, 60_000));
    expect(plan.outcome).toBe('rotated');
    expect(plan.actions.map(describeAction)).toEqual(['issue', `deactivate ${C.id}`]);
  });

  it('reports no current credential while waiting on an interrupted bootstrap', () => {
    const observed = withIntent(observe([ORPHAN], 'placeholder', at(-1)));
    const plan = planTarget(observed, POLICY, at(30, 60_000));
    expect(plan.outcome).toBe('unchanged');
    expect(plan.currentCredentialId).toBeUndefined();
    expect(plan.currentIssuedAt).toBeUndefined();
    expect(plan.nextDueAt?.toISOString()).toBe(at(30, DEADLINE_MS).toISOString());
  });

  describe('the window: from a second before the intent was written to the end of its invocation', () => {
    const ended = at(30, 5000);
    const adopts = (createdAt: Date) => {
      const c = cred('ACCAEDGE000000000001', 30, 'Active', { createdAt });
      const observed = withIntent(observe([C, c], recordedBy(C), written(0)), {
        endedAt: ended,
        known: [C.id],
      });
      return planTarget(observed, POLICY, at(30, 60_000)).actions.some((a) => a.type === 'adopt');
    };

    it('covers a credential dated exactly a second before the intent', () => {
      expect(adopts(at(30, -1000))).toBe(true);
    });
    it('does not cover one dated a millisecond earlier, even if the intent never saw it', () => {
      expect(adopts(at(30, -1001))).toBe(false);
      expect(adopts(at(29))).toBe(false);
    });
    it('covers a credential dated exactly when the invocation ended', () => {
      expect(adopts(ended)).toBe(true);
    });
    it('does not cover one dated after the invocation ended', () => {
      expect(adopts(at(30, 5001))).toBe(false);
    });
  });
});
