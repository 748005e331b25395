// A failure message is cut to 200 characters for the reason; a password straddling the cut
// must not survive in the piece that is left. Driven through the real probes with the two
// libraries that can fail without an error code stubbed: node:https (Bedrock, CodeCommit,
// Logs) and cassandra-driver (Keyspaces), each failing with a message that quotes the request.
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { createVerifier } from '../../lambda/probes/verifier.ts';
import { BedrockProbe, CodeCommitProbe, KeyspacesProbe, LogsProbe } from '../../lambda/probes/index.ts';
import type { IssuedCredential, Target } from '../../lambda/rotation/model.ts';
import { leaksIn, THRESHOLD } from '../support/secret-forms.ts';

/** The message the stubbed libraries fail with (no `code`, so it is described by its text). */
const failure = vi.hoisted(() => ({ message: '' }));

vi.mock('node:https', () => ({
  request: () => {
    const req = Object.assign(new EventEmitter(), {
      write: () => undefined,
      end: () => setImmediate(() => req.emit('error', new Error(failure.message))),
      destroy: () => undefined,
    });
    return req;
  },
}));

vi.mock('cassandra-driver', () => {
  class Client {
    execute() {
      return Promise.reject(new Error(failure.message));
    }
    shutdown() {
      return Promise.resolve();
    }
  }
  return {
    default: {
      Client,
      auth: { PlainTextAuthProvider: class {} },
      types: { distance: { local: 0 } },
    },
  };
});

const password = 'Zx9/+aLongPasswordThatMust+NotLeak/=AbCdEfGhIjKlMnOpQrStUvWx';
const apiKey = `ABSK${Buffer.from(Array.from({ length: 96 }, (_, i) => (i * 53 + 7) % 256)).toString('base64')}`;

/** `prefix` characters of text, then the secret: the 200-character cut falls inside it. */
const straddling = (secret: string, prefix: number) => `${'q'.repeat(prefix)} auth=${secret} rest`;

const input = (serviceName: string, secret: string) => ({
  serviceName,
  region: 'us-east-1',
  credential: { serviceUserName: 'app-at-123456789012', secret },
  settings: { codeCommitRepository: 'repo', canaryLogGroup: 'canary' },
});

describe('a failure message cut at 200 characters', () => {
  const probes = [
    ['Bedrock', new BedrockProbe(), 'bedrock.amazonaws.com', apiKey],
    ['CloudWatch Logs', new LogsProbe(), 'logs.amazonaws.com', apiKey],
    ['CodeCommit', new CodeCommitProbe(), 'codecommit.amazonaws.com', password],
    ['Keyspaces', new KeyspacesProbe({ host: '127.0.0.1' }), 'cassandra.amazonaws.com', password],
  ] as const;

  it.each(probes)('%s: no piece of the secret survives the cut', async (_name, probe, service, secret) => {
    // Every position of the cut relative to the secret: before it, inside it, after it.
    for (const prefix of [150, 160, 170, 180, 185, 190, 194, 200]) {
      failure.message = straddling(secret, prefix);
      const r = await probe.verify(input(service, secret));
      expect(r.outcome).toBe('unreachable');
      expect(leaksIn(r.reason, secret), `prefix ${prefix}: ${r.reason}`).toEqual([]);
      expect(r.reason).not.toContain(secret.slice(0, THRESHOLD));
    }
  });

  it('the verifier: a probe that throws a long message is redacted, then cut', async () => {
    const verify = createVerifier({
      probe: {
        verify: async () => {
          throw new Error(straddling(password, 190));
        },
      },
      region: 'us-east-1',
      defaultMode: 'enforce',
    });
    const target = { serviceName: 'codecommit.amazonaws.com' } as Target;
    const issued = { serviceUserName: 'app-at-123456789012', servicePassword: password } as IssuedCredential;

    const verdict = await verify(target, issued);

    expect(verdict.outcome).toBe('unreachable');
    expect(leaksIn(verdict.reason, password)).toEqual([]);
    expect(verdict.reason.length).toBeLessThan(300);
  });
});
