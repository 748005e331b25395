// What every rotation step checks and reads before it acts: that the secret is one of this
// function's targets and the token a version of its rotation (or the step is refused, nothing
// written), the invocation its intent records, and the credential record under AWSPENDING.
import type { RotationState } from '../aws/ports.ts';
import {
  RotationStepRejectedError,
  RotatorError,
  TargetConfigError,
  TargetNotFoundError,
} from '../errors.ts';
import type { Command } from './commands.ts';
import type { Invocation, RunDeps } from './deps.ts';
import { findTarget } from './discovery.ts';
import { sameFunction } from './pending.ts';
import { MAX_INVOCATION_MS } from './intent.ts';
import type { CredentialRecord, Target } from './model.ts';
import { parseRecord } from './record.ts';

export type RotationStepCommand = Extract<Command, { action: 'rotation-step' }>;
export type RotationPorts = RunDeps['secrets'];

export const PENDING = 'AWSPENDING';
export const CURRENT = 'AWSCURRENT';

/**
 * The request id written into createSecret's intent. Secrets Manager invokes one step at a
 * time and the function runs one invocation at a time (reserved concurrency 1), so when
 * createSecret runs again for a token, the attempt that wrote this intent has ended: the
 * credential it left unstored is adopted at once, not after the intent's deadline.
 */
export function rotationRequestId(token: string): string {
  return `rotation-${token}`;
}

/**
 * The secret must be one of this function's targets (declared, when there is a declaration),
 * its rotation must name this function, and the token must be a version of this rotation.
 * Otherwise the step is refused before anything is written.
 */
export async function checkManaged(
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

export function invocationOf(token: string, deps: RunDeps): Invocation {
  return {
    requestId: rotationRequestId(token),
    deadline: new Date(deps.now().getTime() + (deps.remainingTimeMs?.() ?? MAX_INVOCATION_MS)),
  };
}

/** The credential record under AWSPENDING for `token`, undefined while the version is empty. */
export async function pendingRecord(
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
