import { describe, expect, it } from 'vitest';
import type { Credential, ObservedTarget, Policy } from '../../lambda/rotation/model.ts';
import {
  DAY_MS,
  IN_FLIGHT_WINDOW_MS,
  type Plan,
  type RotationRequest,
  planTarget,
  mayNeedPreviousVersion,
} from '../../lambda/rotation/plan.ts';

const T0 = new Date('2026-01-01T00:00:00.000Z').getTime();
const at = (days: number, ms = 0) => new Date(T0 + days * DAY_MS + ms);
const POLICY: Policy = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };
const OVERLAP: Policy = { rotateAfterDays: 30, overlapDays: 2, gracePeriodDays: 7 };
const target = {
  secretId: 'arn:secret',
  secretName: 's',
  userName: 'alice',
  serviceName: 'cassandra.amazonaws.com',
};

function cred(
  id: string,
  createdDay: number,
  status: Credential['status'] = 'Active',
  extra: Partial<Credential> = {},
): Credential {
  return {
    id,
    userName: 'alice',
    serviceName: 'cassandra.amazonaws.com',
    status,
    createdAt: at(createdDay),
    ...extra,
  };
}
function record(id: string, issuedDay: number, user = 'alice') {
  return JSON.stringify({
    credentialId: id,
    userName: user,
    serviceName: 'cassandra.amazonaws.com',
    issuedAt: at(issuedDay).toISOString(),
    username: 'alice-at-1',
    password: 'pw',
  });
}
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

const MANUAL: RotationRequest = { rotate: true, force: false };
const FORCED: RotationRequest = { rotate: true, force: true };

interface Case {
  name: string;
  observed: ObservedTarget;
  now: Date;
  policy?: Policy;
  request?: RotationRequest;
  outcome: Plan['outcome'];
  actions: string[];
  nextDueAt?: Date;
  reason?: RegExp;
}

const C = cred('ACCACURRENT0000000001', 0);
const O_ACTIVE = cred('ACCAOTHER00000000001', -30);
const O_INACTIVE = cred('ACCAOTHER00000000001', -30, 'Inactive');

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
  // --- Rule 4: recover
  {
    name: 'adopts an Active credential issued after the secret was written (interrupted run)',
    observed: observe([C, cred('ACCAORPHAN0000000001', 30)], recordedBy(C), written(0)),
    now: at(31),
    outcome: 'recovered',
    actions: ['adopt ACCAORPHAN0000000001', `deactivate ${C.id}`],
    nextDueAt: at(37),
  },
  {
    name: 'adopts an orphan left by an interrupted bootstrap',
    observed: observe([cred('ACCAORPHAN0000000001', 0)], 'placeholder', at(-1)),
    now: at(1),
    outcome: 'recovered',
    actions: ['adopt ACCAORPHAN0000000001'],
    nextDueAt: at(30),
  },
  {
    // IAM's CreateDate has whole seconds, the secret version's CreatedDate milliseconds: the
    // orphan of a bootstrap run started within a second of the secret's creation looks older.
    name: 'adopts an orphan issued in the same second the placeholder was written (IAM dates are whole seconds)',
    observed: observe([cred('ACCAORPHAN0000000001', 0)], 'placeholder', at(0, 400)),
    now: at(0, IN_FLIGHT_WINDOW_MS + 400),
    outcome: 'recovered',
    actions: ['adopt ACCAORPHAN0000000001'],
    nextDueAt: at(30),
  },
  {
    name: 'does not adopt a credential issued the second before the placeholder was written',
    observed: observe([cred('ACCABEFORE0000000001', 0, 'Active')], 'placeholder', at(0, 1000)),
    now: at(1),
    outcome: 'rotated',
    actions: ['issue', 'deactivate ACCABEFORE0000000001'],
  },
  {
    // Bootstrap then a manual rotate within one second: the first credential's CreateDate is
    // in the second the current record was written, but it is the previous record's (in its
    // overlap), not an orphan: it is retired as usual, never reset.
    name: 'does not adopt the previous credential issued in the same second the current record was written',
    observed: observe(
      [cred('ACCAFIRST00000000001', 0), cred('ACCASECOND0000000001', 0)],
      record('ACCASECOND0000000001', 0),
      at(0, 700),
    ),
    now: at(3),
    policy: { rotateAfterDays: 3, overlapDays: 0.5, gracePeriodDays: 1 },
    outcome: 'rotated',
    actions: ['deactivate ACCAFIRST00000000001', 'delete ACCAFIRST00000000001', 'issue'],
  },
  {
    // Found by the lifecycle properties: adopting an orphan already due for rotation left
    // the rotation to the run after (I6). It is retired like any other credential instead.
    name: 'does not adopt an orphan that is already due for rotation; rotates and retires it',
    observed: observe([C, cred('ACCAORPHAN0000000001', 1)], recordedBy(C), written(0)),
    now: at(40),
    outcome: 'rotated',
    actions: [
      'deactivate ACCAORPHAN0000000001',
      'delete ACCAORPHAN0000000001',
      'issue',
      `deactivate ${C.id}`,
    ],
  },
  {
    name: 'adopts the newest of two orphans and retires the other',
    observed: observe(
      [cred('ACCAORPHAN0000000001', 0), cred('ACCAORPHAN0000000002', 0.001)],
      'placeholder',
      at(-1),
    ),
    now: at(1),
    outcome: 'recovered',
    actions: ['adopt ACCAORPHAN0000000002', 'deactivate ACCAORPHAN0000000001'],
  },
  {
    name: 'leaves an orphan younger than the in-flight window alone',
    observed: observe([C, cred('ACCAORPHAN0000000001', 30)], recordedBy(C), written(0)),
    now: at(30, IN_FLIGHT_WINDOW_MS - 1000),
    outcome: 'unchanged',
    actions: [],
    nextDueAt: at(30, IN_FLIGHT_WINDOW_MS),
    reason: /another run may still be storing it/,
  },
  {
    name: 'adopts the orphan exactly when the in-flight window has passed',
    observed: observe([C, cred('ACCAORPHAN0000000001', 30)], recordedBy(C), written(0)),
    now: at(30, IN_FLIGHT_WINDOW_MS),
    outcome: 'recovered',
    actions: ['adopt ACCAORPHAN0000000001', `deactivate ${C.id}`],
  },
  {
    name: 'blocks a manual rotate while another run may be in flight',
    observed: observe([C, cred('ACCAORPHAN0000000001', 30)], recordedBy(C), written(0)),
    now: at(30, 1000),
    request: MANUAL,
    outcome: 'blocked',
    actions: [],
  },
  {
    name: 'does not adopt an Inactive unrecorded credential',
    observed: observe([C, cred('ACCAORPHAN0000000001', 1, 'Inactive')], recordedBy(C), written(0)),
    now: at(2),
    outcome: 'unchanged',
    actions: [],
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
  // --- Foreign record
  {
    name: 'refuses to overwrite a record of another target',
    observed: observe([], record('ACCAFOREIGN000000001', 0, 'bob'), written(0)),
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

describe('planTarget: overlapping adoptions of one credential', () => {
  const X = cred('ACCAADOPTED000000001', 0);
  const version = (createdAt: Date, versionId: string) => ({ versionId, createdAt, value: recordedBy(X) });
  const raced = (apartMs: number, previousAt = at(1)): ObservedTarget => ({
    target,
    current: version(new Date(previousAt.getTime() + apartMs), 'v2'),
    previous: version(previousAt, 'v1'),
    credentials: [X],
  });

  it('adopts the credential again once both writers have settled', () => {
    const plan = planTarget(raced(40), POLICY, at(1, IN_FLIGHT_WINDOW_MS + 40));
    expect(plan.outcome).toBe('recovered');
    expect(plan.actions.map(describeAction)).toEqual([`adopt ${X.id}`]);
    expect(plan.reason).toMatch(/two runs stored credential ACCAADOPTED000000001 40 ms apart/);
  });

  it('waits while the second writer may still be in flight', () => {
    const plan = planTarget(raced(40), POLICY, at(1, 1000));
    expect(plan.outcome).toBe('unchanged');
    expect(plan.actions).toEqual([]);
    expect(plan.nextDueAt?.toISOString()).toBe(at(1, IN_FLIGHT_WINDOW_MS + 40).toISOString());
  });

  it('does not trigger again after the repair, whose version is written later than the window', () => {
    const plan = planTarget(raced(IN_FLIGHT_WINDOW_MS), POLICY, at(2));
    expect(plan.outcome).toBe('unchanged');
  });

  it('asks for AWSPREVIOUS only for a credential stored long after IAM created it (an adoption)', () => {
    const stored = (ms: number) => ({ versionId: 'v', createdAt: at(0, ms), value: recordedBy(X) });
    expect(mayNeedPreviousVersion(stored(IN_FLIGHT_WINDOW_MS), target)).toBe(true);
    expect(mayNeedPreviousVersion(stored(900), target)).toBe(false);
    expect(mayNeedPreviousVersion({ versionId: 'v', createdAt: at(5), value: 'placeholder' }, target)).toBe(
      false,
    );
  });
});
