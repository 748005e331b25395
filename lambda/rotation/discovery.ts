// Discovery: which secrets are targets. Without a declaration, a target is a secret tagged
// with both the user-name and the service-name tag; the tags, not the name, are the contract.
// With one (declaration.ts), a target is a declared secret whose tags agree with its
// declaration: the tags only confirm, so retagging a secret cannot point it at another user.
import type { SecretsPort, SecretSummary } from '../aws/ports.ts';
import { type DeclaredTarget, type DeclaredTargets, pairKey } from '../declared-targets.ts';
import { TargetConfigError, TargetNotFoundError } from '../errors.ts';
import type { TargetRef } from './commands.ts';
import {
  CANARY_LOG_GROUP_TAG,
  CANARY_LOG_STREAM_TAG,
  CODECOMMIT_REPOSITORY_TAG,
  defaultSecretName,
  SERVICE_NAME_TAG,
  USER_NAME_TAG,
  VERIFICATION_MODES,
  VERIFICATION_TAG,
} from '../contract.ts';
import type { RejectedSecret, Target } from './model.ts';
import type { TargetVerification } from './verification.ts';

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
  /** Declared targets only: tagged secrets that are not declared (ignored, not failures). */
  readonly rejected?: RejectedSecret[] | undefined;
}

/** `verificationTags`: false for a declared secret, whose declaration holds its settings. */
export function targetFromSecret(secret: SecretSummary, verificationTags = true): Target | Misconfigured {
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
  const verification = verificationTags ? verificationFromTags(secret.tags) : undefined;
  if (typeof verification === 'string') {
    return { secretId: secret.arn, userName, serviceName, reason: `secret ${secret.name}: ${verification}` };
  }
  return {
    secretId: secret.arn,
    secretName: secret.name,
    userName,
    serviceName,
    ...(secret.intentVersionId ? { intentVersionId: secret.intentVersionId } : {}),
    ...(secret.rotation ? { rotation: secret.rotation } : {}),
    ...(verification ? { verification } : {}),
  };
}

/**
 * A tag-discovered target's verification settings, or what is wrong with them. A mode tag
 * that is not a mode makes the target misconfigured rather than quietly use the default: a
 * misspelt `off` must not become `enforce`, nor a misspelt `enforce` become nothing.
 */
export function verificationFromTags(
  tags: Readonly<Record<string, string>>,
): TargetVerification | string | undefined {
  const value = (key: string) => tags[key]?.trim() || undefined;
  const rawMode = value(VERIFICATION_TAG);
  const mode = VERIFICATION_MODES.find((m) => m === rawMode);
  if (rawMode !== undefined && !mode) {
    return `tag ${VERIFICATION_TAG} must be one of ${VERIFICATION_MODES.join(', ')}, got ${JSON.stringify(rawMode.slice(0, 40))}`;
  }
  const settings: TargetVerification = {
    ...(mode ? { mode } : {}),
    ...(value(CODECOMMIT_REPOSITORY_TAG) ? { codeCommitRepository: value(CODECOMMIT_REPOSITORY_TAG) } : {}),
    ...(value(CANARY_LOG_GROUP_TAG) ? { canaryLogGroup: value(CANARY_LOG_GROUP_TAG) } : {}),
    ...(value(CANARY_LOG_STREAM_TAG) ? { canaryLogStream: value(CANARY_LOG_STREAM_TAG) } : {}),
  };
  return Object.keys(settings).length > 0 ? settings : undefined;
}

/**
 * Every target, with the secrets that cannot be one. Two secrets naming the same user and
 * service would fight over the same two IAM slots, so both are refused until one is untagged.
 */
export function discover(secrets: readonly SecretSummary[], declared?: DeclaredTargets): Discovery {
  if (declared) return discoverDeclared(secrets, declared);
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

/**
 * A declared secret as a target, once its tags agree with its declaration. A secret whose
 * tags say otherwise was retagged (or half-built): it is not written until someone fixes
 * the tags or the declaration, because either one may be the mistake.
 */
export function checkDeclared(secret: SecretSummary, declared: DeclaredTarget): Target | Misconfigured {
  const t = targetFromSecret(secret, false);
  const expected = `${declared.userName}/${declared.serviceName}`;
  const base = { secretId: secret.arn, userName: declared.userName, serviceName: declared.serviceName };
  if ('reason' in t) return { ...base, reason: `${t.reason}; it is declared for ${expected}: not written` };
  if (t.userName !== declared.userName || t.serviceName !== declared.serviceName) {
    return {
      ...base,
      reason:
        `secret ${secret.name} is declared for ${expected} but tagged ${t.userName}/${t.serviceName}: not written; ` +
        `restore its tags (${USER_NAME_TAG}=${declared.userName}, ${SERVICE_NAME_TAG}=${declared.serviceName}) or correct the declaration`,
    };
  }
  // The declaration decides verification too: whoever may tag a secret must not switch it off.
  const verification = declaredVerification(declared);
  return verification ? { ...t, verification } : t;
}

function declaredVerification(d: DeclaredTarget): TargetVerification | undefined {
  const settings: TargetVerification = {
    ...(d.verification ? { mode: d.verification } : {}),
    ...(d.codeCommitRepository ? { codeCommitRepository: d.codeCommitRepository } : {}),
    ...(d.canaryLogGroup ? { canaryLogGroup: d.canaryLogGroup } : {}),
    ...(d.canaryLogStream ? { canaryLogStream: d.canaryLogStream } : {}),
  };
  return Object.keys(settings).length > 0 ? settings : undefined;
}

/**
 * Discovery under a declaration. Declared secrets whose tags agree are targets; declared
 * secrets that disagree or were not listed are misconfigured (failed, so they are alarmed
 * on); tagged secrets that are not declared are rejected: reported and ignored, never
 * failures, so that whoever can tag a secret cannot stop the declared targets.
 */
function discoverDeclared(secrets: readonly SecretSummary[], declared: DeclaredTargets): Discovery {
  const targets: Target[] = [];
  const misconfigured: Misconfigured[] = [];
  const rejected: RejectedSecret[] = [];
  const seen = new Set<string>();
  const lookAlikes = new Map<string, string>();
  for (const secret of secrets) {
    if (secret.deletedAt) continue;
    const declaration = declared.bySecretName.get(secret.name);
    if (!declaration) {
      const userName = secret.tags[USER_NAME_TAG]?.trim() ?? '';
      const serviceName = secret.tags[SERVICE_NAME_TAG]?.trim() ?? '';
      const claimed = declared.byPair.get(pairKey(userName, serviceName));
      rejected.push({
        secretId: secret.arn,
        secretName: secret.name,
        userName,
        serviceName,
        reason:
          `secret ${secret.name} carries the rotator's tags (${userName || '?'}/${serviceName || '?'}) but is not declared: ignored` +
          (claimed ? `; that pair is declared for secret ${claimed.secretName}` : '') +
          '; remove its tags, or declare it in the deployment',
      });
      continue;
    }
    const lookAlike = notDeployed(secret, declaration, declared);
    if (lookAlike) {
      // Reported, never a target: the declared target itself is then reported as not found.
      lookAlikes.set(secret.name, secret.arn);
      rejected.push({
        secretId: secret.arn,
        secretName: secret.name,
        userName: secret.tags[USER_NAME_TAG]?.trim() ?? '',
        serviceName: secret.tags[SERVICE_NAME_TAG]?.trim() ?? '',
        reason: lookAlike,
        lookAlike: true,
      });
      continue;
    }
    seen.add(secret.name);
    const t = checkDeclared(secret, declaration);
    if ('reason' in t) misconfigured.push(t);
    else targets.push(t);
  }
  for (const declaration of declared.bySecretName.values()) {
    if (seen.has(declaration.secretName)) continue;
    const pair = `${declaration.userName}/${declaration.serviceName}`;
    const lookAlike = lookAlikes.get(declaration.secretName);
    misconfigured.push({
      secretId: declaration.secretName,
      userName: declaration.userName,
      serviceName: declaration.serviceName,
      reason: lookAlike
        ? `declared secret ${declaration.secretName} (${pair}) is gone: the secret of that name (${lookAlike}) ` +
          `is not the one the stack created (${deployedArnOf(declaration, declared) ?? 'none'}), so nothing is written to it; ` +
          'delete the look-alike and redeploy the stack to recreate the secret'
        : `declared secret ${declaration.secretName} (${pair}) was not found ` +
          `with tag ${USER_NAME_TAG}: it is missing, scheduled for deletion, outside the name prefix, or its tags were removed`,
    });
  }
  return { targets, misconfigured, rejected };
}

function deployedArnOf(declaration: DeclaredTarget, declared: DeclaredTargets): string | undefined {
  return declared.deployedArns?.get(declaration.secretName);
}

/**
 * Why a secret of a declared name is not the one the deploying stack created, or undefined
 * when it is (or when the deployment pins no ARN for it: no stack, or an opted-in secret,
 * which the function itself creates and matches by name).
 */
export function notDeployed(
  secret: SecretSummary,
  declaration: DeclaredTarget,
  declared: DeclaredTargets,
): string | undefined {
  if (!declared.deployedArns?.has(declaration.secretName)) return undefined;
  const expected = declared.deployedArns.get(declaration.secretName);
  if (expected === secret.arn) return undefined;
  return expected === undefined
    ? `secret ${secret.name} is declared with logical id ${declaration.logicalId ?? '?'}, which names no secret ` +
        'in the deploying stack: nothing is written to it; redeploy so the declaration and the stack agree'
    : `secret ${secret.name} (${secret.arn}) has a declared name but is not the secret the stack created ` +
        `(${expected}): a look-alike, recreated under that name; never read for writing nor written`;
}

/** The one declared target a `rotate` or `status` command names. Throws when there is none. */
async function findDeclaredTarget(
  ref: TargetRef,
  secrets: SecretsPort,
  declared: DeclaredTargets,
): Promise<Target> {
  let secret: SecretSummary;
  let declaration: DeclaredTarget | undefined;
  if ('secretId' in ref) {
    secret = await secrets.describeSecret(ref.secretId);
    declaration = declared.bySecretName.get(secret.name);
    if (!declaration) {
      throw new TargetNotFoundError(
        `${ref.secretId} is not a declared target; only the secrets the deployment declares are rotated`,
      );
    }
  } else {
    declaration = declared.byPair.get(pairKey(ref.userName, ref.serviceName));
    if (!declaration) {
      throw new TargetNotFoundError(
        `no declared target is ${ref.userName}/${ref.serviceName}; only the pairs the deployment declares are rotated`,
      );
    }
    secret = await secrets.describeSecret(declaration.secretName);
  }
  const lookAlike = notDeployed(secret, declaration, declared);
  if (lookAlike) throw new TargetConfigError(lookAlike);
  const t = checkDeclared(secret, declaration);
  if ('reason' in t) throw new TargetConfigError(t.reason);
  return t;
}

/** The one target a `rotate` or `status` command names. Throws when there is none. */
export async function findTarget(
  ref: TargetRef,
  secrets: SecretsPort,
  namePrefix?: string,
  declared?: DeclaredTargets,
): Promise<Target> {
  if (declared) return findDeclaredTarget(ref, secrets, declared);
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
    return { ...ref, secretId: defaultSecretName(ref.userName, ref.serviceName, namePrefix) };
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
