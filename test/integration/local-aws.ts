// The integration tests' world: the emulator served over real HTTP on 127.0.0.1, the SDK
// pointed at it only through the standard endpoint variables, and the handler built as in
// production (createClients() + adapters + createHandler) with the emulator's clock.
import { AwsEmulator, type AwsEmulatorOptions } from '../../emulator/index.ts';
import type { RunReport } from '../../lambda/rotation/model.ts';
import { DAY_MS } from '../../lambda/rotation/retirement.ts';
import {
  createDemoAccount,
  createLocalHandler,
  emulatorEnv,
  type LocalHandler,
  powertoolsEnv,
  SECRET_NAME_PREFIX,
  setEnv,
} from '../../scripts/local.ts';
import { atRestProblems, writeCalls } from '../../invariants/index.ts';

const POLICY = { rotateAfterDays: 30, overlapDays: 0, gracePeriodDays: 7 };

export interface Invocation {
  /** The run's report; present also when the handler threw RunFailedError after the run. */
  readonly report: RunReport | undefined;
  readonly error: unknown;
}

export interface LocalAws {
  readonly emulator: AwsEmulator;
  readonly url: string;
  readonly handler: LocalHandler;
  /** Invokes the handler; never throws (the error, if any, is returned). */
  invoke(event: unknown): Promise<Invocation>;
  advanceDays(days: number): void;
  /**
   * I1 and I4 at rest for every target (or those of the given IAM users): the problems
   * found, empty when all holds.
   */
  lockoutProblems(userNames?: readonly string[]): string[];
  /** Write calls the emulator answered since `since` (an index into its call log). */
  writesSince(since: number): string[];
  close(): Promise<void>;
}

export async function startLocalAws(
  options: { emulator?: AwsEmulatorOptions; demoAccount?: boolean } = {},
): Promise<LocalAws> {
  const emulator = new AwsEmulator(options.emulator);
  const server = await emulator.listen({ port: 0, host: '127.0.0.1' });
  const restoreEnv = setEnv({
    ...emulatorEnv(server.url),
    ...powertoolsEnv(false),
    ROTATE_AFTER_DAYS: String(POLICY.rotateAfterDays),
    OVERLAP_DAYS: String(POLICY.overlapDays),
    GRACE_PERIOD_DAYS: String(POLICY.gracePeriodDays),
    SECRET_NAME_PREFIX,
    EVENT_BUS_NAME: undefined,
  });
  const handler = createLocalHandler(emulator);
  if (options.demoAccount ?? true) createDemoAccount(emulator);
  return {
    emulator,
    url: server.url,
    handler,
    async invoke(event) {
      try {
        return { report: await handler.invoke(event), error: undefined };
      } catch (error) {
        return { report: handler.lastReport(), error };
      }
    },
    advanceDays: (days) => emulator.clock.advance(days * DAY_MS),
    lockoutProblems: (userNames) =>
      atRestProblems(emulator, POLICY, { allowInFlight: true })
        .filter(
          (p) => !userNames || userNames.some((u) => p.subject.startsWith(`${SECRET_NAME_PREFIX}${u}/`)),
        )
        .map((p) => p.message),
    writesSince: (since) => writeCalls(emulator.calls.slice(since)),
    async close() {
      handler.destroy();
      restoreEnv();
      await server.close();
    },
  };
}

/** The report entry of one target, by IAM user name. */
export function targetOf(report: RunReport | undefined, userName: string) {
  const t = report?.targets.find((x) => x.userName === userName);
  if (!t)
    throw new Error(
      `no report entry for ${userName}: ${JSON.stringify(report?.targets.map((x) => x.userName))}`,
    );
  return t;
}

export const outcomes = (report: RunReport | undefined) =>
  Object.fromEntries((report?.targets ?? []).map((t) => [t.userName, t.outcome]));

export const actions = (report: RunReport | undefined, userName: string) =>
  targetOf(report, userName).actions.map((a) => a.type);
