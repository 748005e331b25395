// The VerifyCredential the run calls (rotation/verification.ts), built from the probes: picks
// the target's mode (its own, else the deployment's), turns the issued credential into a
// ProbeInput, rides out propagation with RetryingProbe, and never throws: a probe that cannot
// even run (bad input, an unexpected library error) is an `unreachable` verdict whose reason
// has passed through redactSecret, then been cut short.
import type { IssuedCredential, Target } from '../rotation/model.ts';
import {
  type Verification,
  type VerificationMode,
  type VerifyCredential,
  type VerifyOptions,
  verificationModeOf,
} from '../rotation/verification.ts';
import type { CredentialProbe, ProbeCredential, ProbeInput } from './probe.ts';
import { cutRedacted } from '../redact.ts';
import { MAX_DESCRIPTION_CHARS } from './https.ts';
import { redactSecret, result } from './probe.ts';
import { DEFAULT_RETRY_POLICY, RetryingProbe, type RetryPolicy, type RetryTiming } from './retry.ts';

export interface VerifierOptions {
  /** One probe per service (ServiceProbes); retries are added here. */
  readonly probe: CredentialProbe;
  /** The region whose service endpoints are probed (the function's own). */
  readonly region: string | (() => Promise<string>);
  /** The mode of targets that do not set their own. */
  readonly defaultMode: VerificationMode;
  /** @default DEFAULT_RETRY_POLICY (about 80 s) */
  readonly retryPolicy?: RetryPolicy | undefined;
  /** Sleep and clock of the retries (tests shorten them). @default real time */
  readonly retryTiming?: RetryTiming | undefined;
}

/** The verdict when a target's mode is `off`: nothing asked, nothing to hold the rotation back. */
const OFF: Omit<Verification, 'mode'> = { outcome: 'skipped', reason: 'verification is off', attempts: 0 };

export function createVerifier(options: VerifierOptions): VerifyCredential {
  const probe = new RetryingProbe(
    options.probe,
    options.retryPolicy ?? DEFAULT_RETRY_POLICY,
    ...(options.retryTiming ? [options.retryTiming] : []),
  );
  const region = options.region;
  return async (
    target: Target,
    issued: IssuedCredential,
    verify: VerifyOptions = {},
  ): Promise<Verification> => {
    const mode = verificationModeOf(target, options.defaultMode);
    if (mode === 'off') return { ...OFF, mode };
    const credential = probeCredential(issued);
    try {
      const input: ProbeInput = {
        serviceName: target.serviceName,
        region: typeof region === 'string' ? region : await region(),
        credential,
        settings: target.verification,
      };
      return { ...(await probe.verify(input, verify.retryBudgetMs)), mode };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        // Redacted whole, then cut: a cut first could leave a piece too short to match.
        ...result(
          'unreachable',
          `the probe could not run: ${cutRedacted(redactSecret(message, credential), MAX_DESCRIPTION_CHARS)}`,
        ),
        mode,
      };
    }
  };
}

/** The user name and password (Keyspaces, CodeCommit) or the API key (Bedrock, Logs). */
export function probeCredential(issued: IssuedCredential): ProbeCredential {
  return {
    serviceUserName: issued.serviceUserName,
    secret: issued.servicePassword ?? issued.serviceCredentialSecret ?? '',
  };
}
