// The events the handler accepts, parsed into a Command. An event is either an EventBridge
// schedule (rule or Scheduler) or an operator's command typed into the Lambda console. The
// command forms are strict: a typo such as "dryrun" must be rejected, never ignored, or a
// planned dry run would rotate for real. Every rejection says what was wrong and lists the
// accepted forms; it quotes at most a short, truncated piece of the event.
// zod/mini, not 'zod': the same schemas and messages through a tree-shakable API. The classic
// entry put ~70 KB more zod in the bundle and ~20 ms on the cold start (bench/coldstart.ts).
import * as z from 'zod/mini';
import { InvalidEventError } from './errors.ts';
import { type NameRule, SECRET_NAME, SERVICE_NAME, USER_NAME } from './naming.ts';
import { type Command, ROTATION_STEPS, type TargetRef } from './rotation/commands.ts';

/** Events larger than this (serialized JSON, UTF-8 bytes) are rejected unread. */
export const MAX_EVENT_BYTES = 8 * 1024;

/** What an InvalidEventError lists after the problem. */
export const ACCEPTED_EVENTS = [
  'Accepted events:',
  '- an EventBridge schedule: a rule\'s "Scheduled Event" (source aws.events) or EventBridge Scheduler\'s default payload (source aws.scheduler)',
  '- {"action": "reconcile"}',
  '- {"action": "rotate", "secretId": "<secret name or ARN>"} or {"action": "rotate", "userName": "<IAM user>", "serviceName": "<service>.amazonaws.com"}, optionally with "force": true',
  '- {"action": "rollback", "secretId": "<secret name or ARN>"} (or "userName" and "serviceName"): make the previous credential current again',
  '- {"action": "revoke", "secretId": "<secret name or ARN>"} (or "userName" and "serviceName"), optionally with "credentialId": "<id>" (default: the current one) and "delete": true',
  '- {"action": "status"}, optionally with "secretId", or "userName" and "serviceName"',
  '- any command above with "dryRun": true (plan and report, change nothing)',
  '- a Secrets Manager rotation step: {"Step": "createSecret" | "setSecret" | "testSecret" | "finishSecret", "SecretId": "<secret ARN>", "ClientRequestToken": "<32-64 characters>"}, optionally with "RotationToken"',
].join('\n');

// User, service and secret names follow naming.ts, the rules the construct checks too.
// Secrets Manager: a name or a full ARN; SecretId is at most 2048.
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/;
const MAX_SECRET_ID = 2048;

// IAM's ServiceSpecificCredentialId: 20-128 word characters.
const CREDENTIAL_ID: NameRule = {
  test: (v) => /^\w{20,128}$/.test(v),
  expected: 'an IAM service-specific credential id (20-128 letters and digits, as "status" lists them)',
};

const ACTIONS = ['reconcile', 'rotate', 'rollback', 'revoke', 'status'] as const;
/** The fields Secrets Manager sends a rotation function (RotationToken only across accounts). */
const STEP_KEYS = ['Step', 'SecretId', 'ClientRequestToken', 'RotationToken'] as const;
// ClientRequestToken: 32-64 characters (Secrets Manager's bound); the SDK sends a UUID.
const CLIENT_REQUEST_TOKEN = /^[\w-]{32,64}$/;
const MAX_ROTATION_TOKEN = 4096;
const TARGET_KEYS = ['secretId', 'userName', 'serviceName'] as const;
/** Keys of the command forms; on a scheduled event they mean someone mixed the two up. */
const COMMAND_KEYS = ['action', 'dryRun', 'force', 'credentialId', 'delete', ...TARGET_KEYS] as const;

/** A short, safe rendering of a value for an error message (never the whole of a big one). */
export function quote(value: unknown, max = 60): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > max ? `${text.slice(0, max)}...(${text.length} chars)` : text;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'no event (undefined)';
  if (Array.isArray(value)) return `an array ${quote(value)}`;
  return `${typeof value === 'object' ? 'an' : 'a'} ${typeof value} ${quote(value)}`;
}

/**
 * Builds a schema on its first use rather than at import: a scheduled run, the common one,
 * needs only the scheduled-event schema, and building the command schemas it never uses
 * costs cold-start time.
 */
function lazily<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => {
    built ??= build();
    return built;
  };
}

const flag = (name: string) =>
  z.optional(z.boolean({ error: (iss) => `"${name}" must be true or false, got ${quote(iss.input)}` }));

const text = (name: string, rule: NameRule) =>
  z.optional(
    z.string({ error: (iss) => `"${name}" must be a string, got ${quote(iss.input)}` }).check((ctx) => {
      if (!rule.test(ctx.value)) {
        ctx.issues.push({
          code: 'custom',
          input: ctx.value,
          message: `"${name}" must be ${rule.expected}, got ${quote(ctx.value)}`,
        });
      }
    }),
  );

/** A secret's name or ARN under the field `name`; `expected` says what it must be. */
const secretIdField = (name: string, expected: string) =>
  z.string({ error: (iss) => `"${name}" must be a string, got ${quote(iss.input)}` }).check((ctx) => {
    const v = ctx.value;
    const valid =
      v.length <= MAX_SECRET_ID && (v.startsWith('arn:') ? SECRET_ARN.test(v) : SECRET_NAME.test(v));
    if (!valid) {
      ctx.issues.push({
        code: 'custom',
        input: v,
        message: `"${name}" must be ${expected}, got ${quote(v)}`,
      });
    }
  });

const targetFields = () => ({
  secretId: z.optional(
    secretIdField(
      'secretId',
      'a secret name (1-512 characters of letters, digits and /_+=.@-) or a Secrets Manager secret ARN',
    ),
  ),
  userName: text('userName', USER_NAME),
  serviceName: text('serviceName', SERVICE_NAME),
});

const unknownKeys = (allowed: readonly string[]) => (iss: { code?: string; keys?: string[] }) => {
  if (iss.code !== 'unrecognized_keys' || !iss.keys) return undefined;
  const shown = iss.keys.slice(0, 5).map((k) => {
    const near = allowed.find((a) => a.toLowerCase() === k.toLowerCase());
    return near ? `${quote(k, 40)} (did you mean "${near}"?)` : quote(k, 40);
  });
  const more = iss.keys.length > shown.length ? ` and ${iss.keys.length - shown.length} more` : '';
  return `unknown field(s) ${shown.join(', ')}${more}; allowed here: ${allowed.map((a) => `"${a}"`).join(', ')}`;
};

const reconcileSchema = lazily(() =>
  z.strictObject(
    { action: z.literal('reconcile'), dryRun: flag('dryRun') },
    { error: unknownKeys(['action', 'dryRun']) },
  ),
);
const rotateSchema = lazily(() =>
  z.strictObject(
    { action: z.literal('rotate'), ...targetFields(), force: flag('force'), dryRun: flag('dryRun') },
    { error: unknownKeys(['action', ...TARGET_KEYS, 'force', 'dryRun']) },
  ),
);
const rollbackSchema = lazily(() =>
  z.strictObject(
    { action: z.literal('rollback'), ...targetFields(), dryRun: flag('dryRun') },
    { error: unknownKeys(['action', ...TARGET_KEYS, 'dryRun']) },
  ),
);
const revokeSchema = lazily(() =>
  z.strictObject(
    {
      action: z.literal('revoke'),
      ...targetFields(),
      credentialId: text('credentialId', CREDENTIAL_ID),
      delete: flag('delete'),
      dryRun: flag('dryRun'),
    },
    { error: unknownKeys(['action', ...TARGET_KEYS, 'credentialId', 'delete', 'dryRun']) },
  ),
);
// Status changes nothing, so "dryRun" is accepted (either value) and means nothing more.
const statusSchema = lazily(() =>
  z.strictObject(
    { action: z.literal('status'), ...targetFields(), dryRun: flag('dryRun') },
    { error: unknownKeys(['action', ...TARGET_KEYS, 'dryRun']) },
  ),
);

// The envelope is AWS's, not ours: unknown envelope fields (e.g. "replay-name" on an archive
// replay) are allowed, but the schedule itself must be the plain one.
const scheduledSchema = lazily(() =>
  z.looseObject({
    'detail-type': z.literal('Scheduled Event', {
      error: (iss) => `"detail-type" must be "Scheduled Event", got ${quote(iss.input)}`,
    }),
    source: z.enum(['aws.events', 'aws.scheduler'], {
      error: (iss) => `"source" must be "aws.events" or "aws.scheduler", got ${quote(iss.input)}`,
    }),
    detail: z.unknown(),
  }),
);

function isEmptyDetail(detail: unknown): boolean {
  // A rule sends {}; EventBridge Scheduler's default payload sends the string "{}".
  let value = detail;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return false;
    }
  }
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0
  );
}

function reject(problems: readonly string[]): never {
  throw new InvalidEventError(`invalid event: ${problems.join('; ')}.\n${ACCEPTED_EVENTS}`);
}

function issuesOf(error: z.core.$ZodError): string[] {
  return error.issues.map((i) => i.message);
}

function parseScheduled(event: Record<string, unknown>): Command {
  const problems: string[] = [];
  const parsed = scheduledSchema().safeParse(event);
  if (!parsed.success) problems.push(...issuesOf(parsed.error));
  else if (!isEmptyDetail(parsed.data.detail)) {
    problems.push(`a scheduled event's "detail" must be {} or "{}", got ${quote(parsed.data.detail)}`);
  }
  const mixed = COMMAND_KEYS.filter((k) => Object.hasOwn(event, k));
  if (mixed.length > 0) {
    problems.push(
      `a scheduled event cannot carry command fields (${mixed.map((k) => `"${k}"`).join(', ')}); ` +
        'send a command event instead',
    );
  }
  if (problems.length > 0) reject(problems);
  return { action: 'reconcile', dryRun: false };
}

function targetOf(data: {
  secretId?: string;
  userName?: string;
  serviceName?: string;
}): TargetRef | undefined {
  if (data.secretId !== undefined) return { secretId: data.secretId };
  if (data.userName !== undefined && data.serviceName !== undefined) {
    return { userName: data.userName, serviceName: data.serviceName };
  }
  return undefined;
}

/** Rules about which target fields go together; checked on the raw event so they always report. */
/**
 * The fields of a command that names one target (rotate, rollback, revoke): the schema's data
 * and the target, or a rejection listing every problem found so far and now.
 */
function parseTargeted<D extends Parameters<typeof targetOf>[0]>(
  event: Record<string, unknown>,
  action: (typeof ACTIONS)[number],
  schema: {
    safeParse(value: unknown): { success: true; data: D } | { success: false; error: z.core.$ZodError };
  },
  rest: Record<string, unknown>,
  problems: string[],
): { data: D; target: TargetRef } {
  problems.push(...targetProblems(event, action));
  const parsed = schema.safeParse(rest);
  if (!parsed.success) problems.push(...issuesOf(parsed.error));
  const target = parsed.success ? targetOf(parsed.data) : undefined;
  if (problems.length > 0 || !parsed.success || !target) reject(problems);
  return { data: parsed.data, target };
}

function targetProblems(event: Record<string, unknown>, action: (typeof ACTIONS)[number]): string[] {
  const has = (k: string) => Object.hasOwn(event, k);
  if (has('secretId') && (has('userName') || has('serviceName'))) {
    return ['give either "secretId" or "userName" and "serviceName", not both'];
  }
  if (has('userName') !== has('serviceName')) {
    return [
      `"${has('userName') ? 'userName' : 'serviceName'}" needs "${has('userName') ? 'serviceName' : 'userName'}" too`,
    ];
  }
  if (action !== 'status' && !has('secretId') && !has('userName')) {
    return [`"${action}" needs a target: "secretId", or "userName" and "serviceName"`];
  }
  return [];
}

function parseCommand(event: Record<string, unknown>): Command {
  const action = event.action;
  if (!Object.hasOwn(event, 'action')) reject(['missing "action" (or not a scheduled event)']);
  if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) {
    reject([`unknown action ${quote(action)}; expected one of ${ACTIONS.map((a) => `"${a}"`).join(', ')}`]);
  }

  const problems: string[] = [];
  let rest = event;
  if (action !== 'rotate' && Object.hasOwn(event, 'force')) {
    problems.push(`"force" applies only to action "rotate", not "${action}"`);
    const { force: _force, ...others } = event;
    rest = others;
  }
  for (const key of ['credentialId', 'delete'] as const) {
    if (action !== 'revoke' && Object.hasOwn(rest, key)) {
      problems.push(`"${key}" applies only to action "revoke", not "${action}"`);
      const { [key]: _dropped, ...others } = rest;
      rest = others;
    }
  }
  if (action === 'reconcile') {
    const parsed = reconcileSchema().safeParse(rest);
    if (!parsed.success) problems.push(...issuesOf(parsed.error));
    if (problems.length > 0 || !parsed.success) reject(problems);
    return { action: 'reconcile', dryRun: parsed.data.dryRun ?? false };
  }
  if (action === 'rotate') {
    const { data, target } = parseTargeted(event, action, rotateSchema(), rest, problems);
    return { action, target, force: data.force ?? false, dryRun: data.dryRun ?? false };
  }
  if (action === 'rollback') {
    const { data, target } = parseTargeted(event, action, rollbackSchema(), rest, problems);
    return { action, target, dryRun: data.dryRun ?? false };
  }
  if (action === 'revoke') {
    const { data, target } = parseTargeted(event, action, revokeSchema(), rest, problems);
    return {
      action,
      target,
      ...(data.credentialId !== undefined ? { credentialId: data.credentialId } : {}),
      delete: data.delete ?? false,
      dryRun: data.dryRun ?? false,
    };
  }
  problems.push(...targetProblems(event, 'status'));
  const parsed = statusSchema().safeParse(rest);
  if (!parsed.success) problems.push(...issuesOf(parsed.error));
  if (problems.length > 0 || !parsed.success) reject(problems);
  const target = targetOf(parsed.data);
  return target ? { action: 'status', target } : { action: 'status' };
}

const rotationStepSchema = lazily(() =>
  z.strictObject(
    {
      Step: z.enum(ROTATION_STEPS, {
        error: (iss) =>
          `"Step" must be one of ${ROTATION_STEPS.map((s) => `"${s}"`).join(', ')}, got ${quote(iss.input)}`,
      }),
      SecretId: secretIdField('SecretId', 'a Secrets Manager secret ARN (or name)'),
      ClientRequestToken: z
        .string({ error: (iss) => `"ClientRequestToken" must be a string, got ${quote(iss.input)}` })
        .check((ctx) => {
          if (!CLIENT_REQUEST_TOKEN.test(ctx.value)) {
            ctx.issues.push({
              code: 'custom',
              input: ctx.value,
              message: `"ClientRequestToken" must be 32-64 letters, digits, _ or -, got ${quote(ctx.value)}`,
            });
          }
        }),
      // Only checked for shape: it matters to Secrets Manager across accounts, not here.
      RotationToken: z.optional(
        z
          .string({ error: (iss) => `"RotationToken" must be a string, got ${quote(iss.input)}` })
          .check((ctx) => {
            if (ctx.value.length === 0 || ctx.value.length > MAX_ROTATION_TOKEN) {
              ctx.issues.push({
                code: 'custom',
                input: ctx.value,
                message: `"RotationToken" must be 1-${MAX_ROTATION_TOKEN} characters, got ${ctx.value.length}`,
              });
            }
          }),
      ),
    },
    { error: unknownKeys([...STEP_KEYS]) },
  ),
);

function parseRotationStep(event: Record<string, unknown>): Command {
  const mixed = COMMAND_KEYS.filter((k) => Object.hasOwn(event, k));
  const problems: string[] = [];
  if (mixed.length > 0) {
    problems.push(
      `a rotation step cannot carry command fields (${mixed.map((k) => `"${k}"`).join(', ')}); send one or the other`,
    );
  }
  const rest = Object.fromEntries(Object.entries(event).filter(([k]) => !mixed.includes(k as never)));
  const parsed = rotationStepSchema().safeParse(rest);
  if (!parsed.success) problems.push(...issuesOf(parsed.error));
  if (problems.length > 0 || !parsed.success) reject(problems);
  return {
    action: 'rotation-step',
    step: parsed.data.Step,
    secretId: parsed.data.SecretId,
    token: parsed.data.ClientRequestToken,
  };
}

/**
 * Validates an invocation event and turns it into the Command the executor runs.
 * Throws InvalidEventError (nothing touched) for anything but the accepted forms.
 */
export function parseEvent(event: unknown): Command {
  let serialized: string | undefined;
  try {
    serialized = JSON.stringify(event);
  } catch {
    reject(['the event is not JSON (it cannot be serialized)']);
  }
  if (serialized !== undefined) {
    const bytes = Buffer.byteLength(serialized, 'utf8');
    if (bytes > MAX_EVENT_BYTES) {
      reject([`the event is ${bytes} bytes of JSON; at most ${MAX_EVENT_BYTES} bytes (8 KiB) are accepted`]);
    }
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    reject([`the event must be a JSON object, got ${describe(event)}`]);
  }
  const record = event as Record<string, unknown>;
  if (Object.hasOwn(record, 'detail-type') || Object.hasOwn(record, 'source')) return parseScheduled(record);
  if (Object.hasOwn(record, 'Step')) return parseRotationStep(record);
  return parseCommand(record);
}
