// The service edges' judgement (IAM's state is the truth) and the CQL edge's protocol reach:
// a cassandra-driver with its default settings (protocol negotiation from its highest
// version down, schema metadata sync on) connects and queries.
import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CredentialAuthority,
  latencyOf,
  type ServiceEdges,
  startServiceEdges,
} from '../../emulator/edges/index.ts';
import { AwsEmulator } from '../../emulator/index.ts';
import { ServiceProbes } from '../../lambda/probes/index.ts';
import { resetCredential } from '../probes/reset.ts';

const KEYSPACES = 'cassandra.amazonaws.com';

describe('CredentialAuthority', () => {
  function setUp(propagationDelayMs = 0) {
    const emulator = new AwsEmulator();
    let now = 1_000_000;
    const authority = new CredentialAuthority(emulator.iam, { propagationDelayMs, now: () => now });
    emulator.onSecretIssued((s) => authority.noteIssued(s));
    emulator.iam.createUser('app');
    return { emulator, authority, advance: (ms: number) => (now += ms) };
  }

  it('accepts the current password of an Active credential for its own user name only', () => {
    const { emulator, authority } = setUp();
    const c = emulator.iam.issueCredential('app', KEYSPACES);
    expect(authority.check(KEYSPACES, String(c.ServicePassword), c.ServiceUserName)).toEqual({
      accepted: true,
      userName: 'app',
    });
    expect(authority.check(KEYSPACES, String(c.ServicePassword), 'someone-else')).toMatchObject({
      accepted: false,
    });
    expect(authority.check('codecommit.amazonaws.com', String(c.ServicePassword))).toMatchObject({
      accepted: false,
    });
  });

  it('refuses a new secret until the propagation delay has passed', () => {
    const { emulator, authority, advance } = setUp(3_000);
    const c = emulator.iam.issueCredential('app', 'bedrock.amazonaws.com');
    const key = String(c.ServiceCredentialSecret);
    expect(authority.check('bedrock.amazonaws.com', key)).toEqual({ accepted: false, why: 'propagating' });
    advance(2_999);
    expect(authority.check('bedrock.amazonaws.com', key).accepted).toBe(false);
    advance(1);
    expect(authority.check('bedrock.amazonaws.com', key).accepted).toBe(true);
  });

  it('refuses Inactive and Expired credentials and the password a reset replaced', async () => {
    const { emulator, authority } = setUp();
    const c = emulator.iam.issueCredential('app', KEYSPACES);
    const id = c.ServiceSpecificCredentialId;
    emulator.iam.setStatus(id, 'Inactive');
    expect(authority.check(KEYSPACES, String(c.ServicePassword), c.ServiceUserName)).toEqual({
      accepted: false,
      why: 'inactive',
    });
    emulator.iam.setStatus(id, 'Active');
    await resetCredential(emulator, 'app', id);
    expect(authority.check(KEYSPACES, String(c.ServicePassword), c.ServiceUserName)).toEqual({
      accepted: false,
      why: 'unknown',
    });
    const key = emulator.iam.issueCredential('app', 'logs.amazonaws.com', 1);
    emulator.clock.advanceDays(2);
    expect(authority.check('logs.amazonaws.com', String(key.ServiceCredentialSecret)).accepted).toBe(false);
  });
});

describe('the CQL edge with a default cassandra-driver client', () => {
  const emulator = new AwsEmulator();
  let edges: ServiceEdges;
  beforeAll(async () => {
    edges = await startServiceEdges(emulator);
    emulator.iam.createUser('app');
  });
  afterAll(async () => {
    await edges.close();
  });

  it('negotiates the protocol down to v4, syncs (empty) schema metadata and answers system.local', async () => {
    const c = emulator.iam.issueCredential('app', KEYSPACES);
    const client = new cassandra.Client({
      contactPoints: [edges.cqlEndpoint],
      localDataCenter: 'us-east-1',
      authProvider: new cassandra.auth.PlainTextAuthProvider(
        String(c.ServiceUserName),
        String(c.ServicePassword),
      ),
      sslOptions: { ca: [edges.ca], rejectUnauthorized: true },
    });
    try {
      const rs = await client.execute('SELECT release_version, data_center FROM system.local');
      expect(rs.first()?.get('release_version')).toBe('3.11.2');
      expect(rs.first()?.get('data_center')).toBe('us-east-1');
      // The driver starts above v4 and steps down on the edge's "unsupported version" error.
      expect(edges.cql.startupVersions[0]).toBeGreaterThan(4);
      expect(edges.cql.startupVersions.at(-1)).toBe(4);
      expect((await client.execute('SELECT * FROM system.peers')).rowLength).toBe(0);
    } finally {
      await client.shutdown();
    }
  });

  it('answers a user table with an Invalid error rather than rows', async () => {
    const c = emulator.iam.issueCredential('app', KEYSPACES);
    const client = new cassandra.Client({
      contactPoints: [edges.cqlEndpoint],
      localDataCenter: 'us-east-1',
      authProvider: new cassandra.auth.PlainTextAuthProvider(
        String(c.ServiceUserName),
        String(c.ServicePassword),
      ),
      sslOptions: { ca: [edges.ca], rejectUnauthorized: true },
      protocolOptions: { maxVersion: 4 },
      isMetadataSyncEnabled: false,
    });
    try {
      await expect(client.execute('SELECT * FROM app.orders')).rejects.toMatchObject({ code: 0x2200 });
    } finally {
      await client.shutdown();
    }
  });
});

describe('the edges with a handshake latency', () => {
  it('draws a fixed delay, a uniform one, or a given function, and refuses bad input', () => {
    expect(latencyOf(undefined)()).toBe(0);
    expect(latencyOf(120)()).toBe(120);
    expect(latencyOf({ minMs: 50, maxMs: 200 }, () => 0)()).toBe(50);
    expect(latencyOf({ minMs: 50, maxMs: 200 }, () => 0.5)()).toBe(125);
    expect(latencyOf(() => 7)()).toBe(7);
    expect(() => latencyOf(-1)).toThrow(/expected milliseconds >= 0, got -1/);
    expect(() => latencyOf({ minMs: 200, maxMs: 50 })).toThrow(/0 <= minMs <= maxMs/);
  });

  it('delays each new connection of the CQL and HTTPS edges, and the probes still verify', async () => {
    const emulator = new AwsEmulator();
    const delays: number[] = [];
    const edges = await startServiceEdges(emulator, {
      handshakeLatency: () => {
        delays.push(20);
        return 20;
      },
    });
    try {
      emulator.iam.createUser('app');
      const probes = new ServiceProbes({
        ca: edges.ca,
        keyspacesEndpoint: edges.cqlEndpoint,
        bedrockBaseUrl: edges.httpsUrl,
        timeoutMs: 5_000,
      });
      const keyspaces = emulator.iam.issueCredential('app', KEYSPACES);
      const cql = await probes.verify({
        serviceName: KEYSPACES,
        region: 'us-east-1',
        credential: { serviceUserName: keyspaces.ServiceUserName, secret: String(keyspaces.ServicePassword) },
      });
      expect(cql.outcome).toBe('verified');
      const afterCql = delays.length;
      expect(afterCql).toBeGreaterThan(0);
      const bedrock = emulator.iam.issueCredential('app', 'bedrock.amazonaws.com');
      const https = await probes.verify({
        serviceName: 'bedrock.amazonaws.com',
        region: 'us-east-1',
        credential: { secret: String(bedrock.ServiceCredentialSecret) },
      });
      expect(https.outcome).toBe('verified');
      expect(delays.length).toBeGreaterThan(afterCql);
    } finally {
      await edges.close();
    }
  });
});
