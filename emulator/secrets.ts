// The Secrets Manager model: secrets, versions and staging labels, tags, deletion windows,
// with the rules of docs/AWS-BEHAVIOUR.md. Methods take and return the API's own
// (PascalCase) shapes so the wire layer is a thin JSON codec; tests call them directly too.
import type { VirtualClock } from './clock.ts';
import { AwsApiError, MARKED_FOR_DELETION, SECRET_NOT_FOUND } from './errors.ts';
import { alnum, uuid } from './random.ts';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';
const MAX_VALUE_BYTES = 65_536;
const DAY_MS = 86_400_000;

export interface Tag {
  Key: string;
  Value: string;
}

export interface StoredVersion {
  readonly id: string;
  /** Unset on the empty version RotateSecret creates, until the rotation function fills it. */
  secretString?: string | undefined;
  /** base64 of the binary value, as on the wire. */
  secretBinary?: string | undefined;
  readonly createdDate: Date;
  lastAccessedDate?: Date | undefined;
  stages: string[];
  readonly seq: number;
}

export interface StoredSecret {
  readonly arn: string;
  readonly name: string;
  description?: string | undefined;
  tags: Tag[];
  readonly createdDate: Date;
  lastChangedDate: Date;
  lastAccessedDate?: Date | undefined;
  /** Set while scheduled for deletion. */
  deletedDate?: Date | undefined;
  /** When the deletion becomes final. */
  deletionDate?: Date | undefined;
  versions: StoredVersion[];
  readonly seq: number;
  /** Set once RotateSecret configured rotation (DescribeSecret shows rotation fields from then on). */
  rotation?: RotationConfig | undefined;
}

export interface RotationRules {
  AutomaticallyAfterDays?: number | undefined;
  ScheduleExpression?: string | undefined;
  Duration?: string | undefined;
}

export interface RotationConfig {
  enabled: boolean;
  lambdaArn?: string | undefined;
  rules?: RotationRules | undefined;
  lastRotatedDate?: Date | undefined;
  nextRotationDate?: Date | undefined;
}

/** What RotateSecret hands to the rotation runner: the steps Secrets Manager invokes next. */
export interface RotationStart {
  readonly secretArn: string;
  readonly token: string;
  readonly lambdaArn: string;
  /** All four steps, or only testSecret when RotateImmediately is false. */
  readonly immediately: boolean;
}

export interface SecretsModelOptions {
  readonly clock: VirtualClock;
  readonly region: string;
  readonly accountId: string;
  /** Largest ListSecrets page whatever MaxResults says (AWS may return fewer). */
  readonly pageSize: number;
  /** Called when RotateSecret starts a rotation (the steps run after the call has answered). */
  readonly onRotationStart?: ((start: RotationStart) => void) | undefined;
}

/**
 * Which manual value updates Secrets Manager counts as a rotation when it computes the next
 * rotation date. AWS documents that it does count them ("If you also manually update your
 * secret value while automatic rotation is set up, then Secrets Manager considers that a valid
 * rotation when it calculates the next rotation date", Rotation by Lambda function, Secrets
 * Manager User Guide) without saying which updates: `current` (the default) counts a
 * PutSecretValue or UpdateSecret that moves AWSCURRENT; `any` counts every PutSecretValue and
 * UpdateSecret with a value (custom or AWSPENDING labels too); `none` counts nothing (the
 * unfavourable reading for a design that relies on it).
 */
export type ManualUpdateRotation = 'current' | 'any' | 'none';

// biome-ignore lint/suspicious/noExplicitAny: request shapes come straight from JSON.
type Params = Record<string, any>;

const notFound = (message = SECRET_NOT_FOUND) => new AwsApiError('ResourceNotFoundException', 400, message);
const invalidParameter = (message: string) => new AwsApiError('InvalidParameterException', 400, message);
const invalidRequest = (message: string) => new AwsApiError('InvalidRequestException', 400, message);
const markedForDeletion = () => invalidRequest(MARKED_FOR_DELETION);

const day = (d: Date): Date => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
/** The last second of a UTC day: a daily rotation window closes then. */
const endOfDay = (d: Date): Date => new Date(day(d).getTime() + DAY_MS - 1000);

export const ROTATION_IN_PROGRESS = "A previous rotation isn't complete. That rotation will be reattempted.";
export const NO_ROTATION_FUNCTION =
  "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured and you didn't include such an ARN as a parameter in this call.";

/** The version carrying AWSPENDING while AWSCURRENT is elsewhere: a rotation not finished. */
export function pendingRotation(secret: StoredSecret): StoredVersion | undefined {
  const pending = secret.versions.find((v) => v.stages.includes(AWSPENDING));
  return pending && !pending.stages.includes(AWSCURRENT) ? pending : undefined;
}

const isEmpty = (v: StoredVersion): boolean => v.secretString === undefined && v.secretBinary === undefined;

function encodeToken(index: number): string {
  return Buffer.from(`emu:${index}`).toString('base64');
}
function decodeToken(token: string): number {
  const m = /^emu:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
  if (!m) throw new AwsApiError('InvalidNextTokenException', 400, 'The NextToken value is invalid.');
  return Number(m[1]);
}

export class SecretsModel {
  private readonly secrets = new Map<string, StoredSecret>();
  private seq = 0;
  /** Which manual updates move the next rotation date (see ManualUpdateRotation). */
  manualUpdateRotation: ManualUpdateRotation = 'current';

  constructor(private readonly options: SecretsModelOptions) {}

  private now(): Date {
    return this.options.clock.now();
  }

  // ---- lookup ----------------------------------------------------------------------------

  /** Drops secrets whose recovery window is over (AWS deletes them then). */
  private purge(): void {
    const now = this.now().getTime();
    for (const [name, s] of this.secrets) {
      if (s.deletionDate && s.deletionDate.getTime() <= now) this.secrets.delete(name);
    }
  }

  /** By name or full ARN. */
  private find(secretId: unknown): StoredSecret | undefined {
    this.purge();
    if (typeof secretId !== 'string' || secretId === '') return undefined;
    const byName = this.secrets.get(secretId);
    if (byName) return byName;
    for (const s of this.secrets.values()) if (s.arn === secretId) return s;
    return undefined;
  }

  private get(secretId: unknown, opts: { allowDeleted?: boolean } = {}): StoredSecret {
    if (typeof secretId !== 'string' || secretId === '') {
      throw new AwsApiError(
        'ValidationException',
        400,
        "1 validation error detected: Value at 'secretId' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    const s = this.find(secretId);
    if (!s) throw notFound();
    if (s.deletedDate && !opts.allowDeleted) throw markedForDeletion();
    return s;
  }

  private checkValue(p: Params): { secretString?: string; secretBinary?: string } | undefined {
    const hasString = p.SecretString !== undefined && p.SecretString !== null;
    const hasBinary = p.SecretBinary !== undefined && p.SecretBinary !== null;
    if (hasString && hasBinary) {
      throw invalidParameter(
        "You can't specify both a binary secret value and a string secret value in the same secret.",
      );
    }
    if (!hasString && !hasBinary) return undefined;
    const bytes = hasString
      ? Buffer.byteLength(String(p.SecretString), 'utf8')
      : Buffer.from(String(p.SecretBinary), 'base64').length;
    if (bytes > MAX_VALUE_BYTES) {
      throw invalidParameter(`The secret value must contain between 1 and ${MAX_VALUE_BYTES} bytes.`);
    }
    return hasString ? { secretString: String(p.SecretString) } : { secretBinary: String(p.SecretBinary) };
  }

  private checkToken(token: unknown): string | undefined {
    if (token === undefined || token === null) return undefined;
    const t = String(token);
    if (t.length < 32 || t.length > 64) {
      throw new AwsApiError(
        'ValidationException',
        400,
        `1 validation error detected: Value '${t}' at 'clientRequestToken' failed to satisfy constraint: Member must have length ${t.length < 32 ? 'greater than or equal to 32' : 'less than or equal to 64'}`,
      );
    }
    return t;
  }

  /**
   * The version an earlier call with this ClientRequestToken made (a retry: answered again,
   * nothing new), or undefined; a token already used for another value is refused.
   */
  private retried(
    s: StoredSecret,
    token: string,
    value: { secretString?: string; secretBinary?: string },
  ): StoredVersion | undefined {
    const existing = s.versions.find((v) => v.id === token);
    if (existing && isEmpty(existing)) {
      // The version RotateSecret made for this token: the rotation function's createSecret
      // stores the new value into it (that is how AWSPENDING gets its value).
      Object.assign(existing, value);
      s.lastChangedDate = this.now();
      return existing;
    }
    if (existing && !this.sameValue(existing, value)) {
      throw new AwsApiError(
        'ResourceExistsException',
        400,
        `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${s.arn}.`,
      );
    }
    return existing;
  }

  private sameValue(v: StoredVersion, value: { secretString?: string; secretBinary?: string } | undefined) {
    return v.secretString === value?.secretString && v.secretBinary === value?.secretBinary;
  }

  /** Attaches `stage` to `version` alone; moving AWSCURRENT leaves AWSPREVIOUS on the old holder. */
  private attach(secret: StoredSecret, version: StoredVersion, stage: string): void {
    const holder = secret.versions.find((v) => v.stages.includes(stage));
    if (holder === version) return;
    if (holder) holder.stages = holder.stages.filter((s) => s !== stage);
    version.stages.push(stage);
    if (stage === AWSCURRENT && holder) {
      for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== AWSPREVIOUS);
      holder.stages.push(AWSPREVIOUS);
    }
  }

  /** AWS keeps about 100 versions plus every version from the last 24 h; label-less ones go first. */
  private prune(secret: StoredSecret): void {
    const cutoff = this.now().getTime() - DAY_MS;
    while (secret.versions.length > 100) {
      const victim = secret.versions.find((v) => v.stages.length === 0 && v.createdDate.getTime() < cutoff);
      if (!victim) return;
      secret.versions = secret.versions.filter((v) => v !== victim);
    }
  }

  private addVersion(
    secret: StoredSecret,
    id: string,
    value: { secretString?: string; secretBinary?: string },
    stages: string[],
  ): StoredVersion {
    const version: StoredVersion = {
      id,
      ...value,
      createdDate: this.now(),
      stages: [],
      seq: this.seq++,
    };
    secret.versions.push(version);
    for (const stage of stages) this.attach(secret, version, stage);
    secret.lastChangedDate = this.now();
    this.prune(secret);
    return version;
  }

  private stagesMap(secret: StoredSecret): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const v of secret.versions) if (v.stages.length > 0) out[v.id] = [...v.stages];
    return out;
  }

  /** What ListSecrets and DescribeSecret both say of a secret (each names the stage map its own way). */
  private metadata(s: StoredSecret): Params {
    return {
      ARN: s.arn,
      Name: s.name,
      Description: s.description,
      LastChangedDate: s.lastChangedDate,
      LastAccessedDate: s.lastAccessedDate,
      DeletedDate: s.deletedDate,
      Tags: s.tags.map((t) => ({ ...t })),
      CreatedDate: s.createdDate,
      ...(s.rotation && {
        RotationEnabled: s.rotation.enabled,
        RotationLambdaARN: s.rotation.lambdaArn,
        RotationRules: s.rotation.rules && { ...s.rotation.rules },
        LastRotatedDate: s.rotation.lastRotatedDate,
        NextRotationDate: s.rotation.nextRotationDate,
      }),
    };
  }

  private versionValue(s: StoredSecret, v: StoredVersion): Params {
    return {
      ARN: s.arn,
      Name: s.name,
      VersionId: v.id,
      SecretString: v.secretString,
      SecretBinary: v.secretBinary,
      VersionStages: [...v.stages],
      CreatedDate: v.createdDate,
    };
  }

  private touch(s: StoredSecret, v: StoredVersion): void {
    const today = day(this.now());
    s.lastAccessedDate = today;
    v.lastAccessedDate = today;
  }

  // ---- operations (API shapes) -----------------------------------------------------------

  CreateSecret(p: Params): Params {
    const name = p.Name;
    if (typeof name !== 'string' || name.length < 1 || name.length > 512) {
      throw new AwsApiError(
        'ValidationException',
        400,
        "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length between 1 and 512",
      );
    }
    const value = this.checkValue(p);
    const token = this.checkToken(p.ClientRequestToken);
    const existing = this.find(name);
    if (existing) {
      if (existing.deletedDate) {
        throw invalidRequest(
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
        );
      }
      const same = token && existing.versions.find((v) => v.id === token);
      if (same && this.sameValue(same, value)) {
        return { ARN: existing.arn, Name: existing.name, VersionId: same.id };
      }
      throw new AwsApiError(
        'ResourceExistsException',
        400,
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const now = this.now();
    const secret: StoredSecret = {
      arn: `arn:aws:secretsmanager:${this.options.region}:${this.options.accountId}:secret:${name}-${alnum(6)}`,
      name,
      description: p.Description,
      tags: Array.isArray(p.Tags) ? p.Tags.map((t: Tag) => ({ Key: t.Key, Value: t.Value })) : [],
      createdDate: now,
      lastChangedDate: now,
      versions: [],
      seq: this.seq++,
    };
    this.secrets.set(name, secret);
    if (!value) return { ARN: secret.arn, Name: secret.name };
    const version = this.addVersion(secret, token ?? uuid(), value, [AWSCURRENT]);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id };
  }

  DescribeSecret(p: Params): Params {
    const s = this.get(p.SecretId, { allowDeleted: true });
    return { ...this.metadata(s), VersionIdsToStages: this.stagesMap(s) };
  }

  GetSecretValue(p: Params): Params {
    const s = this.get(p.SecretId);
    let v: StoredVersion | undefined;
    if (p.VersionId !== undefined) {
      v = s.versions.find((x) => x.id === p.VersionId);
      if (!v || isEmpty(v) || (p.VersionStage !== undefined && !v.stages.includes(p.VersionStage))) {
        throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${p.VersionId}`);
      }
    } else {
      const stage = p.VersionStage ?? AWSCURRENT;
      v = s.versions.find((x) => x.stages.includes(stage));
      if (!v || isEmpty(v))
        throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${stage}`);
    }
    this.touch(s, v);
    return this.versionValue(s, v);
  }

  PutSecretValue(p: Params): Params {
    const s = this.get(p.SecretId);
    const value = this.checkValue(p);
    if (!value) throw invalidRequest('You must provide either SecretString or SecretBinary.');
    const token = this.checkToken(p.ClientRequestToken) ?? uuid();
    const stages: string[] = Array.isArray(p.VersionStages) ? p.VersionStages : [AWSCURRENT];
    const filling = s.versions.find((v) => v.id === token && isEmpty(v)) !== undefined;
    const existing = this.retried(s, token, value);
    if (existing) {
      if (filling) for (const stage of stages) this.attach(s, existing, stage);
      return { ARN: s.arn, Name: s.name, VersionId: existing.id, VersionStages: [...existing.stages] };
    }
    const version = this.addVersion(s, token, value, stages);
    this.countManualUpdate(s, stages.includes(AWSCURRENT));
    return { ARN: s.arn, Name: s.name, VersionId: version.id, VersionStages: [...version.stages] };
  }

  /**
   * A manual value update while rotation is on counts as a rotation for the next date
   * (manualUpdateRotation). LastRotatedDate stays: whether AWS moves it too is not documented.
   */
  private countManualUpdate(s: StoredSecret, movesCurrent: boolean): void {
    const counts =
      this.manualUpdateRotation === 'any' || (this.manualUpdateRotation === 'current' && movesCurrent);
    if (!counts || !s.rotation?.enabled) return;
    s.rotation.nextRotationDate = this.nextRotation(s.rotation, this.now());
  }

  UpdateSecretVersionStage(p: Params): Params {
    const s = this.get(p.SecretId);
    const stage = p.VersionStage;
    if (typeof stage !== 'string' || stage === '') {
      throw new AwsApiError(
        'ValidationException',
        400,
        "1 validation error detected: Value at 'versionStage' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    const holder = s.versions.find((v) => v.stages.includes(stage));
    const move = p.MoveToVersionId as string | undefined;
    const remove = p.RemoveFromVersionId as string | undefined;
    const target = move === undefined ? undefined : s.versions.find((v) => v.id === move);
    if (move !== undefined && !target) throw invalidParameter(`Not a valid version: ${move}`);
    if (remove !== undefined) {
      const from = s.versions.find((v) => v.id === remove);
      if (!from?.stages.includes(stage)) {
        throw invalidParameter(
          `The staging label ${stage} is currently attached to version ${holder?.id ?? 'none'}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
    }
    if (target && holder && holder !== target && remove === undefined) {
      throw invalidParameter(
        `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
      );
    }
    if (!target && stage === AWSCURRENT && remove !== undefined) {
      throw invalidParameter(
        'You can only remove the AWSCURRENT staging label by moving it to another version.',
      );
    }
    if (target) this.attach(s, target, stage);
    else if (holder) holder.stages = holder.stages.filter((x) => x !== stage);
    s.lastChangedDate = this.now();
    return { ARN: s.arn, Name: s.name };
  }

  ListSecrets(p: Params): Params {
    this.purge();
    const filters = this.checkFilters(p.Filters);
    const all = [...this.secrets.values()]
      .filter((s) => p.IncludePlannedDeletion === true || !s.deletedDate)
      .filter((s) => this.matches(s, filters));
    this.sort(all, p.SortBy, p.SortOrder);
    const { items, nextToken } = this.page(all, p.MaxResults, p.NextToken, 100);
    return {
      SecretList: items.map((s) => ({ ...this.metadata(s), SecretVersionsToStages: this.stagesMap(s) })),
      NextToken: nextToken,
    };
  }

  BatchGetSecretValue(p: Params): Params {
    const ids = p.SecretIdList as string[] | undefined;
    const hasIds = Array.isArray(ids) && ids.length > 0;
    const hasFilters = Array.isArray(p.Filters) && p.Filters.length > 0;
    if (hasIds === hasFilters) {
      throw invalidParameter('Either SecretIdList or Filters must be provided, but not both.');
    }
    if (hasIds) {
      if (ids.length > 20) {
        throw new AwsApiError(
          'ValidationException',
          400,
          "1 validation error detected: Value at 'secretIdList' failed to satisfy constraint: Member must have length less than or equal to 20",
        );
      }
      if (p.MaxResults !== undefined) {
        throw invalidParameter('MaxResults can only be used with Filters.');
      }
      const values: Params[] = [];
      const errors: Params[] = [];
      for (const id of ids) {
        try {
          values.push(this.GetSecretValue({ SecretId: id }));
        } catch (e) {
          if (!(e instanceof AwsApiError)) throw e;
          errors.push({ SecretId: id, ErrorCode: e.code, Message: e.message });
        }
      }
      return { SecretValues: values, Errors: errors };
    }
    this.purge();
    const filters = this.checkFilters(p.Filters);
    const all = [...this.secrets.values()].filter((s) => !s.deletedDate && this.matches(s, filters));
    this.sort(all, undefined, undefined);
    const { items, nextToken } = this.page(all, p.MaxResults, p.NextToken, 20);
    const values: Params[] = [];
    const errors: Params[] = [];
    for (const s of items) {
      const v = s.versions.find((x) => x.stages.includes(AWSCURRENT));
      if (!v) {
        errors.push({
          SecretId: s.arn,
          ErrorCode: 'ResourceNotFoundException',
          Message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        });
        continue;
      }
      this.touch(s, v);
      values.push(this.versionValue(s, v));
    }
    return { SecretValues: values, Errors: errors, NextToken: nextToken };
  }

  DeleteSecret(p: Params): Params {
    const s = this.get(p.SecretId, { allowDeleted: true });
    const force = p.ForceDeleteWithoutRecovery === true;
    if (force && p.RecoveryWindowInDays !== undefined) {
      throw invalidParameter(
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    const window = p.RecoveryWindowInDays ?? 30;
    if (!force && (!Number.isInteger(window) || window < 7 || window > 30)) {
      throw invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    if (s.deletedDate && !force) throw markedForDeletion();
    const now = this.now();
    s.deletedDate = now;
    s.deletionDate = force ? now : new Date(now.getTime() + window * DAY_MS);
    if (force) this.secrets.delete(s.name);
    return { ARN: s.arn, Name: s.name, DeletionDate: s.deletionDate };
  }

  RestoreSecret(p: Params): Params {
    const s = this.get(p.SecretId, { allowDeleted: true });
    s.deletedDate = undefined;
    s.deletionDate = undefined;
    s.lastChangedDate = this.now();
    return { ARN: s.arn, Name: s.name };
  }

  TagResource(p: Params): Params {
    const s = this.get(p.SecretId);
    for (const t of (p.Tags ?? []) as Tag[]) {
      s.tags = s.tags.filter((x) => x.Key !== t.Key);
      s.tags.push({ Key: t.Key, Value: t.Value });
    }
    s.lastChangedDate = this.now();
    return {};
  }

  UntagResource(p: Params): Params {
    const s = this.get(p.SecretId);
    const keys = new Set((p.TagKeys ?? []) as string[]);
    s.tags = s.tags.filter((t) => !keys.has(t.Key));
    s.lastChangedDate = this.now();
    return {};
  }

  UpdateSecret(p: Params): Params {
    const s = this.get(p.SecretId);
    if (p.Description !== undefined) s.description = p.Description;
    const value = this.checkValue(p);
    s.lastChangedDate = this.now();
    if (!value) return { ARN: s.arn, Name: s.name };
    const token = this.checkToken(p.ClientRequestToken) ?? uuid();
    const existing = this.retried(s, token, value);
    if (existing) {
      return { ARN: s.arn, Name: s.name, VersionId: existing.id };
    }
    const version = this.addVersion(s, token, value, [AWSCURRENT]);
    this.countManualUpdate(s, true);
    return { ARN: s.arn, Name: s.name, VersionId: version.id };
  }

  ListSecretVersionIds(p: Params): Params {
    const s = this.get(p.SecretId, { allowDeleted: true });
    const all = s.versions.filter((v) => p.IncludeDeprecated === true || v.stages.length > 0);
    const { items, nextToken } = this.page(all, p.MaxResults, p.NextToken, 100);
    return {
      Versions: items.map((v) => ({
        VersionId: v.id,
        VersionStages: [...v.stages],
        LastAccessedDate: v.lastAccessedDate,
        CreatedDate: v.createdDate,
      })),
      NextToken: nextToken,
      ARN: s.arn,
      Name: s.name,
    };
  }

  RotateSecret(p: Params): Params {
    const s = this.get(p.SecretId);
    const token = this.checkToken(p.ClientRequestToken);
    const rules = this.checkRotationRules(p.RotationRules);
    const lambdaArn = (p.RotationLambdaARN as string | undefined) || s.rotation?.lambdaArn;
    if (!lambdaArn) throw invalidRequest(NO_ROTATION_FUNCTION);
    // The SDK's own retry of this call (same token, after a lost answer) is answered again,
    // starting nothing, whether that rotation is still running or already over.
    const retry = token === undefined ? undefined : s.versions.find((v) => v.id === token);
    if (retry) return { ARN: s.arn, Name: s.name, VersionId: retry.id };
    if (pendingRotation(s)) throw invalidRequest(ROTATION_IN_PROGRESS);
    const immediately = p.RotateImmediately !== false;
    const rotation: RotationConfig = s.rotation ?? { enabled: true };
    rotation.enabled = true;
    rotation.lambdaArn = lambdaArn;
    if (rules) rotation.rules = rules;
    s.rotation = rotation;
    if (!immediately || !rotation.lastRotatedDate) rotation.nextRotationDate = this.nextRotation(rotation);
    const id = token ?? uuid();
    // The new version has no value: the rotation function's createSecret puts one in it.
    this.addVersion(s, id, {}, [AWSPENDING]);
    this.options.onRotationStart?.({ secretArn: s.arn, token: id, lambdaArn, immediately });
    return { ARN: s.arn, Name: s.name, VersionId: id };
  }

  CancelRotateSecret(p: Params): Params {
    const s = this.get(p.SecretId);
    if (!s.rotation?.lambdaArn) throw invalidRequest(NO_ROTATION_FUNCTION);
    s.rotation.enabled = false;
    s.rotation.nextRotationDate = undefined;
    s.lastChangedDate = this.now();
    // Labels stay as they are: AWS leaves AWSPENDING on the half-made version for the caller
    // to remove (or promote) with UpdateSecretVersionStage.
    return { ARN: s.arn, Name: s.name, VersionId: pendingRotation(s)?.id };
  }

  // ---- rotation bookkeeping (the runner in rotations.ts calls these) ----------------------

  /**
   * After finishSecret: whether AWSCURRENT moved to the token's version. If it did, the
   * rotation is complete: LastRotatedDate is now and NextRotationDate follows the rules.
   */
  completeRotation(secretId: string, token: string): boolean {
    const s = this.find(secretId);
    const v = s?.versions.find((x) => x.id === token);
    if (!s?.rotation || !v?.stages.includes(AWSCURRENT)) return false;
    s.rotation.lastRotatedDate = this.now();
    s.rotation.nextRotationDate = s.rotation.enabled ? this.nextRotation(s.rotation) : undefined;
    return true;
  }

  /** After the testSecret-only check of RotateImmediately=false: the test version loses AWSPENDING. */
  endTestRotation(secretId: string, token: string): void {
    const s = this.find(secretId);
    const v = s?.versions.find((x) => x.id === token);
    if (s && v) v.stages = v.stages.filter((x) => x !== AWSPENDING);
  }

  /**
   * Whether the rotation of this token is still to be carried on: the secret lives, its
   * rotation is on, and the token's version carries AWSPENDING apart from AWSCURRENT.
   */
  isPending(secretId: string, token: string): boolean {
    const s = this.find(secretId);
    return !!s && !s.deletedDate && !!s.rotation?.enabled && pendingRotation(s)?.id === token;
  }

  /** Rotations left unfinished on secrets whose rotation is on: what Secrets Manager retries. */
  unfinishedRotations(): RotationStart[] {
    this.purge();
    return [...this.secrets.values()].flatMap((s) => {
      const pending = pendingRotation(s);
      if (s.deletedDate || !pending || !s.rotation?.enabled || !s.rotation.lambdaArn) return [];
      return [{ secretArn: s.arn, token: pending.id, lambdaArn: s.rotation.lambdaArn, immediately: true }];
    });
  }

  /** ARNs of secrets whose rotation is on and whose NextRotationDate's UTC day has come. */
  dueRotations(): string[] {
    this.purge();
    const today = day(this.now()).getTime();
    return [...this.secrets.values()]
      .filter((s) => !s.deletedDate && s.rotation?.enabled && s.rotation.nextRotationDate)
      .filter((s) => day(s.rotation?.nextRotationDate as Date).getTime() <= today)
      .map((s) => s.arn);
  }

  /**
   * When the next rotation is due: AutomaticallyAfterDays (or `rate(N days)`) after the last
   * rotation (or now, before the first), as the end of that UTC day, since a daily rotation
   * window spans the whole day; `rate(N hours)` is N hours on. cron() is not evaluated.
   */
  private nextRotation(rotation: RotationConfig, counted?: Date): Date | undefined {
    const from = counted ?? rotation.lastRotatedDate ?? this.now();
    const rules = rotation.rules;
    const rate = /^rate\((\d+) (hour|hours|day|days)\)$/.exec(rules?.ScheduleExpression ?? '');
    if (rate?.[2]?.startsWith('hour')) return new Date(from.getTime() + Number(rate[1]) * 3_600_000);
    const days = rules?.AutomaticallyAfterDays ?? (rate ? Number(rate[1]) : undefined);
    return days === undefined ? undefined : endOfDay(new Date(from.getTime() + days * DAY_MS));
  }

  private checkRotationRules(raw: unknown): RotationRules | undefined {
    if (raw === undefined || raw === null) return undefined;
    const r = raw as RotationRules;
    if (r.AutomaticallyAfterDays !== undefined && r.ScheduleExpression !== undefined) {
      throw invalidParameter(
        "You can't specify both AutomaticallyAfterDays and ScheduleExpression in RotationRules.",
      );
    }
    const days = r.AutomaticallyAfterDays;
    if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 1000)) {
      throw invalidParameter('RotationRules.AutomaticallyAfterDays must be within 1-1000.');
    }
    if (r.ScheduleExpression !== undefined && !/^(rate|cron)\(.+\)$/.test(r.ScheduleExpression)) {
      throw invalidParameter(`The schedule expression ${r.ScheduleExpression} isn't valid.`);
    }
    if (r.Duration !== undefined && !/^[1-9]\d?h$/.test(r.Duration)) {
      throw invalidParameter(`The rotation window duration ${r.Duration} isn't valid.`);
    }
    return {
      ...(days !== undefined && { AutomaticallyAfterDays: days }),
      ...(r.ScheduleExpression !== undefined && { ScheduleExpression: r.ScheduleExpression }),
      ...(r.Duration !== undefined && { Duration: r.Duration }),
    };
  }

  // ---- direct access for tests -----------------------------------------------------------

  /** Creates a secret with tags (and optionally a first AWSCURRENT value). Returns its ARN. */
  createSecret(name: string, opts: { tags?: Record<string, string>; value?: string } = {}): string {
    const out = this.CreateSecret({
      Name: name,
      SecretString: opts.value,
      Tags: Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    });
    return out.ARN as string;
  }

  /** Stores a value "by hand" like PutSecretValue (default: becomes AWSCURRENT). Returns the VersionId. */
  putValue(secretId: string, value: string, stages?: string[]): string {
    return this.PutSecretValue({ SecretId: secretId, SecretString: value, VersionStages: stages })
      .VersionId as string;
  }

  /** VersionId -> staging labels, label-less versions left out (as DescribeSecret shows them). */
  labels(secretId: string): Record<string, string[]> {
    const s = this.find(secretId);
    return s ? this.stagesMap(s) : {};
  }

  /** A deep copy of the stored secret (versions in creation order, values included), or undefined. */
  secret(secretId: string): StoredSecret | undefined {
    const s = this.find(secretId);
    return s && structuredClone(s);
  }

  /** The value of the version carrying `stage` (default AWSCURRENT), without touching access dates. */
  valueAt(secretId: string, stage = AWSCURRENT): string | undefined {
    return this.find(secretId)?.versions.find((v) => v.stages.includes(stage))?.secretString;
  }

  /** Every secret (copies), scheduled-for-deletion ones included. */
  all(): StoredSecret[] {
    this.purge();
    return [...this.secrets.values()].map((s) => structuredClone(s));
  }

  // ---- persistence -----------------------------------------------------------------------

  toJSON(): unknown {
    return { secrets: [...this.secrets.values()], seq: this.seq };
  }

  load(state: unknown): void {
    const st = state as { secrets: StoredSecret[]; seq: number };
    const d = (x: unknown) => (x === undefined || x === null ? undefined : new Date(x as string));
    this.secrets.clear();
    for (const s of st.secrets) {
      this.secrets.set(s.name, {
        ...s,
        createdDate: new Date(s.createdDate),
        lastChangedDate: new Date(s.lastChangedDate),
        lastAccessedDate: d(s.lastAccessedDate),
        deletedDate: d(s.deletedDate),
        deletionDate: d(s.deletionDate),
        rotation: s.rotation && {
          ...s.rotation,
          lastRotatedDate: d(s.rotation.lastRotatedDate),
          nextRotationDate: d(s.rotation.nextRotationDate),
        },
        versions: s.versions.map((v) => ({
          ...v,
          createdDate: new Date(v.createdDate),
          lastAccessedDate: d(v.lastAccessedDate),
        })),
      });
    }
    this.seq = st.seq;
  }

  // ---- internals -------------------------------------------------------------------------

  private checkFilters(raw: unknown): Array<{ key: string; values: string[] }> {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) throw invalidParameter('Invalid filter.');
    const keys = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'];
    return raw.map((f: { Key?: string; Values?: string[] }) => {
      if (!f.Key || !keys.includes(f.Key)) {
        throw new AwsApiError(
          'ValidationException',
          400,
          `1 validation error detected: Value '${f.Key}' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [${keys.join(', ')}]`,
        );
      }
      return { key: f.Key, values: f.Values ?? [] };
    });
  }

  /** Filters AND together; a filter's values OR together; each value is a prefix, `!` negates. */
  private matches(s: StoredSecret, filters: Array<{ key: string; values: string[] }>): boolean {
    return filters.every((f) => {
      const positives = f.values.filter((v) => !v.startsWith('!'));
      const negatives = f.values.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
      const fields = (key: string): Array<{ text: string; ci: boolean }> => {
        switch (key) {
          case 'name':
            return [{ text: s.name, ci: false }];
          case 'description':
            return s.description ? [{ text: s.description, ci: true }] : [];
          case 'tag-key':
            return s.tags.map((t) => ({ text: t.Key, ci: false }));
          case 'tag-value':
            return s.tags.map((t) => ({ text: t.Value, ci: false }));
          case 'primary-region':
          case 'owning-service':
            return [];
          default:
            return [
              ...fields('name'),
              ...fields('description'),
              ...fields('tag-key'),
              ...fields('tag-value'),
            ].map((x) => ({ ...x, ci: true }));
        }
      };
      const texts = fields(f.key);
      const hit = (prefix: string) =>
        texts.some(({ text, ci }) =>
          ci ? text.toLowerCase().startsWith(prefix.toLowerCase()) : text.startsWith(prefix),
        );
      if (negatives.some(hit)) return false;
      return positives.length === 0 || positives.some(hit);
    });
  }

  private sort(all: StoredSecret[], sortBy: unknown, sortOrder: unknown): void {
    const dir = sortOrder === 'asc' ? 1 : sortOrder === 'desc' ? -1 : 1;
    const key = (s: StoredSecret): number | string => {
      switch (sortBy) {
        case 'name':
          return s.name;
        case 'last-accessed-date':
          return s.lastAccessedDate?.getTime() ?? 0;
        case 'last-changed-date':
          return s.lastChangedDate.getTime();
        default:
          return s.seq;
      }
    };
    all.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      return (ka < kb ? -1 : ka > kb ? 1 : a.seq - b.seq) * dir;
    });
  }

  private page<T>(
    all: T[],
    maxResults: unknown,
    nextToken: unknown,
    max: number,
  ): { items: T[]; nextToken?: string | undefined } {
    if (
      maxResults !== undefined &&
      (!Number.isInteger(maxResults) || (maxResults as number) < 1 || (maxResults as number) > max)
    ) {
      throw new AwsApiError(
        'ValidationException',
        400,
        `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
      );
    }
    const start = nextToken === undefined || nextToken === null ? 0 : decodeToken(String(nextToken));
    const size = Math.min((maxResults as number | undefined) ?? max, this.options.pageSize);
    const items = all.slice(start, start + size);
    const next = start + items.length;
    return { items, nextToken: next < all.length ? encodeToken(next) : undefined };
  }
}
