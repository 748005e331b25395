// Targets per account without a configuration entry per account: an IAM user opts in with the
// tag `credential-rotator:services`, whose value lists the services whose credentials the
// rotator keeps for it (space-separated, e.g. `cassandra.amazonaws.com codecommit.amazonaws.com`).
// Pure: given the users and their tags, it returns the declared targets they stand for, merged
// with the deployment's own declaration. Those then have every guarantee of declared targets
// (lambda/rotation/targets.ts): a secret whose tags disagree is not written, a tagged secret
// nobody declared is ignored. The trust boundary moves from the deployment to the user tag,
// which an SCP (docs/SECURITY.md, `infra/org/opt-in-scp.json`) lets only the organization's
// administrators set.
import { defaultSecretName, OPT_IN_TAG } from './contract.ts';
import { type DeclaredTarget, type DeclaredTargets, pairKey, parseDeclaration } from './declared-targets.ts';

export { OPT_IN_TAG };

export interface TaggedUser {
  readonly userName: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** A user whose tag could not be read as a list of services: reported, never a target. */
export interface OptInProblem {
  readonly userName: string;
  readonly reason: string;
}

export interface OptIn {
  readonly targets: DeclaredTarget[];
  readonly problems: OptInProblem[];
}

/**
 * The targets the opted-in users stand for, one per (user, service), with the secret name the
 * construct would give it under `prefix`. A service the release does not know is refused for
 * that user (an SCP-fenced tag is still a typo away from a service nobody meant).
 */
export function optedInTargets(
  users: readonly TaggedUser[],
  prefix: string,
  knownServices: readonly string[],
  tagKey: string = OPT_IN_TAG,
): OptIn {
  const targets: DeclaredTarget[] = [];
  const problems: OptInProblem[] = [];
  for (const user of users) {
    const raw = user.tags[tagKey];
    if (raw === undefined) continue;
    const services = [...new Set(raw.split(/[\s,]+/).filter((s) => s !== ''))];
    if (services.length === 0) {
      problems.push({
        userName: user.userName,
        reason: `tag ${tagKey} is empty; expected service names separated by spaces, e.g. cassandra.amazonaws.com`,
      });
      continue;
    }
    const unknown = services.filter((s) => !knownServices.includes(s));
    if (unknown.length > 0) {
      problems.push({
        userName: user.userName,
        reason: `tag ${tagKey} names ${unknown.map((s) => JSON.stringify(s.slice(0, 64))).join(', ')}, not one of ${knownServices.join(', ')}: that user is not rotated until the tag is corrected`,
      });
      continue;
    }
    for (const serviceName of services) {
      targets.push({
        secretName: defaultSecretName(user.userName, serviceName, prefix),
        userName: user.userName,
        serviceName,
      });
    }
  }
  return { targets, problems };
}

/**
 * The deployment's declared targets and the opted-in ones, as one declaration. A pair the
 * deployment declares keeps the deployment's entry (its secret name and verification
 * settings); the checks of parseDeclaration apply to the whole (a bad user name in a tag fails
 * like one in the declaration, naming it).
 */
export function mergeDeclarations(
  declared: DeclaredTargets | undefined,
  optedIn: readonly DeclaredTarget[],
): DeclaredTargets {
  const own = [...(declared?.bySecretName.values() ?? [])];
  const pairs = new Set(own.map((t) => pairKey(t.userName, t.serviceName)));
  const names = new Set(own.map((t) => t.secretName));
  const added = optedIn.filter(
    (t) => !pairs.has(pairKey(t.userName, t.serviceName)) && !names.has(t.secretName),
  );
  return parseDeclaration({ version: 1, targets: [...own, ...added] }, 'the declared and opted-in targets');
}
