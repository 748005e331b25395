// Observation: what IAM and Secrets Manager hold for a target, read afresh on every run
// (the planner's input). Many targets are read in bulk where the ports allow it; a manual
// command's target is read while it is still being looked up.
import type { TargetRef } from './commands.ts';
import type { RunDeps } from './deps.ts';
import type { Credential, CurrentVersion, ObservedTarget, Target } from './model.ts';
import { mayNeedIntent } from './orphans.ts';
import { mayBeTampered } from './tampering.ts';
import { describeError } from './report.ts';
import { findTarget, guessTarget } from './discovery.ts';

/** What bulk observation already knows about a target; the rest is read per target. */
export interface Prefetched {
  readonly current?: { readonly value: CurrentVersion | undefined } | undefined;
  readonly credentials?: Credential[] | undefined;
}

export async function observe(
  target: Target,
  deps: RunDeps,
  prefetched: Prefetched = {},
  withPrevious = false,
): Promise<ObservedTarget> {
  // Independent reads: one round trip, not two (three for a rollback, which needs AWSPREVIOUS).
  const [current, credentials, previous] = await Promise.all([
    prefetched.current ? prefetched.current.value : deps.secrets.readCurrent(target.secretId),
    prefetched.credentials ?? deps.credentials.listCredentials(target.userName, target.serviceName),
    withPrevious ? deps.secrets.readPrevious(target.secretId) : undefined,
  ]);
  const observed: ObservedTarget = { target, current, credentials, ...(previous ? { previous } : {}) };
  // Whether AWSCURRENT was written by someone else is decided from AWSPREVIOUS and the intent
  // (tampering.ts): read only when AWSCURRENT is not a record of a listed credential (rare).
  const suspect = mayBeTampered(observed);
  const [earlier, intent] = await Promise.all([
    suspect && !withPrevious ? deps.secrets.readPrevious(target.secretId) : undefined,
    // The intent's value also matters for an Active credential the secret does not record (rare).
    (suspect && target.intentVersionId !== undefined) || mayNeedIntent(observed)
      ? deps.secrets.readIntent(target.secretId)
      : undefined,
  ]);
  return {
    ...observed,
    ...(earlier ? { previous: earlier } : {}),
    ...(intent ? { intent } : {}),
  };
}

/**
 * One batched secret read per 20 targets instead of one per target, and — when
 * `bulkCredentialListing` is on (it needs IAM List on user/*) — one paged IAM listing per
 * service instead of one per target. What a bulk call cannot answer is read per target.
 */
export async function observeInBulk(
  targets: Target[],
  deps: RunDeps,
): Promise<Map<string, Prefetched> | undefined> {
  const { credentials, secrets } = deps;
  const listAll = deps.bulkCredentialListing ? credentials.listAllCredentials.bind(credentials) : undefined;
  const readMany = secrets.readCurrentMany.bind(secrets);
  const services = [...new Set(targets.map((t) => t.serviceName))];
  const [lists, values] = await Promise.all([
    listAll ? settle(Promise.all(services.map((s) => listAll(s))), deps) : undefined,
    settle(readMany(targets.map((t) => t.secretId)), deps),
  ]);
  const byTarget = new Map<string, Credential[]>();
  if (lists) {
    for (const t of targets) byTarget.set(`${t.userName}\u0000${t.serviceName}`, []);
    for (const c of lists.flat()) byTarget.get(`${c.userName}\u0000${c.serviceName}`)?.push(c);
  }
  const observed = new Map<string, Prefetched>();
  for (const t of targets) {
    const value = values?.get(t.secretId);
    observed.set(t.secretId, {
      // A per-secret error is left to the per-target read, which reports it for that target.
      current:
        values?.has(t.secretId) && !(value instanceof Error)
          ? { value: value as CurrentVersion | undefined }
          : undefined,
      credentials: byTarget.get(`${t.userName}\u0000${t.serviceName}`),
    });
  }
  return observed;
}

/**
 * A manual command names its target by secret or by user and service, and the stack names
 * secrets `<prefix><user>/<service>`: so the secret and the credentials can be read while
 * the target is still being looked up (one round trip instead of two). A guess is only used
 * once the secret's tags confirm it; a wrong guess costs a wasted read, nothing else.
 */
export async function findAndObserve(
  ref: TargetRef,
  deps: RunDeps,
): Promise<{ target: Target; prefetched: Prefetched }> {
  const guess = guessTarget(ref, deps.secretNamePrefix);
  const [target, current, credentials] = await Promise.all([
    findTarget(ref, deps.secrets, deps.secretNamePrefix, deps.declaredTargets),
    guess.secretId ? speculate(deps.secrets.readCurrent(guess.secretId)) : undefined,
    guess.userName && guess.serviceName
      ? speculate(deps.credentials.listCredentials(guess.userName, guess.serviceName))
      : undefined,
  ]);
  const sameSecret = guess.secretId === target.secretId || guess.secretId === target.secretName;
  const sameUser = guess.userName === target.userName && guess.serviceName === target.serviceName;
  return {
    target,
    prefetched: {
      current: current?.ok && sameSecret ? { value: current.value } : undefined,
      credentials: credentials?.ok && sameUser ? credentials.value : undefined,
    },
  };
}

/** A read whose failure is not reported here: the per-target read repeats it and reports. */
async function speculate<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
  try {
    return { ok: true, value: await p };
  } catch {
    return { ok: false };
  }
}

/** A bulk read that failed is not fatal: the per-target reads take over. */
async function settle<T>(p: Promise<T>, deps: RunDeps): Promise<T | undefined> {
  try {
    return await p;
  } catch (error) {
    deps.log.warn('bulk observation failed; observing target by target', { error: describeError(error) });
    return undefined;
  }
}
