// The declared-targets file: which secret holds which (IAM user, service) pair, as the
// deployment declared it. Tags can be rewritten by anyone allowed to tag the secrets; the
// declaration ships with the function, so it is what decides. One module for the format,
// imported by the function (at cold start) and by the construct (which writes the file).
// A file rather than an environment variable: Lambda's environment holds 4 KB in all, and a
// declaration lists thousands of targets.
import { readFileSync } from 'node:fs';
// zod/mini rather than 'zod': tree-shakable, so less of zod is loaded at cold start (see events.ts).
import * as z from 'zod/mini';
import { DECLARATION_VERSION, type DeclaredTarget } from './contract.ts';
import { ConfigError } from './errors.ts';
import { type NameRule, SECRET_NAME, SERVICE_NAME, USER_NAME } from './naming.ts';
import { validateServiceName } from './rotation/services.ts';
import { VERIFICATION_MODES, type VerificationMode } from './rotation/verification.ts';

/** Environment variable holding the path of the declaration file (optional). */
export const DECLARED_TARGETS_FILE_ENV = 'DECLARED_TARGETS_FILE';

// The file's format (version, entry shape, serialisation) lives in contract.ts, which the
// construct imports without this module's dependencies; re-exported for the function's side.
export {
  DECLARATION_VERSION,
  type Declaration,
  type DeclaredTarget,
  serializeDeclaration,
} from './contract.ts';

/** A validated declaration, indexed both ways for discovery and manual commands. */
export interface DeclaredTargets {
  readonly bySecretName: ReadonlyMap<string, DeclaredTarget>;
  readonly byPair: ReadonlyMap<string, DeclaredTarget>;
  /**
   * With a deploying stack (DEPLOYMENT_STACK_ID): for each declared secret that has a
   * `logicalId`, the ARN that stack created for it, or undefined when the stack has no secret
   * under that logical id (lambda/deployed-secrets.ts). A secret of a declared name with
   * another ARN is a look-alike: never written. Entries without a logical id (opted-in users'
   * secrets, which the function creates) are matched by name. @default none: by name only
   */
  readonly deployedArns?: ReadonlyMap<string, string | undefined> | undefined;
}

/** The key of a (user, service) pair in `byPair`. */
export function pairKey(userName: string, serviceName: string): string {
  return `${userName}\u0000${serviceName}`;
}

// The names CodeCommit and CloudWatch Logs accept.
const REPOSITORY_NAME = /^[\w.-]{1,100}$/;
const LOG_GROUP_NAME = /^[\w./#-]{1,512}$/;
const LOG_STREAM_NAME = /^[^:*]{1,512}$/;
// CloudFormation's logical ids: alphanumeric, at most 255 characters.
const LOGICAL_ID = /^[A-Za-z0-9]{1,255}$/;

const field = (pattern: RegExp, expected: string) =>
  z.string({ error: `must be ${expected}` }).check(z.regex(pattern, { error: `must be ${expected}` }));

/** A name under one of the shared naming rules (naming.ts): the construct checked the same. */
const named = (rule: NameRule) =>
  z
    .string({ error: `must be ${rule.expected}` })
    .check(
      z.refine(rule.test, { error: (iss) => `must be ${rule.expected}, got ${JSON.stringify(iss.input)}` }),
    );

const targetSchema = z.strictObject({
  secretName: named(SECRET_NAME),
  userName: named(USER_NAME),
  serviceName: named(SERVICE_NAME),
  allowUnknownService: z.optional(z.boolean({ error: 'must be true or false' })),
  verification: z.optional(
    z.enum(VERIFICATION_MODES as [VerificationMode, ...VerificationMode[]], {
      error: `must be one of ${VERIFICATION_MODES.join(', ')}`,
    }),
  ),
  codeCommitRepository: z.optional(
    field(REPOSITORY_NAME, 'a CodeCommit repository name (1-100 characters of letters, digits and ._-)'),
  ),
  canaryLogGroup: z.optional(
    field(LOG_GROUP_NAME, 'a log group name (1-512 characters of letters, digits and ._-/#)'),
  ),
  canaryLogStream: z.optional(field(LOG_STREAM_NAME, 'a log stream name (1-512 characters, no : or *)')),
  logicalId: z.optional(field(LOGICAL_ID, 'a CloudFormation logical id (1-255 letters and digits)')),
});

const declarationSchema = z.strictObject({
  version: z.literal(DECLARATION_VERSION, { error: `must be ${DECLARATION_VERSION}` }),
  targets: z.array(z.unknown(), { error: 'must be an array of targets' }),
});

const EXPECTED_FORM =
  'expected {"version": 1, "targets": [{"secretName": "...", "userName": "...", "serviceName": "..."}, ...]}';

/**
 * Validates a parsed declaration. Throws a ConfigError naming the first bad entry (by index
 * and secret name), a duplicate secret name or a duplicate (user, service) pair: two secrets
 * for one pair would fight over the same two IAM credential slots.
 */
export function parseDeclaration(input: unknown, source = 'the declared targets'): DeclaredTargets {
  const top = declarationSchema.safeParse(input);
  if (!top.success) {
    const issue = top.error.issues[0];
    const at = issue?.path.length ? `"${issue.path.join('.')}" ` : '';
    throw new ConfigError(`${source}: ${at}${issue?.message ?? 'invalid'}; ${EXPECTED_FORM}`);
  }
  const bySecretName = new Map<string, DeclaredTarget>();
  const byPair = new Map<string, DeclaredTarget>();
  top.data.targets.forEach((entry, i) => {
    const name =
      typeof entry === 'object' && entry !== null && typeof (entry as DeclaredTarget).secretName === 'string'
        ? ` (secret ${JSON.stringify((entry as DeclaredTarget).secretName.slice(0, 80))})`
        : '';
    const where = `${source}: targets[${i}]${name}`;
    const parsed = targetSchema.safeParse(entry);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown field(s) ${issue.keys.join(', ')}; allowed: ${Object.keys(targetSchema.shape).join(', ')}`
          : `${issue.path.join('.') || 'entry'} ${issue.message}`,
      );
      throw new ConfigError(`${where}: ${problems.join('; ')}`);
    }
    const target = parsed.data;
    validateServiceName(target.serviceName, { allowUnknownService: target.allowUnknownService, where });
    const other = bySecretName.get(target.secretName);
    if (other) {
      throw new ConfigError(
        `${where}: secret ${target.secretName} is declared twice; a secret holds one pair`,
      );
    }
    const key = pairKey(target.userName, target.serviceName);
    const sameAs = byPair.get(key);
    if (sameAs) {
      throw new ConfigError(
        `${where}: ${target.userName}/${target.serviceName} is already declared for secret ${sameAs.secretName}; ` +
          "exactly one secret may hold a user's credential for a service",
      );
    }
    bySecretName.set(target.secretName, target);
    byPair.set(key, target);
  });
  return { bySecretName, byPair };
}

/** Reads and validates the declaration file (at cold start). */
export function loadDeclaration(path: string): DeclaredTargets {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigError(
      `${DECLARED_TARGETS_FILE_ENV}: cannot read ${path} (${typeof code === 'string' ? code : 'read error'}); expected the declared-targets file the deployment ships`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the file; the file holds no secret, but keep errors short.
    throw new ConfigError(`${path} is not valid JSON; ${EXPECTED_FORM}`);
  }
  return parseDeclaration(json, path);
}
