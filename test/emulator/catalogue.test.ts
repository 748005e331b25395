// The operation catalogue: what the emulator answers, and what counts as a write, come from
// one table; an operation outside it is refused as each service refuses an unknown one.
import { describe, expect, it } from 'vitest';
import { AwsEmulator, findOperation, isWriteOperation, OPERATIONS } from '../../emulator/index.ts';

describe('the operation catalogue', () => {
  it('names a model method for every operation, once', () => {
    const emu = new AwsEmulator();
    const keys = OPERATIONS.map((op) => `${op.service}.${op.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const op of OPERATIONS) {
      const model =
        op.service === 'iam' ? emu.iam : op.service === 'cloudformation' ? emu.stacks : emu.secrets;
      expect(typeof (model as unknown as Record<string, unknown>)[op.name], op.name).toBe('function');
    }
  });

  it('derives writes and reads from the table', () => {
    expect(isWriteOperation('iam', 'CreateServiceSpecificCredential')).toBe(true);
    expect(isWriteOperation('iam', 'ListServiceSpecificCredentials')).toBe(false);
    expect(isWriteOperation('secretsmanager', 'PutSecretValue')).toBe(true);
    expect(isWriteOperation('secretsmanager', 'GetSecretValue')).toBe(false);
    expect(isWriteOperation('iam', 'PutSecretValue')).toBe(false);
    expect(isWriteOperation('secretsmanager', 'RotateSecret')).toBe(true);
    expect(findOperation('secretsmanager', 'GetResourcePolicy')).toBeUndefined();
  });

  it.each([
    [
      'iam',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'Action=AttachUserPolicy',
      'InvalidAction',
    ],
    [
      'secretsmanager',
      { 'x-amz-target': 'secretsmanager.GetResourcePolicy' },
      '{"SecretId":"x"}',
      'UnknownOperationException',
    ],
  ])('%s refuses an operation outside the catalogue, changing nothing', async (_, headers, body, code) => {
    const emu = new AwsEmulator();
    const response = await emu.handle({ method: 'POST', path: '/', headers, body });
    expect(response.status).toBe(400);
    expect(response.body).toContain(code);
    expect(emu.calls.map((c) => c.outcome)).toEqual([code]);
  });
});
