import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { BusEvent } from '../lambda/aws/eventbridge.ts';
import type { CredentialsPort, SecretRotationPort, SecretsPort } from '../lambda/aws/ports.ts';
import { type Config, DEFAULT_POLICY } from '../lambda/config.ts';
import { ConfigError, InvalidEventError, RunFailedError } from '../lambda/errors.ts';
import { createHandler, type HandlerDeps } from '../lambda/handler.ts';
import type { Command } from '../lambda/rotation/commands.ts';
import type { RunReport, TargetReport } from '../lambda/rotation/model.ts';
import type { RunDeps } from '../lambda/rotation/deps.ts';
import { EVENT_DETAIL_TYPE, METRICS_NAMESPACE, METRICS_SERVICE } from '../lambda/telemetry.ts';
import { SAMPLE_EVENT_COMMANDS } from './support/sample-events.ts';
import { fakeLambdaContext } from '../invariants/index.ts';

const NOW = new Date('2026-11-22T03:00:00.000Z');
const PASSWORD = 'handlerFixturePassword0123456789abcdefghijklmnopqrstuvwxyzAB+/=';
const API_KEY = 'ABSKhandlerFixtureApiKey0123456789abcdefghijklmnopqrstuvwxyz==';
const arn = (name: string) =>
  `arn:aws:secretsmanager:us-east-1:123456789012:secret:service-credentials/${name}-AbCdEf`;
const EVENTS_DIR = join(import.meta.dirname, '..', 'events');

const config: Config = {
  policy: DEFAULT_POLICY,
  secretNamePrefix: 'service-credentials/',
  eventBusName: undefined,
};

const REQUEST_ID = 'c6af9ac6-7b61-11e6-9a41-93e812345678';
const context = (remainingMs?: number) => fakeLambdaContext({ remainingMs, awsRequestId: REQUEST_ID });

/** Ports whose every call is recorded; they hand out secrets, which must never reach a log. */
function fakePorts() {
  const calls: string[] = [];
  const credentials: CredentialsPort = {
    listAllCredentials: async () => {
      calls.push('listAllCredentials');
      return [];
    },
    listCredentials: async (userName) => {
      calls.push('listCredentials');
      return [
        {
          id: 'ACCAOLD0000000000001',
          userName,
          serviceName: 'cassandra.amazonaws.com',
          status: 'Active',
          createdAt: NOW,
        },
      ];
    },
    createCredential: async (userName, serviceName) => {
      calls.push('createCredential');
      return {
        id: 'ACCANEW0000000000001',
        userName,
        serviceName,
        status: 'Active',
        createdAt: NOW,
        servicePassword: PASSWORD,
      };
    },
    resetCredential: async (userName, id) => {
      calls.push('resetCredential');
      return {
        id,
        userName,
        serviceName: 'bedrock.amazonaws.com',
        status: 'Active',
        createdAt: NOW,
        serviceCredentialSecret: API_KEY,
      };
    },
    setCredentialStatus: async () => {
      calls.push('setCredentialStatus');
    },
    deleteCredential: async () => {
      calls.push('deleteCredential');
    },
  };
  const secrets: SecretsPort & SecretRotationPort = {
    ...rotationNotUsed(calls),
    readPrevious: async () => {
      calls.push('readPrevious');
      return undefined;
    },
    readCurrentMany: async () => {
      calls.push('readCurrentMany');
      return new Map();
    },
    listTargetSecrets: async () => {
      calls.push('listTargetSecrets');
      return [];
    },
    describeSecret: async (id) => {
      calls.push('describeSecret');
      return { arn: id, name: id, tags: {} };
    },
    readIntent: async () => {
      calls.push('readIntent');
      return undefined;
    },
    writeIntent: async () => {
      calls.push('writeIntent');
      return 'i1';
    },
    readCurrent: async () => {
      calls.push('readCurrent');
      return {
        versionId: 'v1',
        createdAt: NOW,
        value: JSON.stringify({ password: PASSWORD, apiKey: API_KEY }),
      };
    },
    storeCurrent: async () => {
      calls.push('storeCurrent');
      return 'v2';
    },
  };
  return { calls, credentials, secrets };
}

/** These tests send no rotation step and start no rotation: a call is recorded and refused. */
function rotationNotUsed(calls: string[]): SecretRotationPort {
  const refuse = (name: string) => async (): Promise<never> => {
    calls.push(name);
    throw new Error(`${name} is not used by the handler tests`);
  };
  return {
    describeRotation: refuse('describeRotation'),
    rotateSecret: refuse('rotateSecret'),
    readVersion: refuse('readVersion'),
    storePending: refuse('storePending'),
    moveCurrent: refuse('moveCurrent'),
    removePending: refuse('removePending'),
    versionCreatedAt: refuse('versionCreatedAt'),
  };
}

function target(name: string, overrides: Partial<TargetReport> = {}): TargetReport {
  return {
    secretId: arn(name),
    userName: name,
    serviceName: 'cassandra.amazonaws.com',
    outcome: 'unchanged',
    actions: [],
    ...overrides,
  };
}

function report(command: Command, targets: TargetReport[]): RunReport {
  return {
    action: command.action,
    dryRun: command.action === 'status' ? true : command.action === 'rotation-step' ? false : command.dryRun,
    startedAt: NOW.toISOString(),
    finishedAt: NOW.toISOString(),
    targets,
  };
}

const at = NOW.toISOString();
const rotatedTarget = target('app', {
  outcome: 'rotated',
  actions: [
    { type: 'create', credentialId: 'ACCANEW0000000000001', at },
    { type: 'store', credentialId: 'ACCANEW0000000000001', at },
    { type: 'deactivate', credentialId: 'ACCAOLD0000000000001', at },
  ],
  currentCredentialId: 'ACCANEW0000000000001',
  currentIssuedAt: at,
});

/**
 * A fake executor that uses the ports like the real one would (reading and issuing
 * secrets), records the command and deps it got, and returns `targets` as its report.
 */
function fakeRun(targets: TargetReport[] = [rotatedTarget]) {
  const received: { command: Command; deps: RunDeps; remainingMs: number | undefined }[] = [];
  const run = vi.fn(async (command: Command, deps: RunDeps): Promise<RunReport> => {
    await deps.secrets.readCurrent(arn('app'));
    const issued = await deps.credentials.createCredential('app', 'cassandra.amazonaws.com');
    await deps.secrets.storeCurrent(arn('app'), JSON.stringify({ password: issued.servicePassword }));
    await deps.credentials.resetCredential('app', 'ACCAOLD0000000000001');
    deps.log.info('credential stored', { credentialId: issued.id });
    received.push({ command, deps, remainingMs: deps.remainingTimeMs?.() });
    return report(command, targets);
  });
  return { run, received };
}

// Powertools writes INFO/DEBUG and EMF to stdout, WARN/ERROR to stderr: capture both, in order.
let stdout: string[];
let writeSpies: MockInstance[];
beforeEach(() => {
  stdout = [];
  const capture = (chunk: unknown) => {
    stdout.push(String(chunk));
    return true;
  };
  writeSpies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
});
afterEach(() => {
  for (const spy of writeSpies) spy.mockRestore();
  vi.unstubAllEnvs();
});

const lines = () =>
  stdout
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const logLines = () => lines().filter((l) => 'level' in l);
const emfLines = () => lines().filter((l) => '_aws' in l);

function setup(overrides: Partial<HandlerDeps> & { targets?: TargetReport[] } = {}) {
  const ports = fakePorts();
  const fake = fakeRun(overrides.targets);
  const published: BusEvent[][] = [];
  const handler = createHandler({
    config,
    credentials: ports.credentials,
    secrets: ports.secrets,
    now: () => NOW,
    run: fake.run,
    publishEvents: async (events) => {
      published.push([...events]);
    },
    // A level set in the constructor wins over POWERTOOLS_LOG_LEVEL=SILENT of the test env.
    logger: new Logger({ serviceName: METRICS_SERVICE, logLevel: 'DEBUG' }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE }),
    ...overrides,
  });
  return { handler, ports, published, ...fake };
}

describe('handler', () => {
  describe('accepted events', () => {
    const sampleCommands = SAMPLE_EVENT_COMMANDS;

    it('covers every sample event', () => {
      expect(
        readdirSync(EVENTS_DIR)
          .filter((f) => f.endsWith('.json'))
          .sort(),
      ).toEqual(Object.keys(sampleCommands).sort());
    });

    it.each(Object.entries(sampleCommands))(
      'runs %s as the right command and returns the report',
      async (file, command) => {
        const { handler, run, received } = setup();
        const event: unknown = JSON.parse(readFileSync(join(EVENTS_DIR, file), 'utf8'));
        const result = await handler(event, context());
        expect(run).toHaveBeenCalledTimes(1);
        expect(received[0]?.command).toEqual(command);
        expect(result).toEqual(report(command, [rotatedTarget]));
      },
    );

    it('passes the policy, prefix, clock, ports, logger and deadline to the run', async () => {
      const { handler, received, ports } = setup();
      await handler({ action: 'reconcile' }, context(123_456));
      const deps = received[0]?.deps;
      expect(deps?.policy).toEqual(DEFAULT_POLICY);
      expect(deps?.secretNamePrefix).toBe('service-credentials/');
      expect(deps?.now()).toEqual(NOW);
      expect(deps?.credentials).toBe(ports.credentials);
      expect(deps?.secrets).toBe(ports.secrets);
      expect(received[0]?.remainingMs).toBe(123_456);
      // The invocation's id goes into every intent the run writes (Lambda's retry keeps it).
      expect(deps?.requestId).toBe(context(1).awsRequestId);
      expect(
        logLines().some(
          (l) => l.message === 'credential stored' && l.credentialId === 'ACCANEW0000000000001',
        ),
      ).toBe(true);
    });

    it('runs without a deadline when the context has none (local runs)', async () => {
      const { handler, received } = setup();
      await handler({ action: 'status' }, {} as Context);
      expect(received[0]?.deps.remainingTimeMs).toBeUndefined();
      expect(received[0]?.deps.requestId).toBeUndefined(); // the run makes one up
    });
  });

  describe('rejected events', () => {
    it.each<[string, unknown]>([
      ['a typo in dryRun', { action: 'reconcile', dryrun: true }],
      ['an unknown action', { action: 'rotate-everything' }],
      ['rotate without a target', { action: 'rotate', force: true }],
      ['force on status', { action: 'status', force: true }],
      ['not an object', 'reconcile'],
      [
        'a scheduled event with a detail',
        { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: { a: 1 } },
      ],
    ])('rejects %s without running or touching anything', async (_name, event) => {
      const { handler, run, ports, published } = setup();
      await expect(handler(event, context())).rejects.toBeInstanceOf(InvalidEventError);
      expect(run).not.toHaveBeenCalled();
      expect(ports.calls).toEqual([]);
      expect(published).toEqual([]);
      const errors = logLines().filter((l) => l.level === 'ERROR');
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toBe('event rejected');
      expect(String(errors[0]?.error)).toContain('Accepted events:');
    });
  });

  describe('failed targets', () => {
    const failedTarget = target('broken', {
      serviceName: 'codecommit.amazonaws.com',
      outcome: 'failed',
      reason: 'CreateServiceSpecificCredential failed: Throttling: Rate exceeded',
    });
    const targets = [rotatedTarget, failedTarget, target('fine')];

    it('throws RunFailedError naming the failed target after the run completed for all', async () => {
      const { handler, run } = setup({ targets });
      const error = await handler({ action: 'reconcile' }, context()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunFailedError);
      expect((error as RunFailedError).failedTargets).toEqual([arn('broken')]);
      expect((error as Error).message).toContain(arn('broken'));
      expect((error as Error).message).toContain('Rate exceeded');
      expect((error as Error).message).not.toContain(arn('app'));
      expect(run).toHaveBeenCalledTimes(1);
    });

    it('sends metrics and events and logs the report before throwing', async () => {
      const { handler, published } = setup({ targets });
      await expect(handler({ action: 'reconcile' }, context())).rejects.toBeInstanceOf(RunFailedError);

      expect(published.flat().map((e) => e.detailType)).toEqual([
        EVENT_DETAIL_TYPE.rotated,
        EVENT_DETAIL_TYPE.retired,
        EVENT_DETAIL_TYPE.failed,
      ]);
      expect(emfLines().find((l) => 'Targets' in l)).toMatchObject({
        Targets: 3,
        FailedTargets: 1,
        Rotations: 1,
      });
      const finished = logLines().find((l) => l.message === 'run finished');
      expect(finished).toMatchObject({
        level: 'ERROR',
        targets: 3,
        outcomes: { rotated: 1, failed: 1, unchanged: 1 },
      });
      expect(finished?.needsAttention).toEqual([`failed ${arn('broken')}`]);
    });
  });

  describe('logs', () => {
    it('log a summary per outcome and never a secret the ports handed out', async () => {
      const { handler } = setup();
      const result = await handler({ action: 'rotate', secretId: arn('app') }, context());
      const finished = logLines().find((l) => l.message === 'run finished');
      expect(finished).toMatchObject({
        level: 'INFO',
        action: 'rotate',
        dryRun: false,
        outcomes: { rotated: 1 },
      });
      expect(logLines().find((l) => l.message === 'run started')).toMatchObject({
        function_request_id: REQUEST_ID,
      });
      const everything = stdout.join('') + JSON.stringify(result);
      expect(everything).toContain('ACCANEW0000000000001');
      expect(everything).not.toContain(PASSWORD);
      expect(everything).not.toContain(API_KEY);
    });

    it('keep the summary and the error bounded for a whole failing fleet', async () => {
      const targets = Array.from({ length: 60 }, (_, i) =>
        target(`t${i}`, { outcome: 'failed', reason: 'AccessDenied' }),
      );
      const { handler } = setup({ targets });
      const error = await handler({ action: 'reconcile' }, context()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunFailedError);
      expect((error as RunFailedError).failedTargets).toHaveLength(60);
      expect((error as RunFailedError).message).toMatch(/^60 target\(s\) failed: .*; and 40 more$/);
      const finished = logLines().find((l) => l.message === 'run finished');
      expect(finished?.needsAttention).toHaveLength(50);
      expect(finished?.needsAttentionNotListed).toBe(10);
    });

    it('warn about blocked targets', async () => {
      const { handler } = setup({
        targets: [target('stuck', { outcome: 'blocked', reason: 'both slots taken' })],
      });
      await handler({ action: 'reconcile' }, context());
      expect(logLines().find((l) => l.message === 'run finished')).toMatchObject({
        level: 'WARN',
        outcomes: { blocked: 1 },
      });
    });
  });

  describe('deferral and the timeout', () => {
    it('count deferred targets in the summary and the DeferredTargets metric, with a warning', async () => {
      const { handler, run } = setup();
      run.mockImplementationOnce(async (command) => ({
        ...report(command, [rotatedTarget]),
        deferred: [arn('late1'), arn('late2')],
      }));
      await handler({ action: 'reconcile' }, context());
      expect(logLines().find((l) => l.message === 'run finished')).toMatchObject({
        level: 'WARN',
        deferred: 2,
      });
      expect(emfLines().find((l) => 'Targets' in l)).toMatchObject({ Targets: 1, DeferredTargets: 2 });
    });

    it('report 0 deferred targets on a run that deferred none, so the alarm sees every run', async () => {
      const { handler } = setup();
      await handler({ action: 'reconcile' }, context());
      expect(emfLines().find((l) => 'Targets' in l)).toMatchObject({ DeferredTargets: 0 });
      expect(logLines().find((l) => l.message === 'run finished')).not.toHaveProperty('deferred');
    });

    it('log an error naming the minimum on the first invocation when the timeout cannot fit one rotation', async () => {
      const { handler, run } = setup();
      await handler({ action: 'reconcile' }, context(120_000));
      await handler({ action: 'reconcile' }, context(120_000));
      const errors = logLines().filter((l) => l.message === 'function timeout too short');
      // Once per container, and the run still goes ahead (manual commands must keep working).
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ level: 'ERROR' });
      expect(String(errors[0]?.problem)).toMatch(
        /a timeout of 120 s cannot fit one verified rotation: at least 135 s/,
      );
      expect(run).toHaveBeenCalledTimes(2);
    });

    it('apply the unverified minimum when verification is off, and say nothing when it fits', async () => {
      const { handler } = setup({ config: { ...config, verification: 'off' } });
      await handler({ action: 'reconcile' }, context(60_000));
      expect(logLines().filter((l) => l.message === 'function timeout too short')).toEqual([]);
      const tooShort = setup({ config: { ...config, verification: 'off' } });
      await tooShort.handler({ action: 'reconcile' }, context(30_000));
      const error = logLines().find((l) => l.message === 'function timeout too short');
      expect(String(error?.problem)).toMatch(/30 s cannot fit one unverified rotation: at least 45 s/);
    });
  });

  describe('notification failures', () => {
    it('returns the report when events cannot be published, with a warning', async () => {
      const { handler } = setup({
        publishEvents: async () => {
          throw new Error('bus unreachable');
        },
      });
      const result = await handler({ action: 'reconcile' }, context());
      expect(result.targets).toEqual([rotatedTarget]);
      const warning = logLines().find((l) => l.message === 'events not published');
      expect(warning).toMatchObject({ level: 'WARN' });
      expect(String(warning?.error)).toContain('bus unreachable');
    });
  });

  describe('run errors', () => {
    it('logs an aborted run once and rethrows its error', async () => {
      const { handler } = setup({
        run: async () => {
          throw new Error('ListSecrets failed: AccessDeniedException: not allowed');
        },
      });
      await expect(handler({ action: 'reconcile' }, context())).rejects.toThrow('ListSecrets failed');
      const errors = logLines().filter((l) => l.level === 'ERROR');
      expect(errors.map((l) => l.message)).toEqual(['run aborted']);
    });
  });

  describe('cold start', () => {
    it.each([
      ['ROTATE_AFTER_DAYS', 'soon'],
      ['GRACE_PERIOD_DAYS', '-1'],
    ])('fails to initialise with a ConfigError naming %s', async (name, value) => {
      vi.resetModules();
      vi.stubEnv(name, value);
      const error = await import('../lambda/handler.ts').catch((e: unknown) => e);
      expect((error as Error).name).toBe(ConfigError.name);
      expect((error as Error).message).toContain(name);
    });

    it('initialises the Lambda handler from a valid environment', async () => {
      vi.resetModules();
      vi.stubEnv('ROTATE_AFTER_DAYS', '60');
      const module = await import('../lambda/handler.ts');
      expect(typeof module.handler).toBe('function');
    });
  });
});
