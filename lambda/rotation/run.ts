// The executor: discovers targets, observes each one, asks the planner what to do, and
// carries the plan out through the two ports, one target at a time. It holds no state of
// its own between runs; everything it needs is read from IAM and Secrets Manager.
import type { CredentialsPort, SecretsPort } from '../aws/ports.ts';
import type { Command } from './commands.ts';
import type { Policy, RunReport } from './model.ts';

/** Structured logger (Powertools Logger satisfies it). Never pass a secret value. */
export interface Log {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export interface RunDeps {
  readonly credentials: CredentialsPort;
  readonly secrets: SecretsPort;
  readonly policy: Policy;
  readonly secretNamePrefix?: string | undefined;
  /** The clock: every lifecycle time is measured against it. */
  readonly now: () => Date;
  readonly log: Log;
  /** Milliseconds before the invocation times out; the run stops starting targets when low. */
  readonly remainingTimeMs?: (() => number) | undefined;
}

export async function runRotation(command: Command, deps: RunDeps): Promise<RunReport> {
  void command;
  void deps;
  throw new Error('runRotation: being written');
}
