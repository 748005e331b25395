// The verification port: does a freshly issued credential work with the service itself (not
// only "IAM lists it Active")? One probe per service behind one interface; results carry a
// reason in our own words that never contains the password or API key.
import { type Redacted, redact } from '../redact.ts';

/** The credential under test: a service user name + password, or an API key (secret only). */
export interface ProbeCredential {
  /** Keyspaces/CodeCommit user name (`<user>-at-<account>`); absent for API keys. */
  readonly serviceUserName?: string | undefined;
  /** The password or API key. Never logged, never put in a reason. */
  readonly secret: string;
}

/** Per-target settings a probe needs beyond the credential. */
export interface ProbeSettings {
  /** CodeCommit: the repository whose refs the probe reads (required for CodeCommit). */
  readonly codeCommitRepository?: string | undefined;
  /** CloudWatch Logs: the canary log group the probe writes one event to; without it, skipped. */
  readonly canaryLogGroup?: string | undefined;
  /** CloudWatch Logs: the stream in the canary group (it must exist). @default 'credential-rotator' */
  readonly canaryLogStream?: string | undefined;
}

export interface ProbeInput {
  /** IAM's service name, e.g. `cassandra.amazonaws.com`. */
  readonly serviceName: string;
  readonly region: string;
  readonly credential: ProbeCredential;
  readonly settings?: ProbeSettings | undefined;
}

/**
 * - `verified`: the service accepted the credential.
 * - `rejected`: the service refused the credential itself (bad or not-yet-valid password/key);
 *   worth retrying while IAM's change propagates.
 * - `denied`: the credential authenticated but lacks permission; retrying will not help.
 * - `unreachable`: no verdict from the service (TLS, network, timeout, unexpected answer).
 * - `skipped`: nothing to probe (e.g. no canary log group named).
 */
export type ProbeOutcome = 'verified' | 'rejected' | 'denied' | 'unreachable' | 'skipped';

export interface ProbeResult {
  readonly outcome: ProbeOutcome;
  /** Human-readable, secret-free. */
  readonly reason: string;
  /** How many attempts were made (1 without the retry wrapper). */
  readonly attempts: number;
  /**
   * The retries stopped at the caller's budget (the run's deadline), where the retry policy's
   * own budget would have allowed another attempt: the `rejected` outcome is then no verdict.
   * Set only by RetryingProbe.
   */
  readonly budgetCut?: true | undefined;
}

export interface CredentialProbe {
  verify(input: ProbeInput): Promise<ProbeResult>;
}

export const result = (outcome: ProbeOutcome, reason: string, attempts = 1): ProbeResult => ({
  outcome,
  reason,
  attempts,
});

/**
 * Removes the credential from text in every form ../redact.ts covers (every encoding, any
 * piece of 12 characters or more), and the Basic `user:password` token whole. Defence in
 * depth: the probes build their reasons from codes and their own words, but a library's
 * message may quote a request. Cut the result (cutRedacted), never the input.
 */
export function redactSecret(text: string, credential: ProbeCredential): Redacted {
  const { serviceUserName, secret } = credential;
  return redact(text, [secret], serviceUserName ? [`${serviceUserName}:${secret}`] : []);
}

/** AWS region names as they appear in endpoints, e.g. `us-east-1`, `us-gov-west-1`. */
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * Bad input is a caller's mistake, not a probe outcome: throws naming the problem and the
 * expected form (the region builds host names, so it must be a plain region name). Never
 * quotes the secret.
 */
export function assertProbeInput(input: ProbeInput, needsUserName: boolean): void {
  if (!REGION_PATTERN.test(input.region)) {
    throw new RangeError(
      `probe input: region must look like "us-east-1", got ${JSON.stringify(input.region)}`,
    );
  }
  if (typeof input.credential?.secret !== 'string' || input.credential.secret.length === 0) {
    throw new RangeError(`probe input: credential.secret must be a non-empty string (${input.serviceName})`);
  }
  if (needsUserName && !input.credential.serviceUserName) {
    throw new RangeError(
      `probe input: credential.serviceUserName is required for ${input.serviceName} (e.g. "app-at-123456789012")`,
    );
  }
}
