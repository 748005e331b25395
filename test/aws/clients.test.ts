// The real SDK clients against a tiny loopback HTTP server: where requests go (the SDK's
// endpoint environment variables), how they are retried, and what goes over the wire.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClients } from '../../lambda/aws/clients.ts';
import { IamCredentials } from '../../lambda/aws/iam.ts';
import { SecretsStore } from '../../lambda/aws/secrets.ts';
import { AwsCallError, CredentialQuotaError } from '../../lambda/errors.ts';

interface Recorded {
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}
interface Reply {
  readonly status: number;
  readonly body: string;
}

/** Answers each request with the next scripted reply (the last one repeats). */
class LoopbackAws {
  readonly requests: Recorded[] = [];
  #replies: Reply[] = [];
  #server: Server | undefined;

  script(...replies: Reply[]): void {
    this.#replies = replies;
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ url: req.url ?? '', headers: req.headers, body });
        const reply = this.#replies.length > 1 ? this.#replies.shift() : this.#replies[0];
        const json = (req.headers['content-type'] ?? '').includes('json');
        res.writeHead(reply?.status ?? 500, {
          'content-type': json ? 'application/x-amz-json-1.1' : 'text/xml',
          'x-amzn-requestid': 'req-1',
        });
        res.end(reply?.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const emptyList: Reply = {
  status: 200,
  body: `<ListServiceSpecificCredentialsResponse xmlns="${IAM_NS}"><ListServiceSpecificCredentialsResult><ServiceSpecificCredentials/><IsTruncated>false</IsTruncated></ListServiceSpecificCredentialsResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ListServiceSpecificCredentialsResponse>`,
};
const createdCredential: Reply = {
  status: 200,
  body: `<CreateServiceSpecificCredentialResponse xmlns="${IAM_NS}"><CreateServiceSpecificCredentialResult><ServiceSpecificCredential><CreateDate>2025-03-01T10:00:00Z</CreateDate><ServiceName>cassandra.amazonaws.com</ServiceName><ServiceUserName>alice-at-123456789012</ServiceUserName><ServicePassword>pw-once</ServicePassword><ServiceSpecificCredentialId>ACCAEXAMPLE123456789</ServiceSpecificCredentialId><UserName>alice</UserName><Status>Active</Status></ServiceSpecificCredential></CreateServiceSpecificCredentialResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></CreateServiceSpecificCredentialResponse>`,
};
const iamError = (status: number, code: string, message: string): Reply => ({
  status,
  body: `<ErrorResponse xmlns="${IAM_NS}"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`,
});
const putOk: Reply = {
  status: 200,
  body: JSON.stringify({ ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:a', Name: 'a', VersionId: 'v2' }),
};

const ENDPOINT_VARS = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_IAM',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
] as const;

describe('createClients', () => {
  const aws = new LoopbackAws();
  let url: string;
  const saved = new Map<string, string | undefined>();

  beforeEach(async () => {
    for (const name of ENDPOINT_VARS) saved.set(name, process.env[name]);
    // Nothing listens on port 9: a request that ignores the variables under test fails fast.
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
    delete process.env.AWS_ENDPOINT_URL_IAM;
    delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    aws.requests.length = 0;
    url = await aws.start();
  });

  afterEach(async () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await aws.stop();
  });

  it('sends IAM requests to AWS_ENDPOINT_URL_IAM over AWS_ENDPOINT_URL', async () => {
    process.env.AWS_ENDPOINT_URL_IAM = url;
    aws.script(emptyList);

    await new IamCredentials(createClients().iam).listCredentials('alice', 'cassandra.amazonaws.com');

    expect(aws.requests).toHaveLength(1);
    const params = new URLSearchParams(aws.requests[0]?.body);
    expect(params.get('Action')).toBe('ListServiceSpecificCredentials');
    expect(params.get('UserName')).toBe('alice');
    expect(params.get('MaxItems')).toBe('1000');
  });

  it('sends Secrets Manager requests to AWS_ENDPOINT_URL_SECRETS_MANAGER', async () => {
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = url;
    aws.script({ status: 200, body: JSON.stringify({ SecretList: [] }) });

    await new SecretsStore(createClients().secrets).listTargetSecrets();

    expect(aws.requests).toHaveLength(1);
    expect(aws.requests[0]?.headers['x-amz-target']).toBe('secretsmanager.ListSecrets');
  });

  it('sends both services to AWS_ENDPOINT_URL when no service-specific variable is set', async () => {
    process.env.AWS_ENDPOINT_URL = url;
    aws.script(emptyList);
    const { iam, secrets } = createClients();

    await new IamCredentials(iam).listCredentials('alice', 'cassandra.amazonaws.com');
    aws.script({ status: 200, body: JSON.stringify({ SecretList: [] }) });
    await new SecretsStore(secrets).listTargetSecrets();

    expect(aws.requests.map((r) => r.headers['x-amz-target'] ?? 'iam')).toEqual([
      'iam',
      'secretsmanager.ListSecrets',
    ]);
  });

  it('configures adaptive retries with 5 attempts', async () => {
    const { iam, secrets } = createClients();

    for (const client of [iam, secrets]) {
      expect(await client.config.maxAttempts()).toBe(5);
      expect(await client.config.retryStrategy()).toHaveProperty('mode', 'adaptive');
    }
  });

  it('sends CreateServiceSpecificCredential once when IAM fails with a 5xx', async () => {
    process.env.AWS_ENDPOINT_URL_IAM = url;
    aws.script(iamError(500, 'ServiceFailure', 'Internal failure'));

    const error = await new IamCredentials(createClients().iam)
      .createCredential('alice', 'cassandra.amazonaws.com')
      .catch((e: unknown) => e);

    expect(aws.requests).toHaveLength(1);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({ httpStatus: 500, code: 'ServiceFailureException' });
  });

  it('sends CreateServiceSpecificCredential once when the quota is full', async () => {
    process.env.AWS_ENDPOINT_URL_IAM = url;
    aws.script(
      iamError(
        409,
        'LimitExceeded',
        'Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2',
      ),
    );

    const error = await new IamCredentials(createClients().iam)
      .createCredential('alice', 'cassandra.amazonaws.com')
      .catch((e: unknown) => e);

    expect(aws.requests).toHaveLength(1);
    expect(error).toBeInstanceOf(CredentialQuotaError);
  });

  it('still retries CreateServiceSpecificCredential after throttling', async () => {
    process.env.AWS_ENDPOINT_URL_IAM = url;
    aws.script(iamError(400, 'Throttling', 'Rate exceeded'), createdCredential);

    const issued = await new IamCredentials(createClients().iam).createCredential(
      'alice',
      'cassandra.amazonaws.com',
    );

    expect(aws.requests).toHaveLength(2);
    expect(issued).toMatchObject({ id: 'ACCAEXAMPLE123456789', servicePassword: 'pw-once' });
  });

  it('retries PutSecretValue with the ClientRequestToken the SDK generated', async () => {
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = url;
    aws.script(
      { status: 500, body: JSON.stringify({ __type: 'InternalServiceError', message: 'oops' }) },
      putOk,
    );

    const versionId = await new SecretsStore(createClients().secrets).storeCurrent('a', '{"password":"p"}');

    expect(versionId).toBe('v2');
    expect(aws.requests).toHaveLength(2);
    const tokens = aws.requests.map((r) => JSON.parse(r.body).ClientRequestToken);
    expect(tokens[0]).toMatch(/^[0-9a-f-]{32,64}$/);
    expect(tokens[1]).toBe(tokens[0]);
  });
});
