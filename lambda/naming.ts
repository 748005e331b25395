// The naming rules, once: what an IAM user name, a service name, a secret name and a secret
// name prefix may look like. The construct checks them at synth (infra/rotator/validation.ts),
// the function when it parses its declared targets (declared-targets.ts) and its events
// (events.ts), so a name the construct deploys is one the function accepts, with the same
// message. No dependencies: the published construct library carries it.

/** A rule for one kind of name; `expected` completes "must be ..." in every error message. */
export interface NameRule {
  readonly test: (value: string) => boolean;
  readonly expected: string;
}

/**
 * IAM's user-name characters minus the comma: the user name is a tag value on the target's
 * secret (USER_NAME_TAG), and tag values take no comma.
 */
export const USER_NAME: NameRule = {
  test: (v) => /^[\w+=.@-]{1,64}$/.test(v),
  expected: 'an IAM user name usable as a tag value (1-64 characters of letters, digits and +=.@_-)',
};

const SERVICE_NAME_PATTERN =
  /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.amazonaws\.com$/;

/** IAM's ServiceName: a DNS name under amazonaws.com, at most 128 characters. */
export const SERVICE_NAME: NameRule = {
  test: (v) => v.length <= 128 && SERVICE_NAME_PATTERN.test(v),
  expected:
    'a service name like "cassandra.amazonaws.com" (at most 128 characters; lower-case labels of a-z, 0-9 and -, none starting or ending with -)',
};

/** Secrets Manager's secret-name characters. */
export const SECRET_NAME: NameRule = {
  test: (v) => /^[\w/+=.@-]{1,512}$/.test(v),
  expected: 'a secret name (1-512 characters of letters, digits and /_+=.@-)',
};

/** The start of every target's secret name: the same characters, possibly none. */
export const SECRET_NAME_PREFIX: NameRule = {
  test: (v) => /^[\w/+=.@-]{0,512}$/.test(v),
  expected: 'a secret name prefix (0-512 characters of letters, digits and /_+=.@-)',
};

/** `must be <expected>, got "<value>"`, or undefined when the value follows the rule. */
export function nameProblem(rule: NameRule, value: string): string | undefined {
  return rule.test(value) ? undefined : `must be ${rule.expected}, got ${JSON.stringify(value)}`;
}
