// The real Lambda handler (createHandler) wired to a World's ports, with its Powertools output
// (JSON lines on stdout/stderr) and its EventBridge events captured, and both handed to the
// world's I5 scan: a password in a log line or an event fails the test like one in a report.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { vi } from 'vitest';
import type { BusEvent } from '../../lambda/aws/eventbridge.ts';
import { type Config, DEFAULT_POLICY } from '../../lambda/config.ts';
import { createHandler, type HandlerDeps } from '../../lambda/handler.ts';
import type { RunReport } from '../../lambda/rotation/model.ts';
import { runCommand } from '../../lambda/dispatch.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../lambda/telemetry.ts';
import type { Context } from 'aws-lambda';
import { fakeLambdaContext } from '../../invariants/index.ts';
import type { World } from './world.ts';

export interface Invocation {
  readonly result?: RunReport | undefined;
  readonly error?: unknown;
  /** The executor's report, also when the handler turned failed targets into an error. */
  readonly report?: RunReport | undefined;
  /** Everything Powertools wrote (logs and EMF metrics), one JSON object per line. */
  readonly output: string;
  /** Events published during this invocation. */
  readonly events: readonly BusEvent[];
}

export interface HandlerOptions {
  /** Targets the run processes at once. @default the executor's (DEFAULT_CONCURRENCY) */
  readonly concurrency?: number;
  /** Reads the deploying stack (with `config.deploymentStackId`). @default none */
  readonly deployment?: HandlerDeps['deployment'];
}

/** A handler over the world's (guarded) ports; every invocation is captured and scanned. */
export function handlerFor(world: World, config: Partial<Config> = {}, options: HandlerOptions = {}) {
  const handler = createHandler({
    ...(options.deployment ? { deployment: options.deployment } : {}),
    config: {
      policy: world.policy ?? DEFAULT_POLICY,
      secretNamePrefix: undefined,
      eventBusName: 'rotator-events',
      ...config,
    },
    credentials: world.credentials,
    secrets: world.secrets,
    now: () => world.now(),
    verifyCredential: world.verifier(),
    run: async (command, deps) => {
      const report = await runCommand(
        command,
        options.concurrency === undefined ? deps : { ...deps, concurrency: options.concurrency },
      );
      world.reports.push(report);
      reports.push(report);
      return report;
    },
    publishEvents: async (events) => {
      published.push(...events);
    },
    logger: new Logger({ serviceName: METRICS_SERVICE, logLevel: 'DEBUG' }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE }),
  });
  const published: BusEvent[] = [];
  const reports: RunReport[] = [];

  return {
    async invoke(event: unknown, context: Context = fakeLambdaContext()): Promise<Invocation> {
      const chunks: string[] = [];
      const capture = (chunk: unknown) => {
        chunks.push(String(chunk));
        return true;
      };
      const spies = [
        vi.spyOn(process.stdout, 'write').mockImplementation(capture),
        vi.spyOn(process.stderr, 'write').mockImplementation(capture),
      ];
      const before = published.length;
      const reportsBefore = reports.length;
      const report = () => (reports.length > reportsBefore ? reports.at(-1) : undefined);
      try {
        const result = (await handler(event, context)) as RunReport;
        return { result, report: report(), output: chunks.join(''), events: published.slice(before) };
      } catch (error) {
        world.errors.push(error);
        return { error, report: report(), output: chunks.join(''), events: published.slice(before) };
      } finally {
        for (const spy of spies) spy.mockRestore();
        world.scanned.push(chunks.join(''), JSON.stringify(published.slice(before)));
      }
    },
  };
}
