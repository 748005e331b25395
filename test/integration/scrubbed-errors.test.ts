// A write call whose error echoes the request: a loopback stub in front of the emulator answers
// PutSecretValue with a 400 whose message quotes the SecretString (plain, JSON-escaped, and the
// whole request body), as a validation error may. No fragment of the issued password may reach
// the logs, the report, the events or the error payload Lambda sends to the failure queue.
import { INTENT_STAGE } from '../../lambda/rotation/intent.ts';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RunFailedError } from '../../lambda/errors.ts';
import { describeForScan } from '../../invariants/index.ts';
import { World } from '../support/world.ts';
import { handlerFor } from '../support/handler.ts';

const KEYSPACES = 'cassandra.amazonaws.com';
const FRAGMENT = 24;

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Forwards to the emulator, except the PutSecretValue that stores a credential: a 400 that
 * echoes its request. (The run's intent write before Create carries no secret and passes.)
 */
async function echoingStub(
  emulatorUrl: string,
): Promise<{ url: string; echoed: () => number; server: Server }> {
  let echoed = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const body = await bodyOf(req);
      const storesCredential =
        req.headers['x-amz-target'] === 'secretsmanager.PutSecretValue' &&
        !(JSON.parse(body) as { VersionStages?: string[] }).VersionStages?.includes(INTENT_STAGE);
      if (storesCredential) {
        echoed++;
        const secretString = String(JSON.parse(body).SecretString);
        const message =
          `1 validation error detected: Value '${secretString}' at 'secretString' failed to satisfy constraint; ` +
          `escaped: ${JSON.stringify(secretString)}; request: ${body}`;
        res.writeHead(400, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': 'stub-request-1',
        });
        res.end(JSON.stringify({ __type: 'ValidationException', message, Message: message }));
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
      }
      const answer = await fetch(`${emulatorUrl}${req.url}`, {
        method: req.method,
        headers,
        ...(body ? { body } : {}),
      });
      const out: Record<string, string> = {};
      answer.headers.forEach((v, k) => {
        if (!['content-length', 'connection', 'transfer-encoding', 'content-encoding'].includes(k))
          out[k] = v;
      });
      res.writeHead(answer.status, out);
      res.end(await answer.text());
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, echoed: () => echoed, server };
}

/** Every FRAGMENT-character window of a secret, plain and JSON-escaped (once and twice). */
function fragmentsOf(secret: string): string[] {
  const forms = [
    secret,
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(JSON.stringify(secret)).slice(1, -1),
  ];
  const out = new Set<string>();
  for (const form of forms) {
    for (let i = 0; i + FRAGMENT <= form.length; i++) out.add(form.slice(i, i + FRAGMENT));
  }
  return [...out];
}

/** Which issued secrets have a fragment in `haystack`, by position (never by value). */
function leaks(world: World, haystack: string): string[] {
  return world.emulator
    .issuedSecrets()
    .flatMap((s, i) => (fragmentsOf(s).some((f) => haystack.includes(f)) ? [`issued secret #${i}`] : []));
}

describe('errors of calls that carry a secret', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function stubbedWorld(): Promise<{ world: World; echoed: () => number }> {
    const probe = new World();
    const emulatorServer = await probe.emulator.listen();
    const stub = await echoingStub(emulatorServer.url);
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          stub.server.close(() => resolve());
          stub.server.closeAllConnections();
        }),
      () => emulatorServer.close(),
    );
    const world = new World({ sharedEmulator: probe.emulator, endpoint: stub.url, maxAttempts: 1 });
    world.addTarget('app', KEYSPACES);
    return { world, echoed: stub.echoed };
  }

  it('keep no fragment of the secret in the report or the executor log', async () => {
    const { world, echoed } = await stubbedWorld();

    const report = await world.run();

    expect(echoed()).toBe(1);
    expect(world.emulator.issuedSecrets()).toHaveLength(1);
    expect(report.targets[0]?.outcome).toBe('failed');
    expect(leaks(world, JSON.stringify(report))).toEqual([]);
    expect(leaks(world, JSON.stringify(world.logs))).toEqual([]);
    expect(report.targets[0]?.reason).toContain(
      "PutSecretValue failed: ValidationException: AWS's message withheld: this call carries a secret (HTTP 400, request id stub-request-1)",
    );
  });

  it('keep no fragment of the secret in the handler output, events or failure-queue payload', async () => {
    const { world, echoed } = await stubbedWorld();
    const handler = handlerFor(world);

    const run = await handler.invoke({ action: 'reconcile' });

    expect(echoed()).toBe(1);
    expect(run.error).toBeInstanceOf(RunFailedError);
    const error = run.error as RunFailedError;
    // What Lambda puts on the failure destination for an async invocation that threw.
    const payload = JSON.stringify({
      errorType: error.name,
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    });
    expect(run.events.map((e) => e.detailType)).toContain('Credential Rotation Failed');
    expect(leaks(world, run.output)).toEqual([]);
    expect(leaks(world, JSON.stringify(run.events))).toEqual([]);
    expect(leaks(world, payload)).toEqual([]);
    expect(leaks(world, describeForScan(error))).toEqual([]);
    expect(error.message).toContain('request id stub-request-1');
  });
});
