// The intent version's label and its parser: what the rotator reads back decides whether an
// unrecorded credential is its own, so a malformed or foreign value must read as "no intent".
import { describe, expect, it } from 'vitest';
import type { Intent } from '../../lambda/rotation/model.ts';
import {
  INTENT_STAGE,
  MAX_INVOCATION_MS,
  parseIntent,
  serializeIntent,
} from '../../lambda/rotation/intent.ts';

const INTENT: Intent = {
  requestId: 'req-1',
  writtenAt: '2026-11-22T03:00:00.000Z',
  deadline: '2026-11-22T03:15:00.000Z',
  currentVersionId: 'v0',
  known: ['ACCA0000000000000001'],
};

describe('intent', () => {
  it('lives under the documented staging label of its own, not one applications or Secrets Manager use', () => {
    // Operators find it by this name (docs/RELIABILITY.md, docs/LOCAL.md): it is part of the contract.
    expect(INTENT_STAGE).toBe('ROTATOR_INTENT');
    expect(['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING']).not.toContain(INTENT_STAGE);
  });

  it('assumes Lambda’s 15-minute maximum for an invocation without a context', () => {
    expect(MAX_INVOCATION_MS).toBe(900_000);
  });

  it('reads back what it writes', () => {
    expect(parseIntent(serializeIntent(INTENT))).toEqual(INTENT);
    const adoption: Intent = {
      ...INTENT,
      credentialId: 'ACCA0000000000000002',
      endedAt: '2026-11-22T03:00:05.000Z',
    };
    expect(parseIntent(serializeIntent(adoption))).toEqual(adoption);
  });

  it('reads ISO 8601 times written with a UTC offset (a value repaired by hand)', () => {
    const offset = {
      ...INTENT,
      writtenAt: '2026-11-22T04:00:00+01:00',
      deadline: '2026-11-22T04:15:00+01:00',
      endedAt: '2026-11-22T04:00:05+01:00',
    };
    expect(parseIntent(JSON.stringify(offset))).toEqual(offset);
  });

  it.each([
    ['no value', undefined],
    ['not JSON', '{"requestId":'],
    ['JSON that is not an intent', '{"username":"app","password":"x"}'],
    ['an empty request id', JSON.stringify({ ...INTENT, requestId: '' })],
    ['a time that is not ISO 8601', JSON.stringify({ ...INTENT, deadline: 'tomorrow' })],
    ['an end time that is not ISO 8601', JSON.stringify({ ...INTENT, endedAt: 'later' })],
  ])('reads %s as no intent', (_, value) => {
    expect(parseIntent(value)).toBeUndefined();
  });
});
