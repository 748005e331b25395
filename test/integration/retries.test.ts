// The SDK's retries as they happen on the wire: throttling is retried (Create included) and
// the run completes; LimitExceeded is retried by a raw client (the SDK counts it as
// throttling) but not by our IAM adapter, and the handler reports the target cleanly.
import { CreateServiceSpecificCredentialCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClients } from '../../lambda/aws/clients.ts';
import { IamCredentials } from '../../lambda/aws/iam.ts';
import { CredentialQuotaError, RunFailedError } from '../../lambda/errors.ts';
import { actions, type LocalAws, outcomes, startLocalAws, targetOf } from './local-aws.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const CREATE = 'CreateServiceSpecificCredential';
const rotateKeyspaces = { action: 'rotate', userName: 'app-keyspaces', serviceName: KEYSPACES };

describe('handler over HTTP: SDK retries', () => {
  let aws: LocalAws;
  beforeEach(async () => {
    aws = await startLocalAws();
  });
  afterEach(() => aws.close());

  const answers = (operation: string) => aws.emulator.callsOf(operation).map((c) => c.outcome);

  it('completes a rotation through throttling: the SDK retries Create and PutSecretValue', async () => {
    aws.emulator.faults.add({ operation: CREATE, kind: 'throttle' });
    // The store of the record (the intent write before Create names its own staging label).
    aws.emulator.faults.add({
      operation: 'PutSecretValue',
      kind: 'throttle',
      match: (params) => params.VersionStages === undefined,
    });

    const { report, error } = await aws.invoke(rotateKeyspaces);

    expect(error).toBeUndefined();
    expect(outcomes(report)).toEqual({ 'app-keyspaces': 'rotated' });
    // The extra attempts are on the wire, not in the report.
    expect(answers(CREATE)).toEqual(['Throttling', 'OK']);
    expect(answers('PutSecretValue')).toEqual(['OK', 'ThrottlingException', 'OK']); // intent, then the store twice
    expect(actions(report, 'app-keyspaces')).toEqual(['create', 'store']);
    expect(aws.emulator.iam.credentials({ userName: 'app-keyspaces' })).toHaveLength(1);
    expect(aws.lockoutProblems(['app-keyspaces'])).toEqual([]);
  });

  describe('LimitExceeded (both slots taken)', () => {
    beforeEach(() => {
      aws.emulator.iam.issueCredential('app-keyspaces', KEYSPACES);
      aws.emulator.iam.issueCredential('app-keyspaces', KEYSPACES);
      aws.emulator.clearCalls();
    });

    it('is retried by a raw SDK client with default settings: 3 calls on the wire', async () => {
      const iam = new IAMClient({}); // region, endpoint and credentials from the environment
      try {
        const error = await iam
          .send(
            new CreateServiceSpecificCredentialCommand({ UserName: 'app-keyspaces', ServiceName: KEYSPACES }),
          )
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ name: 'LimitExceededException', $metadata: { httpStatusCode: 409 } });
        expect(answers(CREATE)).toEqual(['LimitExceeded', 'LimitExceeded', 'LimitExceeded']);
      } finally {
        iam.destroy();
      }
    });

    it('is not retried by the IAM adapter over the production clients: 1 call', async () => {
      const { iam, secrets } = createClients();
      try {
        const error = await new IamCredentials(iam)
          .createCredential('app-keyspaces', KEYSPACES)
          .catch((e) => e);
        expect(error).toBeInstanceOf(CredentialQuotaError);
        expect(answers(CREATE)).toEqual(['LimitExceeded']);
      } finally {
        iam.destroy();
        secrets.destroy();
      }
    });
  });

  it('reports a target failed, with one Create and no lockout, when a slot is taken between its List and its Create', async () => {
    await aws.invoke({ action: 'reconcile' });
    const current = targetOf(
      (await aws.invoke({ action: 'status' })).report,
      'app-keyspaces',
    ).currentCredentialId;
    // Someone issues a credential by hand (console, CLI) while the run is between its
    // ListServiceSpecificCredentials and its Create: the quota is full when Create arrives.
    let raced = false;
    aws.emulator.faults.add({
      operation: CREATE,
      kind: 'fail',
      match: (params) => {
        if (!raced) {
          raced = true;
          aws.emulator.iam.issueCredential(String(params.UserName), String(params.ServiceName));
        }
        return false; // no fault: the real quota answers
      },
    });
    aws.emulator.clearCalls();

    const { report, error } = await aws.invoke(rotateKeyspaces);

    expect(raced).toBe(true);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).failedTargets).toEqual([targetOf(report, 'app-keyspaces').secretId]);
    const target = targetOf(report, 'app-keyspaces');
    expect(target.outcome).toBe('failed');
    expect(target.actions).toEqual([]);
    expect(target.reason).toMatch(/CreateServiceSpecificCredential failed: .*LimitExceeded/);
    expect(answers(CREATE)).toEqual(['LimitExceeded']);
    // The intent before Create, and on the way out the same intent marked ended: no credential.
    expect(aws.writesSince(0)).toEqual([
      expect.stringMatching(/^PutSecretValue .* -> OK$/),
      expect.stringMatching(new RegExp(`^${CREATE} .* -> LimitExceeded$`)),
      expect.stringMatching(/^PutSecretValue .* -> OK$/),
    ]);
    // The recorded credential still works.
    expect(aws.lockoutProblems()).toEqual([]);
    expect(aws.emulator.iam.credential(String(current))?.Status).toBe('Active');
  });
});
