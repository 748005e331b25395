// Time for acceptance tests of the deadline budget: a Lambda deadline that moves only when the
// emulator's virtual clock is advanced (never with real time, so a slow machine changes
// nothing), and a probe behind the real verifier whose retry waits advance that clock.
import type { Context } from 'aws-lambda';
import type { AwsEmulator } from '../../emulator/index.ts';
import { fakeLambdaContext } from '../../invariants/index.ts';
import type { CredentialProbe, ProbeInput, ProbeResult } from '../../lambda/probes/index.ts';
import { result } from '../../lambda/probes/probe.ts';
import { createVerifier } from '../../lambda/probes/verifier.ts';
import type { VerificationMode, VerifyCredential } from '../../lambda/rotation/verification.ts';

/**
 * A Lambda context with `ms` left, counting down only by what the emulator's clock is advanced
 * from now on (the probe's retry waits below), not by real time.
 */
export function virtualDeadline(emulator: AwsEmulator, ms: number): Context {
  const from = emulator.clock.offset;
  return fakeLambdaContext({ remainingMs: () => Math.max(0, ms - (emulator.clock.offset - from)) });
}

/**
 * A service that refuses a new credential `rejections` times (IAM propagating) and then
 * accepts it. Keyed by the credential itself, held in memory only.
 */
export function propagatingService(rejections: number): CredentialProbe & { readonly attempts: number } {
  const seen = new Map<string, number>();
  let attempts = 0;
  return {
    get attempts() {
      return attempts;
    },
    async verify(input: ProbeInput): Promise<ProbeResult> {
      attempts++;
      const key = `${input.credential.serviceUserName ?? ''}\u0000${input.credential.secret}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      return n > rejections
        ? result('verified', 'the service accepted the credential')
        : result('rejected', 'the service refused the login (IAM still propagating)');
    },
  };
}

/** The deployed verifier (RetryingProbe, default policy) over `probe`, waiting on the virtual clock. */
export function virtualVerifier(
  emulator: AwsEmulator,
  probe: CredentialProbe,
  defaultMode: VerificationMode,
): VerifyCredential {
  return createVerifier({
    probe,
    region: 'us-east-1',
    defaultMode,
    retryTiming: {
      sleep: async (ms) => emulator.clock.advance(ms),
      now: () => emulator.clock.now().getTime(),
    },
  });
}
