// Rule 1 on its own (retirement.ts): the functions the lifecycle (plan.ts) and the operator's
// repairs (operator.ts) share. plan.test.ts checks them inside whole plans; here each one's
// contract is pinned for the inputs its callers may pass.
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../lambda/rotation/model.ts';
import {
  afterActions,
  asIs,
  byCreatedAt,
  isUsable,
  newest,
  nextDue,
  retireActions,
  statusAt,
} from '../../lambda/rotation/retirement.ts';
import { at, cred } from '../support/credentials.ts';

const POLICY: Policy = { rotateAfterDays: 30, overlapDays: 2, gracePeriodDays: 7 };

describe('retireActions', () => {
  const O = cred('O', -10);
  // C issued at day 0: O is switched off from day 2 (overlap) and deleted from day 9 (grace).
  it('switches another credential off once the overlap is over, and not before', () => {
    expect(retireActions(O, 'Active', at(0), POLICY, at(1))).toStrictEqual([]);
    expect(retireActions(O, 'Active', at(0), POLICY, at(2))).toStrictEqual([
      { type: 'deactivate', credentialId: 'O' },
    ]);
  });

  it('deletes it once the grace period after that is over too, in the same run when both are due', () => {
    expect(retireActions(O, 'Active', at(0), POLICY, at(9))).toStrictEqual([
      { type: 'deactivate', credentialId: 'O' },
      { type: 'delete', credentialId: 'O' },
    ]);
    expect(retireActions(O, 'Inactive', at(0), POLICY, at(9))).toStrictEqual([
      { type: 'delete', credentialId: 'O' },
    ]);
    expect(retireActions(O, 'Inactive', at(0), POLICY, at(8))).toStrictEqual([]);
  });

  it('does nothing to a credential the planned actions already delete', () => {
    expect(retireActions(O, 'Deleted', at(0), POLICY, at(30))).toStrictEqual([]);
  });
});

describe('nextDue', () => {
  it('is the rotation date when no other credential is left', () => {
    expect(nextDue(at(0), [], POLICY)).toStrictEqual(at(30));
    expect(nextDue(at(0), [{ credential: cred('O', -10), status: 'Deleted' }], POLICY)).toStrictEqual(at(30));
  });

  it("is an Active other's switch-off, or an Inactive other's deletion, when sooner", () => {
    expect(nextDue(at(0), [asIs(cred('O', -10))], POLICY)).toStrictEqual(at(2));
    expect(nextDue(at(0), [asIs(cred('O', -10, 'Inactive'))], POLICY)).toStrictEqual(at(9));
  });

  it('takes a rotation date given instead of the policy one (a rollback)', () => {
    expect(nextDue(at(0), [], POLICY, at(5))).toStrictEqual(at(5));
  });
});

describe('afterActions', () => {
  const A = cred('A', 0);
  const B = cred('B', 1);

  it('gives each credential the status the actions leave it in', () => {
    expect(
      afterActions(
        [A, B],
        [
          { type: 'deactivate', credentialId: 'A' },
          { type: 'delete', credentialId: 'B' },
        ],
      ),
    ).toStrictEqual([
      { credential: A, status: 'Inactive' },
      { credential: B, status: 'Deleted' },
    ]);
  });

  it('leaves the status of a credential an action resets or issues (same id, same status)', () => {
    expect(afterActions([A], [{ type: 'adopt', credentialId: 'A' }, { type: 'issue' }])).toStrictEqual([
      { credential: A, status: 'Active' },
    ]);
  });

  it('starts from a status already worked out', () => {
    expect(afterActions([{ credential: A, status: 'Inactive' }], [])).toStrictEqual([
      { credential: A, status: 'Inactive' },
    ]);
  });
});

describe('isUsable and statusAt', () => {
  const now = at(10);

  it('an Active credential without an expiry, or expiring later, is usable and Active', () => {
    for (const c of [cred('A', 0), cred('A', 0, 'Active', { expiresAt: at(11) })]) {
      expect(isUsable(c, now)).toBe(true);
      expect(statusAt(c, now)).toBe('Active');
    }
  });

  it('an Active credential expired by now (to the millisecond) is not usable, and Expired', () => {
    for (const expiresAt of [at(10), at(9)]) {
      const c = cred('A', 0, 'Active', { expiresAt });
      expect(isUsable(c, now)).toBe(false);
      expect(statusAt(c, now)).toBe('Expired');
    }
  });

  it('an Inactive credential is not usable, and Inactive even once expired', () => {
    const c = cred('A', 0, 'Inactive', { expiresAt: at(9) });
    expect(isUsable(c, now)).toBe(false);
    expect(statusAt(c, now)).toBe('Inactive');
  });
});

describe('newest and byCreatedAt', () => {
  it('orders by creation, then by id for the same second', () => {
    const cs = [cred('b', 1), cred('c', 0), cred('a', 1)];
    expect(cs.toSorted(byCreatedAt).map((c) => c.id)).toStrictEqual(['c', 'a', 'b']);
    expect(newest(cs).id).toBe('b');
    // newest does not reorder what it is given.
    expect(cs.map((c) => c.id)).toStrictEqual(['b', 'c', 'a']);
  });
});
