// What a run reports: a plan rendered for a dry run or a status, and the text of a failure.
// Error text is redacted with every secret the process holds before it goes in (describeError).
import { RotatorError, SecretDeletedError } from '../errors.ts';
import { redactHeld } from '../redact.ts';
import type { Mode } from './deps.ts';
import type { ActionTaken, ObservedTarget, TargetReport } from './model.ts';
import type { Plan } from './plan.ts';

export function reportPlan(
  base: Pick<TargetReport, 'secretId' | 'userName' | 'serviceName'>,
  plan: Plan,
  mode: Mode,
  observed: ObservedTarget,
): TargetReport {
  const planned: ActionTaken[] =
    mode === 'status'
      ? []
      : plan.actions.flatMap((a): ActionTaken[] => {
          const at = 'planned';
          switch (a.type) {
            case 'issue':
              return [
                { type: 'create', credentialId: 'new', at },
                { type: 'store', credentialId: 'new', at },
              ];
            case 'adopt':
              return [
                { type: 'reset', credentialId: a.credentialId, at },
                { type: 'store', credentialId: a.credentialId, at },
              ];
            case 'restore':
              return [{ type: 'store', credentialId: a.credentialId, at }];
            default:
              return [{ type: a.type, credentialId: a.credentialId, at }];
          }
        });
  const pending = plan.actions.length > 0 && plan.outcome !== 'blocked' && plan.outcome !== 'failed';
  const currentId = pending ? recordedId(observed) : plan.currentCredentialId;
  return {
    ...base,
    outcome: pending ? 'planned' : plan.outcome,
    actions: planned,
    currentCredentialId: currentId,
    currentIssuedAt: observed.credentials.find((c) => c.id === currentId)?.createdAt.toISOString(),
    nextDueAt: pending ? undefined : plan.nextDueAt?.toISOString(),
    ...(pending
      ? { reason: `would be ${plan.outcome}${plan.reason ? `: ${plan.reason}` : ''}` }
      : plan.reason
        ? { reason: plan.reason }
        : {}),
    ...(plan.tampering ? { tampering: plan.tampering } : {}),
    ...(mode === 'status'
      ? {
          credentials: observed.credentials.map((c) => ({
            id: c.id,
            status: c.status,
            issuedAt: c.createdAt.toISOString(),
            current: c.id === currentId,
          })),
        }
      : {}),
  };
}

export function recordedId(observed: ObservedTarget): string | undefined {
  try {
    const id = JSON.parse(observed.current?.value ?? '')?.credentialId;
    return observed.credentials.some((c) => c.id === id) ? id : undefined;
  } catch {
    return undefined;
  }
}

export function describeFailure(error: unknown, taken: readonly ActionTaken[]): string {
  const message = describeError(error);
  const created = taken.at(-1);
  if (created && (created.type === 'create' || created.type === 'reset')) {
    return `${message}; credential ${created.credentialId} was issued but not stored: the next run adopts it`;
  }
  if (error instanceof SecretDeletedError) return `${message}; restore the secret to resume rotation`;
  return message;
}

/**
 * Error text for reports and logs. The product's errors are built never to carry a secret; any
 * other error's text is foreign (a library's, Node's) and may quote one, so it is redacted with
 * every secret the process holds (lambda/redact.ts), in every form and piece. The product's
 * own messages go through it too: cheap, and a mistake in one of them is then not a leak.
 */
export function describeError(error: unknown): string {
  if (error instanceof RotatorError) return redactHeld(error.message);
  if (error instanceof Error) return redactHeld(`${error.name}: ${error.message}`);
  return redactHeld(String(error));
}
