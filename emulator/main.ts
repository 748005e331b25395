// Standalone emulator server: `npm run emulator -- [--port 4566] [--host 127.0.0.1]
// [--state FILE] [--seed demo|none] [--iam-page-size N] [--latency-ms N] [--user NAME ...] [--lambda-endpoint URL]`.
// Prints `AWS emulator listening on <url>` once ready. A new account (no state file yet) is
// seeded with the demo account of `npm start` unless `--seed none`. With --state the state
// (clock offset, IAM, secrets) is loaded at start and saved after every mutating call, so
// separate runs (e.g. `npm run invoke`) see each other's effects. Usage mistakes and a busy
// port end in one line on stderr and exit code 2, never a stack trace. With --lambda-endpoint, RotateSecret invokes the rotation function's
// steps through Lambda's Invoke API at that URL.
import '../scripts/quiet-sdk.ts';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createDemoAccount } from '../scripts/local.ts';
import { AwsEmulator } from './emulator.ts';
import { httpInvoker } from './rotations.ts';

const USAGE = `usage: npm run emulator -- [--port 4566] [--host 127.0.0.1] [--state FILE] [--seed demo|none]
                             [--iam-page-size N] [--latency-ms N] [--user NAME ...] [--lambda-endpoint URL]

  --port N           port to listen on (default 4566; 0 picks a free one)
  --host H           address to bind (default 127.0.0.1)
  --state FILE       load the state from FILE and save it there after every change
                     (the format of \`npm run invoke -- --state FILE\`)
  --seed demo|none   what a new account holds (default demo: the users app-keyspaces,
                     app-codecommit, app-bedrock and their tagged placeholder secrets);
                     an existing --state file is served as it is
  --iam-page-size N  IAM list page size (default 100, IAM's; 1 exercises a client's paging)
  --latency-ms N     delay every response by N ms
  --user NAME        create an IAM user (repeatable)
  --lambda-endpoint URL
                     RotateSecret invokes the rotation function's four steps through
                     Lambda's Invoke API at URL (otherwise rotations wait for a function)

Then: export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \\
        AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function cli() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '4566' },
        host: { type: 'string', default: '127.0.0.1' },
        state: { type: 'string' },
        seed: { type: 'string', default: 'demo' },
        'iam-page-size': { type: 'string' },
        'latency-ms': { type: 'string' },
        user: { type: 'string', multiple: true },
        'lambda-endpoint': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${USAGE}`);
  }
}

/** A whole number >= min, or a usage error naming the option. */
function count(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min)
    fail(`--${name} must be a whole number >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

const values = cli();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (values.seed !== 'demo' && values.seed !== 'none')
  fail(`--seed must be demo or none, got ${JSON.stringify(values.seed)}`);
const port = count('port', values.port, 0) as number;
if (port > 65535) fail(`--port must be at most 65535, got ${port}`);
// IAM's own default page; the in-process emulator's default of 1 is for exercising paging in
// tests, and would show `aws iam list-service-specific-credentials` one credential at a time.
const iamPageSize = count('iam-page-size', values['iam-page-size'], 1) ?? 100;
const latencyMs = count('latency-ms', values['latency-ms'], 0);

const statePath = values.state;
const save = (): void => {
  if (!statePath) return;
  // Write then rename, so a reader never sees half a file.
  writeFileSync(`${statePath}.tmp`, JSON.stringify(emulator.snapshot()));
  renameSync(`${statePath}.tmp`, statePath);
};

const emulator: AwsEmulator = new AwsEmulator({
  iamPageSize,
  latencyMs,
  onMutation: save,
  rotationInvoker: values['lambda-endpoint'] ? httpInvoker(values['lambda-endpoint']) : undefined,
});

let account: string;
if (statePath && existsSync(statePath)) {
  try {
    emulator.restore(JSON.parse(readFileSync(statePath, 'utf8')));
  } catch (error) {
    fail(`cannot read ${statePath}: ${(error as Error).message}`);
  }
  account = `state ${statePath}`;
} else if (values.seed === 'demo') {
  account = `demo account: ${createDemoAccount(emulator).length} targets with placeholder secrets`;
} else {
  account = 'empty account';
}
for (const user of values.user ?? []) if (!emulator.iam.hasUser(user)) emulator.iam.createUser(user);
save();

let server: Awaited<ReturnType<AwsEmulator['listen']>>;
try {
  server = await emulator.listen({ port, host: values.host });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    fail(
      `port ${port} on ${values.host} is already in use (another emulator, or LocalStack?): stop it or choose another --port`,
    );
  }
  fail(`cannot listen on ${values.host}:${port}: ${(error as Error).message}`);
}
console.log(`AWS emulator listening on ${server.url}`);
process.stderr.write(`${account}${statePath ? `; saved to ${statePath} after every change` : ''}\n`);

const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
