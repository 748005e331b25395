// Secrets Manager's rotation-function protocol for the managed secrets: the same lifecycle as
// the scheduled run, cut into the four steps Secrets Manager invokes one by one with the same
// ClientRequestToken (the id of the version RotateSecret created, which carries AWSPENDING):
//   createSecret  issue a credential (making room by rule 1, never a third slot) and store its
//                 record under AWSPENDING; a repeated step finds it there and does nothing.
//   setSecret     nothing: IAM issued the credential, the service takes it from IAM.
//   testSecret    IAM lists it Active for the right user and service (and the service accepts
//                 it, when verification is on; a check the deadline cut short fails the step
//                 and leaves everything for the retry or the run's take-back).
//   finishSecret  AWSCURRENT moves to the token's version; rule 1 retires the replaced one.
// Every step may be repeated (Secrets Manager retries the whole rotation after a failure) or
// follow a crash: each starts from what IAM and Secrets Manager hold, like the run does.
import type { RotationState } from '../aws/ports.ts';
import { RotatorError, VerificationDeferredError } from '../errors.ts';
import type { ActionTaken, IssuedCredential, RunReport, Target, TargetReport } from './model.ts';
import { planIssue, planRetirement } from './phases.ts';
import { issuedFromRecord, parseRecord } from './record.ts';
import { type RunDeps, verifiesTarget } from './deps.ts';
import { ExecutionError, execute, ignoreMissing, verifyOptions } from './execute.ts';
import { observe } from './observe.ts';
import { TAKE_BACK_WINDOW_MS } from './pending.ts';
import { describeError, recordedId } from './report.ts';
import {
  CURRENT,
  checkManaged,
  invocationOf,
  pendingRecord,
  type RotationPorts,
  type RotationStepCommand,
  rotationRequestId,
} from './step-checks.ts';
import { passed } from './verification.ts';

type Base = Pick<TargetReport, 'secretId' | 'userName' | 'serviceName'>;

export async function runRotationStep(command: RotationStepCommand, deps: RunDeps): Promise<RunReport> {
  const startedAt = deps.now();
  const ports = deps.secrets;
  const { target, rotation } = await checkManaged(command, ports, deps);
  const base: Base = {
    secretId: target.secretId,
    userName: target.userName,
    serviceName: target.serviceName,
  };
  const stages = rotation.versionStages[command.token] ?? [];
  let report: TargetReport;
  try {
    if (stages.includes(CURRENT) && command.step !== 'finishSecret') {
      // The rotation finished already (a late retry): nothing left for this step.
      report = {
        ...base,
        outcome: 'unchanged',
        actions: [],
        reason: `version ${command.token} is already AWSCURRENT`,
      };
    } else {
      switch (command.step) {
        case 'createSecret':
          report = await createSecret(base, target, command.token, ports, deps);
          break;
        case 'setSecret':
          report = {
            ...base,
            outcome: 'unchanged',
            actions: [],
            reason:
              'nothing to set: IAM issued the credential in createSecret and the service takes it from IAM',
          };
          break;
        case 'testSecret':
          report = await testSecret(base, target, command.token, ports, deps);
          break;
        case 'finishSecret':
          report = await finishSecret(base, target, command.token, rotation, ports, deps);
          break;
      }
    }
  } catch (error) {
    const taken = error instanceof ExecutionError ? error.taken : [];
    const cause = error instanceof ExecutionError ? error.cause : error;
    // Only createSecret issues (create, or reset to adopt); its last action is the issue exactly
    // when the AWSPENDING write after it failed.
    const issued = taken.at(-1);
    const unstored =
      issued && (issued.type === 'create' || issued.type === 'reset')
        ? `; credential ${issued.credentialId} was issued but not stored: the retry of createSecret adopts it`
        : '';
    const reason = `${command.step} failed: ${describeError(cause)}${unstored}`;
    deps.log.error('rotation step failed', {
      ...base,
      step: command.step,
      token: command.token,
      reason,
      actions: taken,
    });
    report = { ...base, outcome: 'failed', actions: taken, reason };
  }
  if (report.outcome !== 'failed') {
    deps.log.info('rotation step done', {
      ...base,
      step: command.step,
      token: command.token,
      reason: report.reason,
    });
  }
  return {
    action: 'rotation-step',
    dryRun: false,
    startedAt: startedAt.toISOString(),
    finishedAt: deps.now().toISOString(),
    targets: [{ ...report, via: 'secrets-manager' }],
  };
}

async function createSecret(
  base: Base,
  target: Target,
  token: string,
  ports: RotationPorts,
  deps: RunDeps,
): Promise<TargetReport> {
  const existing = await pendingRecord(target, token, ports);
  if (existing) {
    return {
      ...base,
      outcome: 'unchanged',
      actions: [],
      reason: `credential ${existing.credentialId} is already in AWSPENDING (version ${token}): nothing to do`,
    };
  }
  const observed = await observe(target, deps);
  const plan = planIssue(observed, deps.policy, deps.now(), rotationRequestId(token));
  if (plan.outcome === 'failed') throw new RotatorError(plan.reason ?? 'no credential can be issued');
  const { taken } = await execute(observed, plan.actions, invocationOf(token, deps), deps, {
    recordTo: { stage: 'pending', write: (value) => ports.storePending(target.secretId, token, value) },
    // testSecret verifies, once the record is under AWSPENDING.
    verify: false,
  });
  // The plan ends with its issue (planIssue): the last action taken is the create or the reset.
  const issued = taken.at(-1);
  return {
    ...base,
    outcome: taken.some((a) => a.type === 'deactivate' || a.type === 'delete') ? 'retired' : 'unchanged',
    actions: taken,
    currentCredentialId: recordedId(observed),
    reason: `credential ${issued?.credentialId} ${issued?.type === 'reset' ? 'adopted' : 'issued'} into AWSPENDING (version ${token})`,
  };
}

async function testSecret(
  base: Base,
  target: Target,
  token: string,
  ports: RotationPorts,
  deps: RunDeps,
): Promise<TargetReport> {
  const record = await pendingRecord(target, token, ports);
  if (!record) {
    // RotateSecret with RotateImmediately false (CloudFormation's default when a rotation
    // schedule is added) runs testSecret alone on an empty version: the configuration works.
    return {
      ...base,
      outcome: 'unchanged',
      actions: [],
      reason: `version ${token} holds no credential: a test of the rotation configuration, which passes`,
    };
  }
  const credentials = await deps.credentials.listCredentials(target.userName, target.serviceName);
  const listed = credentials.find((c) => c.id === record.credentialId);
  if (
    listed?.status !== 'Active' ||
    listed.userName !== target.userName ||
    listed.serviceName !== target.serviceName
  ) {
    throw new RotatorError(
      `IAM does not list credential ${record.credentialId} Active for ${target.userName}/${target.serviceName} ` +
        `(${listed ? `it is ${listed.status}` : 'it is not listed'})`,
    );
  }
  let verified = '';
  if (deps.verifyCredential) {
    const issued: IssuedCredential = issuedFromRecord(listed, record);
    const verification = await deps.verifyCredential(
      target,
      issued,
      verifiesTarget(target, deps) ? verifyOptions(deps) : {},
    );
    if (verification.budgetCut && verification.mode === 'enforce') {
      // No verdict: the invocation's deadline ended the retries while IAM may still be
      // propagating, so the credential is neither refused (deleted) nor passed. The step fails
      // with everything left as it is: Secrets Manager's retry of the rotation tests it again,
      // or a scheduled run takes the rotation back after the window (pending.ts).
      throw new VerificationDeferredError(
        `verification of pending credential ${record.credentialId} was cut short by the invocation's deadline ` +
          `(${verification.reason}): no verdict, so it is kept and AWSPENDING stays on version ${token}; ` +
          `Secrets Manager's retry of the rotation tests it again, or a scheduled run takes the rotation back ` +
          `after ${TAKE_BACK_WINDOW_MS / 60_000} minutes; the current credential stays`,
      );
    }
    const works = passed(verification.outcome);
    if (!works && verification.mode === 'enforce') {
      await abandon(target, token, record.credentialId, ports, deps, verification.reason);
    }
    if (!works && verification.mode === 'warn') {
      deps.log.warn('credential not verified', {
        ...base,
        credentialId: record.credentialId,
        outcome: verification.outcome,
        reason: verification.reason,
      });
    }
    verified = verification.mode === 'off' ? '' : `; the service check: ${verification.outcome}`;
  }
  return {
    ...base,
    outcome: 'unchanged',
    actions: [],
    reason: `credential ${record.credentialId} is Active in IAM${verified}`,
  };
}

/**
 * testSecret's failure under `enforce`: the new credential holds the second slot and nobody
 * uses it yet, so it is deleted, and AWSPENDING is removed so the next rotation starts clean.
 * The current credential stays current. Throws the step's failure.
 */
async function abandon(
  target: Target,
  token: string,
  credentialId: string,
  ports: RotationPorts,
  deps: RunDeps,
  why: string,
): Promise<never> {
  const current = await deps.secrets.readCurrent(target.secretId);
  const currentRecord = parseRecord(current?.value, target);
  const taken: ActionTaken[] = [];
  if (currentRecord.kind === 'valid' && currentRecord.record.credentialId === credentialId) {
    throw new RotatorError(
      `credential ${credentialId} failed the service check but is already current: kept`,
    );
  }
  try {
    await ignoreMissing(deps.credentials.deleteCredential(target.userName, credentialId));
    taken.push({ type: 'delete', credentialId, at: deps.now().toISOString() });
    await ports.removePending(target.secretId, token);
  } catch (error) {
    throw new ExecutionError(taken, error);
  }
  throw new ExecutionError(
    taken,
    new RotatorError(
      `the service did not accept credential ${credentialId} (${why}); it was deleted and AWSPENDING removed, the current credential stays`,
    ),
  );
}

async function finishSecret(
  base: Base,
  target: Target,
  token: string,
  rotation: RotationState,
  ports: RotationPorts,
  deps: RunDeps,
): Promise<TargetReport> {
  const [currentVersionId] =
    Object.entries(rotation.versionStages).find(([, stages]) => stages.includes(CURRENT)) ?? [];
  const taken: ActionTaken[] = [];
  if (currentVersionId !== token) {
    const record = await pendingRecord(target, token, ports);
    if (!record)
      throw new RotatorError(`version ${token} holds no credential: createSecret has not stored one`);
    // I1: AWSCURRENT only ever moves to a credential IAM lists Active.
    const credentials = await deps.credentials.listCredentials(target.userName, target.serviceName);
    const listed = credentials.find((c) => c.id === record.credentialId);
    if (listed?.status !== 'Active') {
      throw new RotatorError(
        `credential ${record.credentialId} is ${listed ? listed.status : 'gone'} in IAM: AWSCURRENT not moved`,
      );
    }
    await ports.moveCurrent(target.secretId, token, currentVersionId);
    taken.push({ type: 'store', credentialId: record.credentialId, at: deps.now().toISOString() });
  }
  // Rule 1 on the replaced credential, now that the new one is current (also on a repeated
  // finishSecret, so a crash right after the move is completed here).
  const observed = await observe(target, deps);
  const plan = planRetirement(observed, deps.policy, deps.now());
  try {
    const result = await execute(observed, plan.actions, invocationOf(token, deps), deps);
    taken.push(...result.taken);
  } catch (error) {
    throw new ExecutionError(
      [...taken, ...(error instanceof ExecutionError ? error.taken : [])],
      error instanceof ExecutionError ? error.cause : error,
    );
  }
  const currentId = recordedId(observed);
  return {
    ...base,
    outcome: taken.some((a) => a.type === 'store') ? 'rotated' : taken.length > 0 ? 'retired' : 'unchanged',
    actions: taken,
    currentCredentialId: currentId,
    currentIssuedAt: observed.credentials.find((c) => c.id === currentId)?.createdAt.toISOString(),
    nextDueAt: plan.nextDueAt?.toISOString(),
  };
}
