// Secrets Manager's rotation-function protocol for the managed secrets: the same lifecycle as
// the scheduled run, cut into the four steps Secrets Manager invokes one by one with the same
// ClientRequestToken (the id of the version RotateSecret created, which carries AWSPENDING):
//   createSecret  issue a credential (making room by rule 1, never a third slot) and store its
//                 record under AWSPENDING; a repeated step finds it there and does nothing.
//   setSecret     nothing: IAM issued the credential, the service takes it from IAM.
//   testSecret    IAM lists it Active for the right user and service (and the service accepts
//                 it, when verification is on).
//   finishSecret  AWSCURRENT moves to the token's version; rule 1 retires the replaced one.
// Every step may be repeated (Secrets Manager retries the whole rotation after a failure) or
// follow a crash: each starts from what IAM and Secrets Manager hold, like the run does.
import type { RotationState } from '../aws/ports.ts';
import {
  RotationStepRejectedError,
  RotatorError,
  TargetConfigError,
  TargetNotFoundError,
} from '../errors.ts';
import type { Command } from './commands.ts';
import { MAX_INVOCATION_MS } from './intent.ts';
import type {
  ActionTaken,
  CredentialRecord,
  IssuedCredential,
  RunReport,
  Target,
  TargetReport,
} from './model.ts';
import { planIssue, planRetirement } from './phases.ts';
import { parseRecord } from './record.ts';
import type { Invocation, RunDeps } from './deps.ts';
import { ExecutionError, execute, ignoreMissing } from './execute.ts';
import { sameFunction } from './handoff.ts';
import { observe } from './observe.ts';
import { describeError, recordedId } from './report.ts';
import { findTarget } from './discovery.ts';
import { passed } from './verification.ts';

type RotationStepCommand = Extract<Command, { action: 'rotation-step' }>;
type Base = Pick<TargetReport, 'secretId' | 'userName' | 'serviceName'>;
type RotationPorts = RunDeps['secrets'];

const PENDING = 'AWSPENDING';
const CURRENT = 'AWSCURRENT';

/**
 * The request id written into createSecret's intent. Secrets Manager invokes one step at a
 * time and the function runs one invocation at a time (reserved concurrency 1), so when
 * createSecret runs again for a token, the attempt that wrote this intent has ended: the
 * credential it left unstored is adopted at once, not after the intent's deadline.
 */
export function rotationRequestId(token: string): string {
  return `rotation-${token}`;
}

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
    const issued = taken.at(-1);
    const unstored =
      command.step === 'createSecret' && issued && (issued.type === 'create' || issued.type === 'reset')
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
    report = { ...base, outcome: 'failed', actions: taken, reason, via: 'secrets-manager' };
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

/**
 * The secret must be one of this function's targets (declared, when there is a declaration),
 * its rotation must name this function, and the token must be a version of this rotation.
 * Otherwise the step is refused before anything is written.
 */
async function checkManaged(
  command: RotationStepCommand,
  ports: RotationPorts,
  deps: RunDeps,
): Promise<{ target: Target; rotation: RotationState }> {
  const refuse = (why: string, cause?: unknown): never => {
    throw new RotationStepRejectedError(
      `${command.step} for secret ${command.secretId} rejected, nothing written: ${why}`,
      cause === undefined ? undefined : { cause },
    );
  };
  let target: Target | undefined;
  try {
    target = await findTarget(
      { secretId: command.secretId },
      deps.secrets,
      deps.secretNamePrefix,
      deps.declaredTargets,
    );
  } catch (error) {
    if (error instanceof TargetNotFoundError || error instanceof TargetConfigError) {
      refuse(`this function does not manage it (${error.message})`, error);
    }
    throw error;
  }
  const managed = target as Target;
  const rotation = await ports.describeRotation(managed.secretId);
  if (!rotation.functionArn) refuse('its rotation is not configured in Secrets Manager');
  const functionArn = rotation.functionArn as string;
  if (deps.functionArn !== undefined && !sameFunction(functionArn, deps.functionArn)) {
    refuse(`its rotation function is ${functionArn}, not this function (${deps.functionArn})`);
  }
  const stages = rotation.versionStages[command.token];
  if (!stages) refuse(`it has no version ${command.token} (RotateSecret creates the rotation's version)`);
  if (!stages?.includes(PENDING) && !stages?.includes(CURRENT)) {
    refuse(`version ${command.token} is neither AWSPENDING nor AWSCURRENT: it is not this rotation's`);
  }
  return { target: managed, rotation };
}

function invocationOf(token: string, deps: RunDeps): Invocation {
  return {
    requestId: rotationRequestId(token),
    deadline: new Date(deps.now().getTime() + (deps.remainingTimeMs?.() ?? MAX_INVOCATION_MS)),
  };
}

/** The credential record under AWSPENDING for `token`, undefined while the version is empty. */
async function pendingRecord(
  target: Target,
  token: string,
  ports: RotationPorts,
): Promise<CredentialRecord | undefined> {
  const pending = await ports.readVersion(target.secretId, token, PENDING);
  if (pending?.value === undefined) return undefined;
  const parsed = parseRecord(pending.value, target);
  if (parsed.kind !== 'valid') {
    throw new RotatorError(
      `version ${token} holds something other than a credential record of ${target.userName}/${target.serviceName}: not used, not overwritten`,
    );
  }
  return parsed.record;
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
  const issued = taken.findLast((a) => a.type === 'create' || a.type === 'reset');
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
    const issued: IssuedCredential = {
      ...listed,
      serviceUserName: record.username ?? listed.serviceUserName,
      servicePassword: record.password,
      serviceCredentialSecret: record.apiKey,
    };
    const verification = await deps.verifyCredential(target, issued);
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
  const currentVersionId = Object.keys(rotation.versionStages).find((id) =>
    rotation.versionStages[id]?.includes(CURRENT),
  );
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
