// The opt-in step the handler runs before each run when USER_OPT_IN_TAG is set: read which
// users opted in, merge their targets into the deployment's declaration, and (on a reconcile
// that is not a dry run) create the secrets they do not have yet. Status, dry runs and manual
// commands create nothing. A tag that names no known service is logged and skipped. When the
// users cannot be listed (throttling, a denied ListUsers), the run goes on with the
// deployment's own declaration only, so those targets still rotate (and report their own
// failures), and the invocation then fails with OptInFailedError: the opted-in users were not
// rotated, which Lambda's error metric and the alarms see. Their secrets are then reported as
// rejected (not declared) for that run, and nothing is written to them.
import type { OptInPort } from './aws/opt-in.ts';
import type { SecretsPort } from './aws/ports.ts';
import type { DeclaredTargets } from './declared-targets.ts';
import { RotatorError } from './errors.ts';
import { mergeDeclarations, optedInTargets } from './opt-in.ts';
import type { Log } from './rotation/deps.ts';
import { KNOWN_SERVICES } from './rotation/services.ts';

export interface OptInStepDeps {
  readonly optIn: OptInPort;
  readonly secrets: SecretsPort;
  readonly tagKey: string;
  readonly secretNamePrefix: string;
  readonly declared: DeclaredTargets | undefined;
  /** Create the missing secrets (a reconcile that is not a dry run). */
  readonly provision: boolean;
  readonly log: Log;
}

/** The opted-in users could not be read: the run covered the deployment's declaration only. */
export class OptInFailedError extends RotatorError {
  constructor(reason: string) {
    super(`the users that opted in by tag were not read, so they were not rotated: ${reason}`);
  }
}

export interface ResolvedOptIn {
  readonly declared: DeclaredTargets | undefined;
  /** Why the opted-in users could not be read (the run then covers the declaration only). */
  readonly error?: string | undefined;
}

export async function resolveOptIn(deps: OptInStepDeps): Promise<ResolvedOptIn> {
  let users: Awaited<ReturnType<OptInPort['taggedUsers']>>;
  try {
    users = await deps.optIn.taggedUsers(deps.tagKey);
  } catch (error) {
    const reason = (error as Error).message;
    deps.log.error('opted-in users not read', { error: reason });
    return { declared: deps.declared ?? mergeDeclarations(undefined, []), error: reason };
  }
  const { targets, problems } = optedInTargets(
    users,
    deps.secretNamePrefix,
    Object.keys(KNOWN_SERVICES),
    deps.tagKey,
  );
  for (const p of problems) deps.log.warn('opt-in tag refused', { userName: p.userName, reason: p.reason });
  const merged = mergeDeclarations(deps.declared, targets);
  if (!deps.provision) return { declared: merged };
  const existing = new Set((await deps.secrets.listTargetSecrets(deps.secretNamePrefix)).map((s) => s.name));
  for (const t of targets) {
    if (existing.has(t.secretName) || merged.bySecretName.get(t.secretName)?.userName !== t.userName)
      continue;
    try {
      if (await deps.optIn.createTargetSecret(t)) {
        deps.log.info('opt-in secret created', {
          secretName: t.secretName,
          userName: t.userName,
          serviceName: t.serviceName,
        });
      }
    } catch (error) {
      // The run reports the target as a declared secret not found, with what to do.
      deps.log.warn('opt-in secret not created', {
        secretName: t.secretName,
        error: (error as Error).message,
      });
    }
  }
  return { declared: merged };
}
