// A Create whose HTTP response is lost (the emulator destroys the socket after creating the
// credential): the adapter must not let the SDK retry it (no idempotency token), the run
// fails that target cleanly with the old credential still working, and the next run adopts
// the credential nobody recorded at once (the failed run's intent says it has ended), without
// ever needing a third slot.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunFailedError } from '../../lambda/errors.ts';
import { actions, type LocalAws, outcomes, startLocalAws, targetOf } from './local-aws.ts';

const CREATE = 'CreateServiceSpecificCredential';
const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.scheduler', detail: '{}' };

describe('handler over HTTP: a lost Create response', () => {
  let aws: LocalAws;
  beforeEach(async () => {
    aws = await startLocalAws();
  });
  afterEach(() => aws.close());

  it('fails only that target, locks nobody out, and the next run a minute later recovers within two slots', async () => {
    const boot = await aws.invoke(scheduled);
    expect(boot.error).toBeUndefined();
    const old = targetOf(boot.report, 'app-codecommit').currentCredentialId;
    aws.advanceDays(31);
    aws.emulator.faults.add({
      operation: CREATE,
      kind: 'lose-response',
      match: (params) => params.UserName === 'app-codecommit',
    });
    aws.emulator.clearCalls();
    const slots = () => aws.emulator.iam.credentials({ userName: 'app-codecommit' });

    const lost = await aws.invoke(scheduled);

    expect(lost.error).toBeInstanceOf(RunFailedError);
    expect((lost.error as Error).message).toMatch(/1 target\(s\) failed: .*app-codecommit/);
    expect(outcomes(lost.report)).toEqual({
      'app-keyspaces': 'rotated',
      'app-codecommit': 'failed',
      'app-bedrock': 'rotated',
    });
    const failed = targetOf(lost.report, 'app-codecommit');
    expect(failed.reason).toMatch(/socket hang up|ECONNRESET/);
    // One Create on the wire, its response lost; no retry took the second slot.
    expect(aws.emulator.callsOf(CREATE).filter((c) => c.params.UserName === 'app-codecommit')).toMatchObject([
      { fault: 'lose-response', outcome: 'OK' },
    ]);
    expect(slots()).toHaveLength(2);
    expect(aws.lockoutProblems()).toEqual([]);
    expect(
      targetOf((await aws.invoke({ action: 'status' })).report, 'app-codecommit').currentCredentialId,
    ).toBe(old);
    const orphan = slots().find((c) => c.ServiceSpecificCredentialId !== old)?.ServiceSpecificCredentialId;

    // Lambda's retry of the failed invocation, a minute later: no waiting.
    aws.emulator.clock.advance(60_000);
    const recovered = await aws.invoke(scheduled);

    expect(recovered.error).toBeUndefined();
    expect(targetOf(recovered.report, 'app-codecommit')).toMatchObject({
      outcome: 'recovered',
      currentCredentialId: orphan,
    });
    expect(actions(recovered.report, 'app-codecommit')).toEqual(['reset', 'store', 'deactivate']);
    expect(slots()).toHaveLength(2);
    expect(aws.emulator.iam.credential(String(old))?.Status).toBe('Inactive');
    expect(aws.lockoutProblems()).toEqual([]);
    expect(aws.emulator.callsOf(CREATE).filter((c) => c.outcome !== 'OK')).toEqual([]);

    const since = aws.emulator.calls.length;
    expect((await aws.invoke(scheduled)).error).toBeUndefined();
    expect(aws.writesSince(since)).toEqual([]);
  });
});
