// The Secrets Manager adapter behind SecretsPort: discovery by tag (ListSecrets returns tags,
// so one call covers 100 targets), reading and writing the AWSCURRENT version, and a batch
// read for fleet-sized runs, and the calls of Secrets Manager's rotation protocol (rotation
// state, RotateSecret, the AWSPENDING version, moving AWSCURRENT). Secret values pass
// through; they never reach an error message.
import {
  BatchGetSecretValueCommand,
  type BatchGetSecretValueResponse,
  DescribeSecretCommand,
  type Filter,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
  type Tag,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { holdSecrets } from '../redact.ts';
import { type AwsCallError, IntentClaimedError } from '../errors.ts';
import { INTENT_STAGE } from '../rotation/intent.ts';
import type { CurrentVersion } from '../rotation/model.ts';
import { USER_NAME_TAG } from '../contract.ts';
import {
  classifyAwsError,
  invalidResponse,
  isMissingStagingLabel,
  translateAwsError,
  secretsOfRecord,
} from './errors.ts';
import type { RotationState, SecretRotationPort, SecretSummary, SecretsPort } from './ports.ts';

/** ListSecrets' largest page. */
const PAGE_SIZE = 100;
/** BatchGetSecretValue accepts at most 20 ids per call. */
export const BATCH_SIZE = 20;

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const PENDING = 'AWSPENDING';

export class SecretsStore implements SecretsPort, SecretRotationPort {
  readonly #sm: SecretsManagerClient;

  constructor(secrets: SecretsManagerClient) {
    this.#sm = secrets;
  }

  async listTargetSecrets(namePrefix?: string): Promise<SecretSummary[]> {
    const filters: Filter[] = [{ Key: 'tag-key', Values: [USER_NAME_TAG] }];
    if (namePrefix) filters.push({ Key: 'name', Values: [namePrefix] });
    const subject = namePrefix ? `name prefix ${namePrefix}` : undefined;

    const secrets: SecretSummary[] = [];
    let token: string | undefined;
    do {
      const page = await this.#send('ListSecrets', subject, () =>
        this.#sm.send(
          new ListSecretsCommand(
            token === undefined
              ? { Filters: filters, MaxResults: PAGE_SIZE }
              : { Filters: filters, MaxResults: PAGE_SIZE, NextToken: token },
          ),
        ),
      );
      for (const entry of page.SecretList ?? []) {
        const summary = toSummary('ListSecrets', entry);
        // Filters match prefixes: `credential-rotator:user-name-old` would match too.
        if (Object.hasOwn(summary.tags, USER_NAME_TAG)) secrets.push(summary);
      }
      if (page.NextToken !== undefined && page.NextToken === token) {
        throw invalidResponse('ListSecrets', 'the same NextToken came twice');
      }
      token = page.NextToken || undefined;
    } while (token !== undefined);
    return secrets;
  }

  async describeSecret(secretId: string): Promise<SecretSummary> {
    const output = await this.#send('DescribeSecret', `secret ${secretId}`, () =>
      this.#sm.send(new DescribeSecretCommand({ SecretId: secretId })),
    );
    return toSummary('DescribeSecret', output);
  }

  async readCurrent(secretId: string): Promise<CurrentVersion | undefined> {
    return this.#readStage(secretId, CURRENT);
  }

  async readPrevious(secretId: string): Promise<CurrentVersion | undefined> {
    return this.#readStage(secretId, PREVIOUS);
  }

  async readIntent(secretId: string): Promise<CurrentVersion | undefined> {
    return this.#readStage(secretId, INTENT_STAGE);
  }

  async #readStage(secretId: string, stage: string): Promise<CurrentVersion | undefined> {
    try {
      const output = await this.#sm.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }),
      );
      return toCurrentVersion('GetSecretValue', secretId, output);
    } catch (error) {
      // A secret created without a value has no AWSCURRENT version yet (bootstrap), and one
      // never rotated has no intent: neither is an error.
      if (isMissingStagingLabel(error)) return undefined;
      throw translateAwsError('GetSecretValue', error, { subject: `secret ${secretId}` });
    }
  }

  /**
   * PutSecretValue without VersionStages: AWSCURRENT moves to the new version and the old one
   * becomes AWSPREVIOUS. No ClientRequestToken is given, so the SDK generates one and reuses
   * it across its own retries: a retry after a lost response is a no-op, not a second version.
   */
  async storeCurrent(secretId: string, value: string): Promise<string> {
    const output = await this.#send(
      'PutSecretValue',
      `secret ${secretId}`,
      () => this.#sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value })),
      [value],
    );
    if (!output.VersionId)
      throw invalidResponse('PutSecretValue', `no VersionId returned (secret ${secretId})`);
    return output.VersionId;
  }

  async describeRotation(secretId: string): Promise<RotationState> {
    const d = await this.#send('DescribeSecret', `secret ${secretId}`, () =>
      this.#sm.send(new DescribeSecretCommand({ SecretId: secretId })),
    );
    return {
      enabled: d.RotationEnabled === true,
      functionArn: d.RotationLambdaARN || undefined,
      automaticallyAfterDays: d.RotationRules?.AutomaticallyAfterDays,
      scheduleExpression: d.RotationRules?.ScheduleExpression,
      duration: d.RotationRules?.Duration,
      lastRotatedAt: d.LastRotatedDate,
      nextRotationAt: d.NextRotationDate,
      versionStages: d.VersionIdsToStages ?? {},
    };
  }

  /**
   * RotateSecret with the function and rules already configured (the console's button). For
   * local tools and tests only: the deployed role lacks the permission (docs/OPERATIONS.md).
   */
  async rotateSecret(secretId: string): Promise<string> {
    const output = await this.#send('RotateSecret', `secret ${secretId}`, () =>
      this.#sm.send(new RotateSecretCommand({ SecretId: secretId })),
    );
    if (!output.VersionId)
      throw invalidResponse('RotateSecret', `no VersionId returned (secret ${secretId})`);
    return output.VersionId;
  }

  async readVersion(
    secretId: string,
    versionId: string,
    stage?: string,
  ): Promise<CurrentVersion | undefined> {
    try {
      const output = await this.#sm.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId, VersionStage: stage }),
      );
      return toCurrentVersion('GetSecretValue', secretId, output);
    } catch (error) {
      // "...can't find the specified secret value for VersionId/staging label": the version
      // is empty or lacks the stage. A missing secret ("...the specified secret.") is an error.
      if (isMissingVersion(error)) return undefined;
      throw translateAwsError('GetSecretValue', error, {
        subject: `secret ${secretId} version ${versionId}`,
      });
    }
  }

  async storePending(secretId: string, token: string, value: string): Promise<string> {
    const output = await this.#send(
      'PutSecretValue',
      `secret ${secretId} version ${token}`,
      () =>
        this.#sm.send(
          new PutSecretValueCommand({
            SecretId: secretId,
            ClientRequestToken: token,
            SecretString: value,
            VersionStages: [PENDING],
          }),
        ),
      [value],
    );
    if (!output.VersionId)
      throw invalidResponse('PutSecretValue', `no VersionId returned (secret ${secretId})`);
    return output.VersionId;
  }

  async moveCurrent(secretId: string, versionId: string, fromVersionId: string | undefined): Promise<void> {
    await this.#send('UpdateSecretVersionStage', `secret ${secretId} version ${versionId}`, () =>
      this.#sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: CURRENT,
          MoveToVersionId: versionId,
          ...(fromVersionId === undefined ? {} : { RemoveFromVersionId: fromVersionId }),
        }),
      ),
    );
  }

  async versionCreatedAt(secretId: string, versionId: string): Promise<Date | undefined> {
    let token: string | undefined;
    do {
      const page = await this.#send('ListSecretVersionIds', `secret ${secretId}`, () =>
        this.#sm.send(
          new ListSecretVersionIdsCommand({ SecretId: secretId, MaxResults: PAGE_SIZE, NextToken: token }),
        ),
      );
      const version = page.Versions?.find((v) => v.VersionId === versionId);
      if (version) return version.CreatedDate instanceof Date ? version.CreatedDate : undefined;
      if (page.NextToken !== undefined && page.NextToken === token) {
        throw invalidResponse('ListSecretVersionIds', 'the same NextToken came twice');
      }
      token = page.NextToken || undefined;
    } while (token !== undefined);
    return undefined;
  }

  async removePending(secretId: string, versionId: string): Promise<void> {
    await this.#send('UpdateSecretVersionStage', `secret ${secretId} version ${versionId}`, () =>
      this.#sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: PENDING,
          RemoveFromVersionId: versionId,
        }),
      ),
    );
  }

  /**
   * PutSecretValue with VersionStages [INTENT_STAGE] only: the label moves to the new version,
   * AWSCURRENT stays where it is. The value is ids and times, never a secret.
   */
  async writeIntent(secretId: string, value: string, claim?: string): Promise<string> {
    const output = await this.#send('PutSecretValue', `secret ${secretId}`, async () => {
      try {
        return await this.#sm.send(
          new PutSecretValueCommand({
            SecretId: secretId,
            SecretString: value,
            VersionStages: [INTENT_STAGE],
            ...(claim ? { ClientRequestToken: claim } : {}),
          }),
        );
      } catch (error) {
        const translated = translateAwsError('PutSecretValue', error, { subject: `secret ${secretId}` });
        if (claim && translated.code === 'ResourceExistsException') {
          throw new IntentClaimedError(
            'PutSecretValue',
            translated.code,
            `another run already wrote the intent for this step (secret ${secretId})`,
            { cause: translated, httpStatus: translated.httpStatus },
          );
        }
        throw translated;
      }
    });
    if (!output.VersionId)
      throw invalidResponse('PutSecretValue', `no VersionId returned (secret ${secretId})`);
    return output.VersionId;
  }

  /**
   * AWSCURRENT of many secrets, 20 per BatchGetSecretValue call. Each id maps to its version,
   * to undefined (no AWSCURRENT yet) or to the typed error Secrets Manager reported for it.
   * A failure of a whole call (access denied to the batch API, throttling) is thrown.
   */
  async readCurrentMany(
    secretIds: readonly string[],
  ): Promise<Map<string, CurrentVersion | undefined | Error>> {
    const ids = [...new Set(secretIds)];
    const results = new Map<string, CurrentVersion | undefined | Error>();
    for (let start = 0; start < ids.length; start += BATCH_SIZE) {
      const chunk = ids.slice(start, start + BATCH_SIZE);
      for (const [id, result] of await this.#readChunk(chunk)) results.set(id, result);
    }
    return results;
  }

  async #readChunk(chunk: string[]): Promise<Map<string, CurrentVersion | undefined | Error>> {
    const operation = 'BatchGetSecretValue';
    const results = new Map<string, CurrentVersion | undefined | Error>();
    const pages: BatchGetSecretValueResponse[] = [];
    let token: string | undefined;
    do {
      const page = await this.#send(operation, `${chunk.length} secrets`, () =>
        this.#sm.send(
          new BatchGetSecretValueCommand(
            token === undefined ? { SecretIdList: chunk } : { SecretIdList: chunk, NextToken: token },
          ),
        ),
      );
      pages.push(page);
      if (page.NextToken !== undefined && page.NextToken === token) {
        throw invalidResponse(operation, 'the same NextToken came twice');
      }
      token = page.NextToken || undefined;
    } while (token !== undefined);

    // Answers name a secret by ARN and name (values) or as it was asked (errors).
    const byId = new Map<string, CurrentVersion | undefined | Error>();
    for (const page of pages) {
      for (const entry of page.SecretValues ?? []) {
        let version: CurrentVersion | Error;
        try {
          version = toCurrentVersion(operation, entry.ARN ?? entry.Name ?? '?', entry);
        } catch (error) {
          version = error as Error;
        }
        if (entry.ARN) byId.set(entry.ARN, version);
        if (entry.Name) byId.set(entry.Name, version);
      }
      for (const entry of page.Errors ?? []) {
        if (!entry.SecretId) continue;
        byId.set(entry.SecretId, batchEntryError(operation, entry));
      }
    }
    for (const id of chunk) {
      results.set(
        id,
        byId.has(id)
          ? byId.get(id)
          : invalidResponse(operation, `no value and no error came back for secret ${id}`),
      );
    }
    return results;
  }

  async #send<T>(
    operation: string,
    subject: string | undefined,
    call: () => Promise<T>,
    sensitive: readonly string[] = [],
  ): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw translateAwsError(operation, error, { subject, sensitive });
    }
  }
}

/** Secrets Manager's answer for a secret that exists but has no such (filled) version. */
function isMissingVersion(error: unknown): boolean {
  const e = error as { name?: unknown; message?: unknown } | null;
  return (
    isMissingStagingLabel(error) ||
    (typeof e === 'object' &&
      e !== null &&
      e.name === 'ResourceNotFoundException' &&
      typeof e.message === 'string' &&
      /secret value for VersionId/i.test(e.message))
  );
}

function batchEntryError(
  operation: string,
  entry: { SecretId?: string | undefined; ErrorCode?: string | undefined; Message?: string | undefined },
): AwsCallError | undefined {
  const code = entry.ErrorCode ?? 'UnknownError';
  const message = entry.Message ?? '(no message)';
  if (isMissingStagingLabel({ name: code, message })) return undefined;
  return classifyAwsError(
    operation,
    { code, message, cause: { SecretId: entry.SecretId, ErrorCode: code, Message: message } },
    `secret ${entry.SecretId}`,
  );
}

function toSummary(
  operation: string,
  entry: {
    ARN?: string | undefined;
    Name?: string | undefined;
    Tags?: Tag[] | undefined;
    DeletedDate?: Date | undefined;
    /** ListSecrets' name for the staging metadata; DescribeSecret calls it VersionIdsToStages. */
    SecretVersionsToStages?: Record<string, string[]> | undefined;
    VersionIdsToStages?: Record<string, string[]> | undefined;
    RotationEnabled?: boolean | undefined;
    RotationLambdaARN?: string | undefined;
  },
): SecretSummary {
  if (!entry.ARN || !entry.Name) throw invalidResponse(operation, 'a secret came without ARN or Name');
  // fromEntries defines own properties, so even a tag named `__proto__` stays a tag.
  const tags: Record<string, string> = Object.fromEntries(
    (entry.Tags ?? []).flatMap((tag) => (tag.Key === undefined ? [] : [[tag.Key, tag.Value ?? '']])),
  );
  const stages = entry.SecretVersionsToStages ?? entry.VersionIdsToStages ?? {};
  const intentVersionId = Object.keys(stages).find((id) => stages[id]?.includes(INTENT_STAGE));
  // Absent until rotation was first configured, as in AWS.
  const configured = entry.RotationEnabled !== undefined || Boolean(entry.RotationLambdaARN);
  const pendingVersionId = Object.keys(stages).find(
    (id) => stages[id]?.includes(PENDING) && !stages[id]?.includes(CURRENT),
  );
  return {
    arn: entry.ARN,
    name: entry.Name,
    tags,
    deletedAt: entry.DeletedDate,
    intentVersionId,
    ...(configured
      ? {
          rotation: {
            enabled: entry.RotationEnabled === true,
            functionArn: entry.RotationLambdaARN || undefined,
            pendingVersionId,
          },
        }
      : {}),
  };
}

function toCurrentVersion(
  operation: string,
  secretId: string,
  output: {
    VersionId?: string | undefined;
    CreatedDate?: Date | undefined;
    SecretString?: string | undefined;
  },
): CurrentVersion {
  if (!output.VersionId || !(output.CreatedDate instanceof Date)) {
    throw invalidResponse(
      operation,
      `the version came without VersionId or CreatedDate (secret ${secretId})`,
    );
  }
  // Every value read may quote a credential: its secrets are kept for redacting foreign errors.
  holdSecrets(secretsOfRecord(output.SecretString ?? ''));
  return { versionId: output.VersionId, createdAt: output.CreatedDate, value: output.SecretString };
}
