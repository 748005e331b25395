// biome-ignore-all lint/suspicious/noExplicitAny: SDK outputs are picked apart loosely for comparison.
// Fidelity check: sends the same Secrets Manager call sequence, through the real SDK client,
// to moto (python3 -m moto.server) and to our emulator over HTTP, normalises volatile fields
// (ARN suffixes, dates, request ids, generated ids) and compares answer by answer.
// Differences listed in KNOWN_MOTO_DEVIATIONS are expected (moto is wrong per
// docs/AWS-BEHAVIOUR.md and the emulator follows AWS); any other difference exits non-zero.
// Run: node --import tsx scripts/moto-fidelity.ts   (moto is always stopped, also on failure)
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import {
  BatchGetSecretValueCommand,
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { AwsEmulator } from '../emulator/index.ts';
import { SERVICE_NAME_TAG, USER_NAME_TAG } from '../lambda/contract.ts';

export interface KnownDeviation {
  /** The case name(s) in STEPS this deviation explains. */
  readonly cases: readonly string[];
  readonly moto: string;
  readonly aws: string;
  /** Which side the emulator follows. */
  readonly emulator: 'aws' | 'moto';
  /** Confirms the difference is this one and nothing else (normalised JSON of each answer). */
  readonly confirm: (moto: string, emulator: string) => boolean;
}

const as400 = (moto: string): string => moto.replace('"status":404', '"status":400');
/** Drops label-less versions from a VersionIdsToStages map or a [[id, stages]] list. */
function withoutLabelless(json: string): string {
  const v = JSON.parse(json) as unknown;
  if (Array.isArray(v))
    return JSON.stringify(
      v.filter((x) => (x as unknown[])[1] && ((x as unknown[])[1] as unknown[]).length > 0),
    );
  return JSON.stringify(
    Object.fromEntries(Object.entries(v as Record<string, unknown[]>).filter(([, st]) => st.length > 0)),
  );
}
const carriesCurrent = (json: string): boolean => /"AWSCURRENT"/.test(json);

/** Cases where moto and AWS (docs/AWS-BEHAVIOUR.md) disagree, and which side the emulator follows. */
export const KNOWN_MOTO_DEVIATIONS: readonly KnownDeviation[] = [
  {
    cases: [
      'GetSecretValue unknown secret',
      'DescribeSecret unknown secret',
      'PutSecretValue unknown secret',
      'DeleteSecret force then DescribeSecret',
      'GetSecretValue of a secret without value',
    ],
    moto: 'ResourceNotFoundException with HTTP 404',
    aws: 'ResourceNotFoundException with HTTP 400 (Secrets Manager errors are 400)',
    emulator: 'aws',
    confirm: (m, e) => m.includes('"status":404') && as400(m) === e,
  },
  {
    cases: ['GetSecretValue missing AWSPREVIOUS'],
    moto: 'HTTP 404, message "Secrets Manager can\'t find the specified secret."',
    aws: 'HTTP 400, message "Secrets Manager can\'t find the specified secret value for staging label: AWSPREVIOUS" (no such version)',
    emulator: 'aws',
    confirm: (m, e) =>
      m.includes('"status":404') && e.includes('"status":400') && e.includes('staging label: AWSPREVIOUS'),
  },
  {
    cases: [
      'DescribeSecret labels after two Puts',
      'ListSecretVersionIds (label-less version)',
      'DescribeSecret labels after UpdateSecretVersionStage',
    ],
    moto: 'keeps versions without staging labels visible (VersionIdsToStages: [], ListSecretVersionIds without IncludeDeprecated)',
    aws: 'a version without labels is deprecated: left out of VersionIdsToStages and of ListSecretVersionIds unless IncludeDeprecated',
    emulator: 'aws',
    confirm: (m, e) => withoutLabelless(m) === e,
  },
  {
    cases: [
      'GetSecretValue AWSCURRENT after UpdateSecretVersionStage',
      'BatchGetSecretValue by ids',
      'GetSecretValue after RestoreSecret',
    ],
    moto: 'after UpdateSecretVersionStage moved AWSCURRENT, GetSecretValue/BatchGetSecretValue without a stage still return the old version (now AWSPREVIOUS)',
    aws: 'without VersionId/VersionStage they return the version carrying AWSCURRENT',
    emulator: 'aws',
    confirm: (m, e) =>
      carriesCurrent(e) && !m.includes('"fid/alpha","v4"') && !/"VersionStages":\["AWSCURRENT"/.test(m),
  },
  {
    cases: ['GetSecretValue of a secret marked for deletion'],
    moto: 'InvalidRequestException "You tried to perform the operation on a secret that\'s currently marked deleted."',
    aws: 'InvalidRequestException "You can\'t perform this operation on the secret because it was marked for deletion."',
    emulator: 'aws',
    confirm: (m, e) =>
      m.includes('"error":"InvalidRequestException"') &&
      e.includes('"error":"InvalidRequestException"') &&
      e.includes('because it was marked for deletion.'),
  },
  {
    cases: ['PutSecretValue on a secret marked for deletion'],
    moto: 'accepts the Put and stores a new AWSCURRENT version',
    aws: 'refuses it: InvalidRequestException "You can\'t perform this operation on the secret because it was marked for deletion."',
    emulator: 'aws',
    confirm: (m, e) => !m.includes('"error"') && e.includes('"error":"InvalidRequestException"'),
  },
  {
    cases: ['RotateSecret without a rotation function'],
    moto: 'rotates the secret itself (AWSCURRENT moves to a new version), as its own code comment says AWS would not',
    aws: 'InvalidRequestException "You tried to enable rotation on a secret that doesn\'t already have a Lambda function ARN configured and you didn\'t include such an ARN as a parameter in this call." (the documented cause of InvalidRequestException)',
    emulator: 'aws',
    confirm: (m, e) =>
      !m.includes('"error"') && e.includes("doesn't already have a Lambda function ARN configured"),
  },
  {
    cases: ['RotateSecret while AWSPENDING is on another version'],
    moto: 'checks the rule inverted (refuses only when AWSPENDING is on the AWSCURRENT version), then fails looking the function up in its own Lambda (404)',
    aws: 'InvalidRequestException 400 "A previous rotation isn\'t complete. That rotation will be reattempted." while AWSPENDING is on a version other than AWSCURRENT',
    emulator: 'aws',
    confirm: (m, e) =>
      m.includes('Resource not found for ARN') && e.includes("A previous rotation isn't complete"),
  },
  {
    cases: ['CancelRotateSecret of a secret never rotated'],
    moto: 'the same refusal, with a space missing ("configuredand")',
    aws: 'InvalidRequestException with the documented wording "...Lambda function ARN configured and you didn\'t include..." [U: that Cancel refuses here at all rests on moto, which cites the API reference]',
    emulator: 'aws',
    confirm: (m, e) => m.replace('configuredand', 'configured and') === e,
  },
];

export interface CaseResult {
  readonly name: string;
  readonly moto: string;
  readonly emulator: string;
  readonly verdict: 'agree' | 'known deviation' | 'DIFFER';
}

const T = (n: number): string => `0000000${n}-1111-4222-8333-444444444444`.slice(-36);
const TAGS = [
  { Key: USER_NAME_TAG, Value: 'alice' },
  { Key: SERVICE_NAME_TAG, Value: 'cassandra.amazonaws.com' },
];

type Step = [
  name: string,
  call: (sm: SecretsManagerClient) => Promise<unknown>,
  pick?: (out: any) => unknown,
];

const describeFields = (o: any) => ({
  Name: o.Name,
  ARN: o.ARN,
  Tags: o.Tags,
  VersionIdsToStages: o.VersionIdsToStages,
  DeletedDate: o.DeletedDate,
});
const names = (o: any) => (o.SecretList ?? []).map((s: any) => s.Name).sort();
const rotationFields = (o: any) => ({
  RotationEnabled: o.RotationEnabled,
  RotationLambdaARN: o.RotationLambdaARN,
  RotationRules: o.RotationRules,
  LastRotatedDate: o.LastRotatedDate,
  NextRotationDate: o.NextRotationDate,
});
/** A Lambda function neither backend has: moto looks it up, the emulator only records it. */
const ROTATION_FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:fid-rotator';

/** The sequence; each step runs on a client of one backend, in order, with shared state. */
export const STEPS: Step[] = [
  [
    'CreateSecret with tags and token',
    (sm) =>
      sm.send(
        new CreateSecretCommand({
          Name: 'fid/alpha',
          SecretString: 'v1',
          ClientRequestToken: T(1),
          Tags: TAGS,
        }),
      ),
  ],
  [
    'CreateSecret without value',
    (sm) =>
      sm.send(
        new CreateSecretCommand({
          Name: 'fid/empty',
          Tags: [{ Key: USER_NAME_TAG, Value: 'bob' }],
        }),
      ),
  ],
  [
    'CreateSecret plain',
    (sm) =>
      sm.send(new CreateSecretCommand({ Name: 'other/plain', SecretString: 'p', ClientRequestToken: T(9) })),
  ],
  [
    'CreateSecret name taken',
    (sm) => sm.send(new CreateSecretCommand({ Name: 'fid/alpha', SecretString: 'x' })),
  ],
  ['DescribeSecret', (sm) => sm.send(new DescribeSecretCommand({ SecretId: 'fid/alpha' })), describeFields],
  ['GetSecretValue AWSCURRENT', (sm) => sm.send(new GetSecretValueCommand({ SecretId: 'fid/alpha' }))],
  [
    'GetSecretValue missing AWSPREVIOUS',
    (sm) => sm.send(new GetSecretValueCommand({ SecretId: 'fid/alpha', VersionStage: 'AWSPREVIOUS' })),
  ],
  [
    'GetSecretValue of a secret without value',
    (sm) => sm.send(new GetSecretValueCommand({ SecretId: 'fid/empty' })),
  ],
  [
    'PutSecretValue moves AWSCURRENT',
    (sm) =>
      sm.send(
        new PutSecretValueCommand({ SecretId: 'fid/alpha', SecretString: 'v2', ClientRequestToken: T(2) }),
      ),
  ],
  [
    'GetSecretValue AWSPREVIOUS after Put',
    (sm) => sm.send(new GetSecretValueCommand({ SecretId: 'fid/alpha', VersionStage: 'AWSPREVIOUS' })),
  ],
  [
    'PutSecretValue third version',
    (sm) =>
      sm.send(
        new PutSecretValueCommand({ SecretId: 'fid/alpha', SecretString: 'v3', ClientRequestToken: T(3) }),
      ),
  ],
  [
    'DescribeSecret labels after two Puts',
    (sm) => sm.send(new DescribeSecretCommand({ SecretId: 'fid/alpha' })),
    (o) => o.VersionIdsToStages,
  ],
  [
    'ListSecretVersionIds (label-less version)',
    (sm) => sm.send(new ListSecretVersionIdsCommand({ SecretId: 'fid/alpha' })),
    (o) => (o.Versions ?? []).map((v: any) => [v.VersionId, v.VersionStages]).sort(),
  ],
  [
    'ListSecretVersionIds IncludeDeprecated',
    (sm) => sm.send(new ListSecretVersionIdsCommand({ SecretId: 'fid/alpha', IncludeDeprecated: true })),
    (o) => (o.Versions ?? []).map((v: any) => [v.VersionId, v.VersionStages]).sort(),
  ],
  [
    'PutSecretValue same token same value (no-op)',
    (sm) =>
      sm.send(
        new PutSecretValueCommand({ SecretId: 'fid/alpha', SecretString: 'v3', ClientRequestToken: T(3) }),
      ),
  ],
  [
    'PutSecretValue same token other value',
    (sm) =>
      sm.send(
        new PutSecretValueCommand({ SecretId: 'fid/alpha', SecretString: 'other', ClientRequestToken: T(3) }),
      ),
  ],
  [
    'PutSecretValue AWSPENDING',
    (sm) =>
      sm.send(
        new PutSecretValueCommand({
          SecretId: 'fid/alpha',
          SecretString: 'v4',
          ClientRequestToken: T(4),
          VersionStages: ['AWSPENDING'],
        }),
      ),
  ],
  [
    'GetSecretValue AWSCURRENT after AWSPENDING',
    (sm) => sm.send(new GetSecretValueCommand({ SecretId: 'fid/alpha' })),
  ],
  [
    'GetSecretValue AWSPENDING',
    (sm) => sm.send(new GetSecretValueCommand({ SecretId: 'fid/alpha', VersionStage: 'AWSPENDING' })),
  ],
  [
    'UpdateSecretVersionStage without RemoveFromVersionId',
    (sm) =>
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'fid/alpha',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: T(4),
        }),
      ),
  ],
  [
    'UpdateSecretVersionStage move AWSCURRENT',
    (sm) =>
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'fid/alpha',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: T(4),
          RemoveFromVersionId: T(3),
        }),
      ),
  ],
  [
    'DescribeSecret labels after UpdateSecretVersionStage',
    (sm) => sm.send(new DescribeSecretCommand({ SecretId: 'fid/alpha' })),
    (o) => o.VersionIdsToStages,
  ],
  [
    'GetSecretValue AWSCURRENT after UpdateSecretVersionStage',
    (sm) => sm.send(new GetSecretValueCommand({ SecretId: 'fid/alpha' })),
  ],
  [
    'GetSecretValue AWSPREVIOUS after UpdateSecretVersionStage',
    (sm) => sm.send(new GetSecretValueCommand({ SecretId: 'fid/alpha', VersionStage: 'AWSPREVIOUS' })),
  ],
  [
    'ListSecrets tag-key filter',
    (sm) => sm.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-key', Values: [USER_NAME_TAG] }] })),
    names,
  ],
  [
    'ListSecrets tag-value filter',
    (sm) => sm.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-value', Values: ['bob'] }] })),
    names,
  ],
  [
    'ListSecrets name prefix filter',
    (sm) => sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['fid/'] }] })),
    names,
  ],
  [
    'ListSecrets returns tags',
    (sm) => sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['fid/alpha'] }] })),
    (o) => (o.SecretList ?? []).map((s: any) => s.Tags),
  ],
  [
    'ListSecrets MaxResults 1 pages',
    async (sm) => {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await sm.send(new ListSecretsCommand({ MaxResults: 1, NextToken: token }));
        seen.push(...(page.SecretList ?? []).map((s) => s.Name ?? ''));
        token = page.NextToken;
        pages++;
      } while (token && pages < 10);
      return { pages, names: seen.sort() };
    },
  ],
  [
    'BatchGetSecretValue by ids',
    (sm) =>
      sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['fid/alpha', 'other/plain', 'fid/missing'] })),
    (o) => ({
      values: (o.SecretValues ?? []).map((v: any) => [v.Name, v.SecretString, v.VersionStages]).sort(),
      errors: (o.Errors ?? []).map((e: any) => [e.SecretId, e.ErrorCode]),
    }),
  ],
  [
    'BatchGetSecretValue by filter',
    (sm) => sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['other/'] }] })),
    (o) => (o.SecretValues ?? []).map((v: any) => [v.Name, v.SecretString]).sort(),
  ],
  [
    'TagResource then DescribeSecret',
    async (sm) => {
      await sm.send(new TagResourceCommand({ SecretId: 'other/plain', Tags: [{ Key: 'team', Value: 'x' }] }));
      return sm.send(new DescribeSecretCommand({ SecretId: 'other/plain' }));
    },
    (o) => o.Tags,
  ],
  [
    'DeleteSecret with recovery window',
    (sm) => sm.send(new DeleteSecretCommand({ SecretId: 'fid/alpha', RecoveryWindowInDays: 7 })),
    (o) => ({ Name: o.Name, ARN: o.ARN, hasDeletionDate: o.DeletionDate instanceof Date }),
  ],
  [
    'GetSecretValue of a secret marked for deletion',
    (sm) => sm.send(new GetSecretValueCommand({ SecretId: 'fid/alpha' })),
  ],
  [
    'PutSecretValue on a secret marked for deletion',
    async (sm) => {
      // A secret of its own, so that moto accepting the Put does not change later cases.
      await sm.send(
        new CreateSecretCommand({ Name: 'doomed', SecretString: 'd1', ClientRequestToken: T(7) }),
      );
      await sm.send(new DeleteSecretCommand({ SecretId: 'doomed', RecoveryWindowInDays: 7 }));
      return sm.send(
        new PutSecretValueCommand({ SecretId: 'doomed', SecretString: 'x', ClientRequestToken: T(5) }),
      );
    },
  ],
  [
    'DescribeSecret of a secret marked for deletion',
    (sm) => sm.send(new DescribeSecretCommand({ SecretId: 'fid/alpha' })),
    (o) => ({ Name: o.Name, hasDeletedDate: o.DeletedDate instanceof Date }),
  ],
  ['ListSecrets hides secrets marked for deletion', (sm) => sm.send(new ListSecretsCommand({})), names],
  [
    'ListSecrets IncludePlannedDeletion',
    (sm) => sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true })),
    names,
  ],
  ['RestoreSecret', (sm) => sm.send(new RestoreSecretCommand({ SecretId: 'fid/alpha' }))],
  [
    'GetSecretValue after RestoreSecret',
    (sm) => sm.send(new GetSecretValueCommand({ SecretId: 'fid/alpha' })),
  ],
  ['GetSecretValue unknown secret', (sm) => sm.send(new GetSecretValueCommand({ SecretId: 'fid/nope' }))],
  ['DescribeSecret unknown secret', (sm) => sm.send(new DescribeSecretCommand({ SecretId: 'fid/nope' }))],
  [
    'PutSecretValue unknown secret',
    (sm) =>
      sm.send(
        new PutSecretValueCommand({ SecretId: 'fid/nope', SecretString: 'x', ClientRequestToken: T(6) }),
      ),
  ],
  // Rotation. moto runs a RotateSecret without a function itself and looks the function up
  // in its own Lambda, so only the answers before any step runs can be compared.
  [
    'CreateSecret for rotation',
    (sm) =>
      sm.send(new CreateSecretCommand({ Name: 'fid/rot', SecretString: 'r1', ClientRequestToken: T(3) })),
  ],
  [
    'DescribeSecret rotation fields before any rotation',
    (sm) => sm.send(new DescribeSecretCommand({ SecretId: 'fid/rot' })),
    rotationFields,
  ],
  [
    'RotateSecret AutomaticallyAfterDays out of range',
    (sm) =>
      sm.send(
        new RotateSecretCommand({
          SecretId: 'fid/rot',
          RotationLambdaARN: ROTATION_FUNCTION,
          RotationRules: { AutomaticallyAfterDays: 1001 },
        }),
      ),
  ],
  [
    'CancelRotateSecret of a secret never rotated',
    (sm) => sm.send(new CancelRotateSecretCommand({ SecretId: 'fid/rot' })),
  ],
  [
    'RotateSecret without a rotation function',
    (sm) => sm.send(new RotateSecretCommand({ SecretId: 'fid/rot', ClientRequestToken: T(4) })),
  ],
  [
    'RotateSecret while AWSPENDING is on another version',
    async (sm) => {
      await sm.send(
        new PutSecretValueCommand({
          SecretId: 'fid/empty',
          SecretString: 'e1',
          ClientRequestToken: T(7),
        }),
      );
      await sm.send(
        new PutSecretValueCommand({
          SecretId: 'fid/empty',
          SecretString: 'e2',
          ClientRequestToken: T(8),
          VersionStages: ['AWSPENDING'],
        }),
      );
      return sm.send(
        new RotateSecretCommand({ SecretId: 'fid/empty', RotationLambdaARN: ROTATION_FUNCTION }),
      );
    },
  ],
  [
    'DeleteSecret force then DescribeSecret',
    async (sm) => {
      await sm.send(new DeleteSecretCommand({ SecretId: 'other/plain', ForceDeleteWithoutRecovery: true }));
      return sm.send(new DescribeSecretCommand({ SecretId: 'other/plain' }));
    },
  ],
];

/** Replaces what legitimately differs between two backends. */
function normalise(value: unknown): unknown {
  if (value instanceof Date) return '<date>';
  if (typeof value === 'string') {
    return value
      .replace(
        /(arn:aws:secretsmanager:[^:]+:\d{12}:secret:[^\s"]+?)-[A-Za-z0-9]{6}(?=$|[\s".,])/g,
        '$1-XXXXXX',
      )
      .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, (id) =>
        /^0{7}\d-1111-4222-8333-444444444444$/.test(id) ? id : '<uuid>',
      );
  }
  if (Array.isArray(value)) {
    const items = value.map(normalise);
    // Staging label lists are sets.
    return items.every((i) => typeof i === 'string') ? [...items].sort() : items;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      if (key === '$metadata') continue;
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalise(v);
    }
    return out;
  }
  return value;
}

async function outcome(step: Step, sm: SecretsManagerClient): Promise<string> {
  try {
    const out = await step[1](sm);
    return JSON.stringify(normalise(step[2] ? step[2](out) : out));
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return JSON.stringify(
      normalise({ error: err.name, status: err.$metadata?.httpStatusCode, message: err.message }),
    );
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function startMoto(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${url}/moto-api/`);
      if (res.status < 500) return { url, child };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`moto did not answer within 30 s: ${stderr}`);
}

function client(endpoint: string): SecretsManagerClient {
  return new SecretsManagerClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

/** Runs every step against moto and the emulator; always stops moto. */
export async function runFidelity(): Promise<CaseResult[]> {
  const moto = await startMoto();
  const emulator = new AwsEmulator();
  const server = await emulator.listen();
  const motoClient = client(moto.url);
  const emuClient = client(server.url);
  try {
    const results: CaseResult[] = [];
    for (const step of STEPS) {
      const m = await outcome(step, motoClient);
      const e = await outcome(step, emuClient);
      const known = KNOWN_MOTO_DEVIATIONS.some((d) => d.cases.includes(step[0]) && d.confirm(m, e));
      results.push({
        name: step[0],
        moto: m,
        emulator: e,
        verdict: m === e ? 'agree' : known ? 'known deviation' : 'DIFFER',
      });
    }
    return results;
  } finally {
    motoClient.destroy();
    emuClient.destroy();
    await server.close();
    await new Promise<void>((resolve) => {
      if (moto.child.exitCode !== null) return resolve();
      moto.child.once('exit', () => resolve());
      moto.child.kill('SIGTERM');
      setTimeout(() => moto.child.kill('SIGKILL'), 3000).unref();
    });
  }
}

async function main(): Promise<void> {
  const results = await runFidelity();
  const width = Math.max(...results.map((r) => r.name.length));
  for (const r of results) {
    console.log(`${r.name.padEnd(width)}  ${r.verdict}`);
    if (r.verdict !== 'agree') {
      console.log(`    moto:     ${r.moto}`);
      console.log(`    emulator: ${r.emulator}`);
    }
  }
  const count = (v: CaseResult['verdict']) => results.filter((r) => r.verdict === v).length;
  console.log(
    `\n${results.length} cases: ${count('agree')} agree, ${count('known deviation')} known deviations, ${count('DIFFER')} unexpected differences`,
  );
  if (count('DIFFER') > 0) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
