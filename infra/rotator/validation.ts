// Validation of the props: each bad value fails synth with its name, the value and the
// expected form, before any resource exists. The rules of a target's names mirror what
// IAM, Secrets Manager and the tags accept.
import { type Duration, Token } from 'aws-cdk-lib';
import {
  DEFAULT_POLICY,
  defaultSecretName,
  VERIFICATION_MODES,
  type VerificationMode,
  validatePolicy,
} from '../../lambda/contract.ts';
import type {
  ManagedTarget,
  RotationTarget,
  ServiceCredentialRotatorProps,
  TargetVerificationProps,
} from './props.ts';
import { validateServiceName } from '../../lambda/contract.ts';
import {
  nameProblem,
  SECRET_NAME,
  SECRET_NAME_PREFIX,
  SERVICE_NAME,
  USER_NAME,
} from '../../lambda/naming.ts';

// IAM's user-name pattern, minus the comma: the name is also a tag value, and tag values
// accept letters, digits, spaces and `_.:/=+-@` only.
const READER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\x21-\x7e]{1,512}$/;
const USER_PATH = /^(\/|\/[\x21-\x7e]{1,510}\/)$/;
// Secrets Manager appends `-` + 6 characters to build the ARN; a name that already ends
// like that makes partial ARNs ambiguous, and AWS advises against it.
const ARN_SUFFIX_LIKE = /-[A-Za-z0-9]{6}$/;

export function checkedPrefix(prefix: string): string {
  const problem = nameProblem(SECRET_NAME_PREFIX, prefix);
  if (problem) throw new Error(`secretNamePrefix ${problem}`);
  return prefix;
}

export function checkedEmail(email: string | undefined): string | undefined {
  if (email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    throw new Error(`alarmEmail must be an e-mail address, got ${JSON.stringify(email)}`);
  }
  return email;
}

export function checkedPolicy(props: ServiceCredentialRotatorProps) {
  const policy = {
    rotateAfterDays: props.rotateAfterDays ?? DEFAULT_POLICY.rotateAfterDays,
    overlapDays: props.overlapDays ?? DEFAULT_POLICY.overlapDays,
    gracePeriodDays: props.gracePeriodDays ?? DEFAULT_POLICY.gracePeriodDays,
    ...(props.maxCredentialAgeDays !== undefined ? { maxCredentialAgeDays: props.maxCredentialAgeDays } : {}),
  };
  try {
    return validatePolicy(policy);
  } catch (error) {
    // No `cause`: the message already carries it, and a chained cause is printed again.
    const max =
      policy.maxCredentialAgeDays !== undefined
        ? `, maxCredentialAgeDays=${policy.maxCredentialAgeDays}`
        : '';
    throw new Error(
      `invalid rotation policy (rotateAfterDays=${policy.rotateAfterDays}, overlapDays=${policy.overlapDays}, ` +
        `gracePeriodDays=${policy.gracePeriodDays}${max}): ${(error as Error).message}`,
    );
  }
}

/**
 * One target checked against the rules and against the targets before it, with its
 * defaults applied. `index` names it in messages as the props do: targets[index].
 */
export function checkedTarget(
  t: RotationTarget,
  index: number,
  prefix: string,
  earlier: readonly ManagedTarget[],
): Omit<ManagedTarget, 'secret'> {
  const where = `targets[${index}]`;
  if (Token.isUnresolved(t.userName) || Token.isUnresolved(t.serviceName)) {
    throw new Error(`${where}: userName and serviceName must be plain strings, not tokens`);
  }
  for (const [field, rule] of [
    ['userName', USER_NAME],
    ['serviceName', SERVICE_NAME],
  ] as const) {
    const problem = nameProblem(rule, t[field]);
    if (problem) throw new Error(`${where}.${field} ${problem}`);
  }
  validateServiceName(t.serviceName, { allowUnknownService: t.allowUnknownService, where });
  for (const [i, reader] of (t.readers ?? []).entries()) {
    if (!Token.isUnresolved(reader) && !READER_ARN.test(reader)) {
      throw new Error(
        `${where}.readers[${i}] must be an IAM role or user ARN like arn:aws:iam::123456789012:role/app, got ${JSON.stringify(reader)}`,
      );
    }
  }
  const userPath = t.userPath ?? '/';
  if (!USER_PATH.test(userPath)) {
    throw new Error(`${where}.userPath must be "/" or "/<path>/", got ${JSON.stringify(userPath)}`);
  }
  const secretName = t.secretName ?? defaultSecretName(t.userName, t.serviceName, prefix);
  const secretProblem = nameProblem(SECRET_NAME, secretName);
  if (secretProblem) throw new Error(`${where}.secretName ${secretProblem}`);
  if (ARN_SUFFIX_LIKE.test(secretName)) {
    throw new Error(
      `${where}.secretName must not end in "-" plus 6 characters (it makes partial ARNs ambiguous), got ${JSON.stringify(secretName)}`,
    );
  }
  if (!secretName.startsWith(prefix)) {
    throw new Error(
      `${where}.secretName must start with secretNamePrefix ${JSON.stringify(prefix)} (the function only discovers secrets under it), got ${JSON.stringify(secretName)}`,
    );
  }
  // IAM user names are unique case-insensitively: "Bob" and "bob" are one user.
  const first = earlier.findIndex(
    (e) => e.userName.toLowerCase() === t.userName.toLowerCase() && e.serviceName === t.serviceName,
  );
  if (first !== -1) {
    throw new Error(
      `${where} duplicates targets[${first}]: user ${JSON.stringify(t.userName)} and service ${JSON.stringify(t.serviceName)} appear twice`,
    );
  }
  const firstSecret = earlier.findIndex((e) => e.secretName === secretName);
  if (firstSecret !== -1) {
    throw new Error(
      `${where}.secretName ${JSON.stringify(secretName)} is already used by targets[${firstSecret}]`,
    );
  }
  return {
    userName: t.userName,
    serviceName: t.serviceName,
    userPath,
    secretName,
    ...checkedVerification(t, where),
  };
}

export function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

export function checkedRunInterval(interval: Duration): Duration {
  const seconds = interval.toSeconds();
  if (seconds < 3600 || seconds > 302_400 || seconds % 60 !== 0) {
    throw new Error(
      `expectedRunInterval must be whole minutes between 1 hour and 3.5 days, got ${interval.toHumanString()}`,
    );
  }
  return interval;
}

export function checkedConcurrency(value: number | false | undefined): number | undefined {
  if (value === false) return undefined;
  const n = value ?? 1;
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`reservedConcurrency must be an integer >= 1 or false, got ${String(value)}`);
  }
  return n;
}

/** A target's verification settings, each a plain string a secret tag can hold. */
function checkedVerification(t: RotationTarget, where: string): TargetVerificationProps {
  const mode =
    t.verification === undefined
      ? undefined
      : checkedVerificationMode(t.verification, `${where}.verification`);
  for (const key of ['codeCommitRepository', 'canaryLogGroup', 'canaryLogStream'] as const) {
    const value = t[key];
    if (value !== undefined && (Token.isUnresolved(value) || !TAG_VALUE.test(value))) {
      throw new Error(
        `${where}.${key} must be 1-256 letters, digits, spaces or _.:/=+@- (a secret tag value), got ${JSON.stringify(value)}`,
      );
    }
  }
  return {
    ...(mode ? { verification: mode } : {}),
    ...(t.codeCommitRepository ? { codeCommitRepository: t.codeCommitRepository } : {}),
    ...(t.canaryLogGroup ? { canaryLogGroup: t.canaryLogGroup } : {}),
    ...(t.canaryLogStream ? { canaryLogStream: t.canaryLogStream } : {}),
  };
}

/** Secrets Manager's tag value alphabet. */
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+@-]{1,256}$/u;

export function checkedVerificationMode(mode: string, name: string): VerificationMode {
  const found = VERIFICATION_MODES.find((m) => m === mode);
  if (!found) {
    throw new Error(`${name} must be one of ${VERIFICATION_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  return found;
}
