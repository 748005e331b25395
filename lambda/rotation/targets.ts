// Discovery: which secrets are targets. A target is a secret tagged with both the user-name
// and the service-name tag; the tags, not the name, are the contract.
import type { SecretsPort, SecretSummary } from '../aws/ports.ts';
import { TargetConfigError, TargetNotFoundError } from '../errors.ts';
import type { TargetRef } from './commands.ts';
import type { Target } from './model.ts';
import { DEFAULT_SECRET_NAME_PREFIX, SERVICE_NAME_TAG, USER_NAME_TAG } from './services.ts';

/** A secret that carries the tags but cannot be processed; reported as a failed target. */
export interface Misconfigured {
  readonly secretId: string;
  readonly userName: string;
  readonly serviceName: string;
  readonly reason: string;
}

export interface Discovery {
  readonly targets: Target[];
  readonly misconfigured: Misconfigured[];
}

export function targetFromSecret(secret: SecretSummary): Target | Misconfigured {
  const userName = secret.tags[USER_NAME_TAG]?.trim() ?? '';
  const serviceName = secret.tags[SERVICE_NAME_TAG]?.trim() ?? '';
  const missing = [!userName && USER_NAME_TAG, !serviceName && SERVICE_NAME_TAG].filter(Boolean);
  if (missing.length > 0) {
    return {
      secretId: secret.arn,
      userName,
      serviceName,
      reason: `secret ${secret.name} lacks a value for tag ${missing.join(' and ')}; a target needs both ${USER_NAME_TAG} and ${SERVICE_NAME_TAG}`,
    };
  }
  return {
    secretId: secret.arn,
    secretName: secret.name,
    userName,
    serviceName,
    ...(secret.intentVersionId ? { intentVersionId: secret.intentVersionId } : {}),
  };
}

/**
 * Every target, with the secrets that cannot be one. Two secrets naming the same user and
 * service would fight over the same two IAM slots, so both are refused until one is untagged.
 */
export function discover(secrets: readonly SecretSummary[]): Discovery {
  const targets: Target[] = [];
  const misconfigured: Misconfigured[] = [];
  const byKey = new Map<string, Target[]>();
  for (const secret of secrets) {
    if (secret.deletedAt) continue;
    const t = targetFromSecret(secret);
    if ('reason' in t) {
      misconfigured.push(t);
      continue;
    }
    const key = `${t.userName}\u0000${t.serviceName}`;
    byKey.set(key, [...(byKey.get(key) ?? []), t]);
  }
  for (const group of byKey.values()) {
    if (group.length === 1) {
      targets.push(group[0] as Target);
      continue;
    }
    const names = group.map((t) => t.secretName).join(', ');
    for (const t of group) {
      misconfigured.push({
        secretId: t.secretId,
        userName: t.userName,
        serviceName: t.serviceName,
        reason: `secrets ${names} all name ${t.userName}/${t.serviceName}; exactly one secret may manage a user's credentials for a service: remove the tags from the others`,
      });
    }
  }
  return { targets, misconfigured };
}

/** The one target a `rotate` or `status` command names. Throws when there is none. */
export async function findTarget(ref: TargetRef, secrets: SecretsPort, namePrefix?: string): Promise<Target> {
  if ('secretId' in ref) {
    const secret = await secrets.describeSecret(ref.secretId);
    const t = targetFromSecret(secret);
    if ('reason' in t) throw new TargetNotFoundError(`${ref.secretId} is not a rotation target: ${t.reason}`);
    return t;
  }
  const { targets, misconfigured } = discover(await secrets.listTargetSecrets(namePrefix));
  const found = targets.find((t) => t.userName === ref.userName && t.serviceName === ref.serviceName);
  if (found) return found;
  const conflict = misconfigured.find(
    (m) => m.userName === ref.userName && m.serviceName === ref.serviceName,
  );
  if (conflict) throw new TargetConfigError(conflict.reason);
  throw new TargetNotFoundError(
    `no secret is tagged ${USER_NAME_TAG}=${ref.userName} and ${SERVICE_NAME_TAG}=${ref.serviceName}` +
      `${namePrefix ? ` under the name prefix ${namePrefix}` : ''}; expected a secret created by the stack for this target`,
  );
}

/**
 * What a reference most likely names, by the stack's naming convention
 * (`<prefix><user-name>/<service-name>`). Only a guess: callers check it against the tags.
 */
export function guessTarget(
  ref: TargetRef,
  namePrefix?: string,
): { secretId?: string; userName?: string; serviceName?: string } {
  if (!('secretId' in ref)) {
    const prefix = namePrefix ?? DEFAULT_SECRET_NAME_PREFIX;
    return { ...ref, secretId: `${prefix}${ref.userName}/${ref.serviceName}` };
  }
  // An ARN ends in `:secret:<name>-<6 random characters>`.
  const arn = /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(ref.secretId);
  const parts = (arn?.[1] ?? ref.secretId).split('/');
  const userName = parts.at(-2);
  const serviceName = parts.at(-1);
  return serviceName?.endsWith('.amazonaws.com') && userName
    ? { secretId: ref.secretId, userName, serviceName }
    : { secretId: ref.secretId };
}
