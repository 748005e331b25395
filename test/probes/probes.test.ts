// The probes through the real cassandra-driver and real HTTPS against the emulator's service
// edges (loopback only, a throwaway self-signed CA): each outcome, propagation ridden out by
// the retry wrapper, and no password or API key in any reason.
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AwsEmulator } from '../../emulator/index.ts';
import { type ServiceEdges, startServiceEdges } from '../../emulator/edges/index.ts';
import {
  DEFAULT_RETRY_POLICY,
  type ProbeInput,
  type ProbeResult,
  RetryingProbe,
  ServiceProbes,
  type ServiceProbeOptions,
} from '../../lambda/probes/index.ts';
import { resetCredential } from './reset.ts';

const REGION = 'us-east-1';
const KEYSPACES = 'cassandra.amazonaws.com';
const CODECOMMIT = 'codecommit.amazonaws.com';
const BEDROCK = 'bedrock.amazonaws.com';
const LOGS = 'logs.amazonaws.com';

let emulator: AwsEmulator;
let edges: ServiceEdges;
let probes: ServiceProbes;
let options: ServiceProbeOptions;
/** Every result any test saw, for the leak scan. */
const seen: ProbeResult[] = [];

/** Issues a fresh credential for a fresh user; returns the probe input for it. */
let users = 0;
function issue(serviceName: string, settings?: ProbeInput['settings']): ProbeInput {
  const userName = `app${++users}`;
  emulator.iam.createUser(userName);
  const c = emulator.iam.issueCredential(userName, serviceName);
  const secret = c.ServicePassword ?? c.ServiceCredentialSecret ?? '';
  return {
    serviceName,
    region: REGION,
    credential: { serviceUserName: c.ServiceUserName, secret },
    settings,
  };
}

async function verify(input: ProbeInput, probe: { verify(i: ProbeInput): Promise<ProbeResult> } = probes) {
  const r = await probe.verify(input);
  seen.push(r);
  return r;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The production policy on a fake clock: sleeping only moves it forward. */
function fakeTiming() {
  let now = 0;
  const sleeps: number[] = [];
  const timing = {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  return { sleeps, timing };
}

/** Real sleeps, scaled down: 50 ms doubling to 200 ms within 5 s. */
const fastRetry = (probe: ServiceProbes) =>
  new RetryingProbe(probe, { initialDelayMs: 50, maxDelayMs: 200, budgetMs: 5_000 });

beforeAll(async () => {
  emulator = new AwsEmulator({ region: REGION });
  edges = await startServiceEdges(emulator, { repositories: ['app-repo'], logGroups: ['canary'] });
  options = {
    ca: edges.ca,
    timeoutMs: 5_000,
    keyspacesEndpoint: edges.cqlEndpoint,
    codeCommitBaseUrl: edges.httpsUrl,
    bedrockBaseUrl: edges.httpsUrl,
    logsBaseUrl: edges.httpsUrl,
  };
  probes = new ServiceProbes(options);
});
afterEach(() => {
  for (const s of [KEYSPACES, CODECOMMIT, BEDROCK, LOGS] as const) edges.authority.setFault(s, undefined);
  edges.authority.propagationDelayMs = 0;
});
afterAll(async () => {
  await edges.close();
});

describe('KeyspacesProbe (real cassandra-driver over TLS)', () => {
  it('verifies an Active credential with SELECT release_version FROM system.local', async () => {
    const r = await verify(issue(KEYSPACES));
    expect(r).toMatchObject({ outcome: 'verified', attempts: 1 });
    expect(r.reason).toContain('release_version 3.11.2');
  });

  it('answers rejected for a wrong password (CQL 0x0100)', async () => {
    const input = issue(KEYSPACES);
    const r = await verify({ ...input, credential: { ...input.credential, secret: 'wrong-password' } });
    expect(r.outcome).toBe('rejected');
    expect(r.reason).toContain('0x0100');
  });

  it('answers rejected for an Inactive credential', async () => {
    const input = issue(KEYSPACES);
    const [cred] = emulator.iam.credentials({ userName: `app${users}` });
    emulator.iam.setStatus(String(cred?.ServiceSpecificCredentialId), 'Inactive');
    expect((await verify(input)).outcome).toBe('rejected');
  });

  it('verifies a credential that becomes valid after a propagation delay, after backoff', async () => {
    edges.authority.propagationDelayMs = 300;
    const r = await verify(issue(KEYSPACES), fastRetry(probes));
    expect(r.outcome).toBe('verified');
    expect(r.attempts).toBeGreaterThan(1);
  });

  it('accepts a reset password (after the delay) and no longer the old one', async () => {
    const input = issue(KEYSPACES);
    const [cred] = emulator.iam.credentials({ userName: `app${users}` });
    const password = await resetCredential(
      emulator,
      `app${users}`,
      String(cred?.ServiceSpecificCredentialId),
    );
    expect((await verify(input)).outcome).toBe('rejected');
    const fresh = { ...input, credential: { ...input.credential, secret: password } };
    expect((await verify(fresh)).outcome).toBe('verified');
  });

  it('answers rejected after capped retries (about 80 s of backoff) for a password that never works', async () => {
    edges.authority.setFault(KEYSPACES, 'reject');
    const { sleeps, timing } = fakeTiming();
    const r = await verify(issue(KEYSPACES), new RetryingProbe(probes, DEFAULT_RETRY_POLICY, timing));
    expect(r.outcome).toBe('rejected');
    expect(sleeps).toEqual([2_000, 4_000, 8_000, 16_000, 16_000, 16_000, 16_000]);
    expect(r.attempts).toBe(8);
    expect(edges.cql.authAttempts.filter((a) => a.userName.startsWith(`app${users}-`))).toHaveLength(8);
  });

  it('answers denied at once for a credential without permission (CQL 0x2100)', async () => {
    edges.authority.setFault(KEYSPACES, 'deny');
    const r = await verify(issue(KEYSPACES), fastRetry(probes));
    expect(r).toMatchObject({ outcome: 'denied', attempts: 1 });
    expect(r.reason).toContain('0x2100');
  });

  it('answers unreachable at once when the connection is dropped', async () => {
    edges.authority.setFault(KEYSPACES, 'drop');
    const r = await verify(issue(KEYSPACES), fastRetry(probes));
    expect(r).toMatchObject({ outcome: 'unreachable', attempts: 1 });
  });

  it('answers unreachable at once when nothing listens', async () => {
    const port = await closedPort();
    const offline = new ServiceProbes({ ...options, keyspacesEndpoint: `127.0.0.1:${port}` });
    const r = await verify(issue(KEYSPACES), fastRetry(offline));
    expect(r).toMatchObject({ outcome: 'unreachable', attempts: 1 });
    expect(r.reason).toContain('ECONNREFUSED');
  });

  it('answers unreachable when the certificate is not trusted (default trust store)', async () => {
    const strict = new ServiceProbes({ ...options, ca: undefined });
    const r = await verify(issue(KEYSPACES), strict);
    expect(r.outcome).toBe('unreachable');
    expect(r.reason).toMatch(/CERT|certificate/i);
  });
});

describe('CodeCommitProbe (HTTPS info/refs, Basic auth)', () => {
  const settings = { codeCommitRepository: 'app-repo' };

  it('verifies a password that can read the repository refs', async () => {
    expect((await verify(issue(CODECOMMIT, settings))).outcome).toBe('verified');
  });

  it('answers rejected for a wrong password (HTTP 403)', async () => {
    const input = issue(CODECOMMIT, settings);
    const r = await verify({ ...input, credential: { ...input.credential, secret: 'wrong' } });
    expect(r.outcome).toBe('rejected');
    expect(r.reason).toContain('403');
  });

  it('answers unreachable for a repository that does not exist', async () => {
    const r = await verify(issue(CODECOMMIT, { codeCommitRepository: 'missing' }));
    expect(r.outcome).toBe('unreachable');
    expect(r.reason).toContain('404');
  });

  it('is skipped without a repository to probe', async () => {
    expect((await verify(issue(CODECOMMIT))).outcome).toBe('skipped');
  });

  it('answers unreachable at once when the connection is dropped', async () => {
    edges.authority.setFault(CODECOMMIT, 'drop');
    const r = await verify(issue(CODECOMMIT, settings), fastRetry(probes));
    expect(r).toMatchObject({ outcome: 'unreachable', attempts: 1 });
  });

  it('verifies after the propagation delay has passed', async () => {
    edges.authority.propagationDelayMs = 300;
    const r = await verify(issue(CODECOMMIT, settings), fastRetry(probes));
    expect(r.outcome).toBe('verified');
    expect(r.attempts).toBeGreaterThan(1);
  });
});

describe('BedrockProbe (ListFoundationModels, Bearer key)', () => {
  it('verifies an Active API key', async () => {
    expect((await verify(issue(BEDROCK))).outcome).toBe('verified');
  });

  it('answers rejected for an unknown key', async () => {
    const input = issue(BEDROCK);
    const r = await verify({ ...input, credential: { secret: 'ABSKnot-a-key' } });
    expect(r.outcome).toBe('rejected');
  });

  it('answers denied at once when the key lacks permission', async () => {
    edges.authority.setFault(BEDROCK, 'deny');
    const r = await verify(issue(BEDROCK), fastRetry(probes));
    expect(r).toMatchObject({ outcome: 'denied', attempts: 1 });
    expect(r.reason).toContain('AccessDeniedException');
  });

  it('answers rejected after capped retries for a key that never becomes valid', async () => {
    edges.authority.setFault(BEDROCK, 'reject');
    const { sleeps, timing } = fakeTiming();
    const r = await verify(issue(BEDROCK), new RetryingProbe(probes, DEFAULT_RETRY_POLICY, timing));
    expect(r.outcome).toBe('rejected');
    expect(r.attempts).toBe(sleeps.length + 1);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.budgetMs);
  });
});

describe('LogsProbe (one event to a canary group over HTTP ingestion, Bearer key)', () => {
  it('is skipped, saying why, without a canary log group', async () => {
    const r = await verify(issue(LOGS));
    expect(r.outcome).toBe('skipped');
    expect(r.reason).toContain('canary log group');
  });

  it('writes one event to the canary group and verifies', async () => {
    const before = edges.https.logEvents.length;
    expect((await verify(issue(LOGS, { canaryLogGroup: 'canary' }))).outcome).toBe('verified');
    expect(edges.https.logEvents.length).toBe(before + 1);
  });

  it('answers rejected for a key that is not (yet) valid', async () => {
    edges.authority.propagationDelayMs = 60_000;
    const r = await verify(issue(LOGS, { canaryLogGroup: 'canary' }));
    expect(r.outcome).toBe('rejected');
    expect(r.reason).toContain('401');
  });

  it('answers unreachable, naming the error, when the canary group does not exist', async () => {
    const r = await verify(issue(LOGS, { canaryLogGroup: 'no-such-group' }));
    expect(r.outcome).toBe('unreachable');
    expect(r.reason).toContain('ResourceNotFoundException');
  });

  it('answers denied when the key lacks logs:PutLogEvents', async () => {
    edges.authority.setFault(LOGS, 'deny');
    expect((await verify(issue(LOGS, { canaryLogGroup: 'canary' }))).outcome).toBe('denied');
  });
});

describe('ServiceProbes', () => {
  it('skips a service it has no probe for', async () => {
    const r = await probes.verify({
      serviceName: 'other.amazonaws.com',
      region: REGION,
      credential: { secret: 'x' },
    });
    expect(r.outcome).toBe('skipped');
  });

  it.each([
    [
      'a region that is not a region name',
      { region: 'us-east-1.evil.example' },
      /region must look like "us-east-1"/,
    ],
    [
      'an empty secret',
      { credential: { serviceUserName: 'app-at-1', secret: '' } },
      /secret must be a non-empty/,
    ],
    ['a password without its user name', { credential: { secret: 'pw' } }, /serviceUserName is required/],
  ])('refuses %s before touching the network, naming the expected form', async (_what, change, message) => {
    const input = {
      serviceName: KEYSPACES,
      region: REGION,
      credential: { serviceUserName: 'a', secret: 's' },
    };
    const before = edges.cql.authAttempts.length;
    await expect(probes.verify({ ...input, ...change })).rejects.toThrow(message);
    expect(edges.cql.authAttempts.length).toBe(before);
  });

  it('refuses a Keyspaces endpoint that is not host:port, naming the expected form', () => {
    expect(() => new ServiceProbes({ keyspacesEndpoint: 'localhost' })).toThrow(/host:port/);
  });
});

describe('the leak scan', () => {
  it('finds no issued password or API key, in any encoding, in any probe reason', () => {
    expect(seen.length).toBeGreaterThan(20);
    const secrets = [...emulator.issuedSecrets(), 'wrong-password', 'ABSKnot-a-key'];
    const text = JSON.stringify(seen);
    for (const secret of secrets) {
      for (const form of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) {
        expect(text).not.toContain(form);
      }
    }
  });
});
