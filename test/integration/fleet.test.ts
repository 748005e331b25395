// `npm run fleet` (scripts/fleet.ts), in-process: the table of every target from the status
// report of the local account, of an endpoint, and of a deployed function — the last through
// the real Lambda SDK client against a loopback fake of Lambda's Invoke API, never AWS.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AwsEmulator, isWriteCall } from '../../emulator/index.ts';
import type { RunReport } from '../../lambda/rotation/model.ts';
import { main as fleet } from '../../scripts/fleet.ts';
import { main as invoke } from '../../scripts/invoke.ts';
import { createDemoAccount, setEnv } from '../../scripts/local.ts';

const run = async (main: typeof fleet, ...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

/** The table's rows as cells (split on runs of two or more spaces), header first. */
const cells = (table: string) =>
  table
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(/ {2,}/));

describe('npm run fleet (scripts/fleet.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('shows the local account: current and its age, the other and its state, the next action and its date', async () => {
    const state = join(dir, 'local.json');
    await run(invoke, 'events/scheduled-rule.json', '--state', state);
    await run(invoke, 'events/scheduled-rule.json', '--advance', '31d', '--state', state);
    const before = readFileSync(state, 'utf8');

    const shown = await run(fleet, '--state', state);

    expect(shown.code).toBe(0);
    const [header, ...rows] = cells(shown.out);
    expect(header).toEqual(['user', 'service', 'current', 'age', 'other', 'state', 'next', 'when']);
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['app-keyspaces', 'cassandra.amazonaws.com'],
      ['app-codecommit', 'codecommit.amazonaws.com'],
      ['app-bedrock', 'bedrock.amazonaws.com'],
    ]);
    for (const r of rows) {
      expect(r[2]).toMatch(/^ACCA/);
      expect(r[3]).toBe('0m');
      expect(r[4]).toMatch(/^ACCA/);
      expect(r[4]).not.toBe(r[2]);
      // Rotated at day 31 with overlap 0: the old one is Inactive and deleted after the 7-day grace.
      expect(r.slice(5, 7)).toEqual(['Inactive', 'delete']);
      expect(r[7]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d \(in 7d\)$/);
    }
    // The status changes nothing: the saved account is the same (but for when secrets were last read).
    const unread = (text: string) =>
      JSON.parse(text, (key, value) => (key === 'lastAccessedDate' ? undefined : value));
    expect(unread(readFileSync(state, 'utf8'))).toEqual(unread(before));

    const json = await run(fleet, '--state', state, '--json');
    expect((JSON.parse(json.out) as RunReport).action).toBe('status');
  });

  it('shows the next rotation once the old credential is gone', async () => {
    const state = join(dir, 'later.json');
    await run(invoke, 'events/scheduled-rule.json', '--state', state);
    await run(invoke, 'events/status.json', '--advance', '3d', '--state', state);

    const rows = cells((await run(fleet, '--state', state)).out).slice(1);

    expect(rows.map((r) => [r[3], r[4], r[5]])).toEqual([
      ['3d', 'rotate', expect.stringMatching(/\(in 27d\)$/)],
      ['3d', 'rotate', expect.stringMatching(/\(in 27d\)$/)],
      ['3d', 'rotate', expect.stringMatching(/\(in 27d\)$/)],
    ]);
  });

  it('after a rollback, shows the date the planner holds the target until, in fleet and invoke alike', async () => {
    const state = join(dir, 'rollback.json');
    await run(invoke, 'events/scheduled-rule.json', '--state', state);
    await run(invoke, 'events/scheduled-rule.json', '--advance', '31d', '--state', state);
    const rolledBack = await run(invoke, 'events/rollback-target.json', '--advance', '1d', '--state', state);
    // The planner's own word: "the schedule leaves the target alone until <date>" (rollback + grace).
    const held = /leaves the target alone until (\S+)Z/.exec(rolledBack.out)?.[1];
    expect(held).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d/);
    const minute = (held as string).slice(0, 16);

    // invoke's table (stderr): the next rotation is the held date, not issue + rotateAfterDays (day 30, past).
    expect(rolledBack.err).toContain(`next rotation ${minute}`);

    const rows = cells((await run(fleet, '--state', state)).out).slice(1);
    const keyspaces = rows.find((r) => r[0] === 'app-keyspaces');
    // The rolled-back credential is deleted on the held date; the rotation waits for it.
    expect(keyspaces?.slice(5, 7)).toEqual(['Inactive', 'delete']);
    expect(keyspaces?.[7]).toBe(`${minute.replace('T', ' ')} (in 7d)`);

    // A status a day before that date: nothing due, and the same date.
    const before = await run(invoke, 'events/status.json', '--advance', '6d', '--state', state);
    expect(before.err).toContain(`next rotation ${minute}`);
  });

  it('runs the status against an endpoint with --endpoint', async () => {
    const emulator = new AwsEmulator();
    createDemoAccount(emulator);
    const server = await emulator.listen({ port: 0, host: '127.0.0.1' });
    try {
      const shown = await run(fleet, '--endpoint', server.url, '--region', 'eu-west-1');

      expect(shown.code).toBe(0);
      expect(shown.err).toContain(`endpoint ${server.url} (region eu-west-1; real clock)`);
      // Placeholders only: each target would bootstrap now.
      expect(cells(shown.out).slice(1)).toEqual([
        ['app-keyspaces', 'cassandra.amazonaws.com', '(none)', 'rotate', 'now'],
        ['app-codecommit', 'codecommit.amazonaws.com', '(none)', 'rotate', 'now'],
        ['app-bedrock', 'bedrock.amazonaws.com', '(none)', 'rotate', 'now'],
      ]);
      expect(emulator.calls.length).toBeGreaterThan(0);
      expect(emulator.calls.filter(isWriteCall)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  describe('--function NAME (Lambda Invoke)', () => {
    const report: RunReport = {
      action: 'status',
      dryRun: false,
      startedAt: '2027-01-10T03:00:00.000Z',
      finishedAt: '2027-01-10T03:00:01.000Z',
      targets: [
        {
          secretId:
            'arn:aws:secretsmanager:eu-west-1:111111111111:secret:service-credentials/ci-git/codecommit.amazonaws.com-Ab12Cd',
          userName: 'ci-git',
          serviceName: 'codecommit.amazonaws.com',
          outcome: 'unchanged',
          actions: [],
          currentCredentialId: 'ACCANEW',
          currentIssuedAt: '2027-01-09T03:00:00.000Z',
          nextDueAt: '2027-01-10T03:00:00.000Z',
          credentials: [
            { id: 'ACCAOLD', status: 'Active', issuedAt: '2026-12-10T03:00:00.000Z', current: false },
            { id: 'ACCANEW', status: 'Active', issuedAt: '2027-01-09T03:00:00.000Z', current: true },
          ],
        },
        {
          secretId:
            'arn:aws:secretsmanager:eu-west-1:111111111111:secret:service-credentials/full/cassandra.amazonaws.com-Xy12Zz',
          userName: 'full',
          serviceName: 'cassandra.amazonaws.com',
          outcome: 'blocked',
          actions: [],
          reason: 'both credential slots are taken by ACCAX1 (Active), ACCAX2 (Active)',
          credentials: [],
        },
      ],
    };

    /** A loopback stand-in for Lambda's Invoke API; records what it was sent. */
    async function fakeLambda(answer: { status: number; body: unknown; functionError?: string }) {
      const requests: { path: string; body: string; authorization: string }[] = [];
      const server = createServer((req: IncomingMessage, res) => {
        let body = '';
        req.on('data', (d: Buffer) => {
          body += d.toString();
        });
        req.on('end', () => {
          requests.push({ path: req.url ?? '', body, authorization: String(req.headers.authorization) });
          res.writeHead(answer.status, {
            'content-type': 'application/json',
            ...(answer.functionError ? { 'x-amz-function-error': answer.functionError } : {}),
          });
          res.end(JSON.stringify(answer.body));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const restore = setEnv({
        AWS_ENDPOINT_URL_LAMBDA: url,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_SESSION_TOKEN: undefined,
        AWS_PROFILE: undefined,
        AWS_REGION: 'us-east-1',
      });
      return {
        requests,
        close: async () => {
          restore();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    }

    it('invokes the status event with the given region and shows the table', async () => {
      const lambda = await fakeLambda({ status: 200, body: report });
      try {
        const shown = await run(fleet, '--function', 'credential-rotator', '--region', 'eu-west-1');

        expect(shown.code).toBe(0);
        expect(lambda.requests).toHaveLength(1);
        expect(lambda.requests[0]?.path).toBe('/2015-03-31/functions/credential-rotator/invocations');
        expect(JSON.parse(lambda.requests[0]?.body ?? '')).toEqual({ action: 'status' });
        expect(lambda.requests[0]?.authorization).toMatch(/\/eu-west-1\/lambda\/aws4_request/);
        const [header, keep, blocked, note] = cells(shown.out);
        expect(header).toHaveLength(8);
        // Another credential still Active: its deactivation is the next action.
        expect(keep).toEqual([
          'ci-git',
          'codecommit.amazonaws.com',
          'ACCANEW',
          '1d',
          'ACCAOLD',
          'Active',
          'deactivate',
          '2027-01-10 03:00 (due)',
        ]);
        expect(blocked).toEqual(['full', 'cassandra.amazonaws.com', '(none)', 'blocked']);
        expect(note?.join('  ')).toMatch(/^full · cassandra\.amazonaws\.com: blocked: both credential slots/);
      } finally {
        await lambda.close();
      }
    });

    it('reports a failing function in one line and exits 1', async () => {
      const lambda = await fakeLambda({
        status: 200,
        functionError: 'Unhandled',
        body: { errorType: 'ConfigError', errorMessage: 'invalid configuration: ROTATE_AFTER_DAYS ...' },
      });
      try {
        const shown = await run(fleet, '--function', 'credential-rotator');

        expect(shown.code).toBe(1);
        expect(shown.out).toBe('');
        expect(shown.err).toMatch(/the function failed \(Unhandled\): ConfigError: invalid configuration/);
        expect(shown.err).toContain('(region us-east-1)');
      } finally {
        await lambda.close();
      }
    });
  });

  it('rejects two targets at once, or --region without one, with exit code 2', async () => {
    const both = await run(fleet, '--endpoint', 'http://127.0.0.1:1', '--function', 'f');
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/choose one of --endpoint, --function/);
    expect((await run(fleet, '--region', 'eu-west-1')).err).toMatch(/--region applies only with/);
  });
});
