// Standalone emulator server: `tsx emulator/main.ts [--port 4566] [--host 127.0.0.1]
// [--state FILE] [--iam-page-size N] [--latency-ms N] [--user NAME ...] [--lambda-endpoint URL]`.
// Prints `AWS emulator listening on <url>` once ready. With --state the state (clock offset,
// IAM, secrets) is loaded at start and saved after every mutating call, so separate runs
// (e.g. `npm run invoke`) see each other's effects. With --lambda-endpoint, RotateSecret
// invokes the rotation function's steps through Lambda's Invoke API at that URL.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AwsEmulator } from './emulator.ts';
import { httpInvoker } from './rotations.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4566' },
    host: { type: 'string', default: '127.0.0.1' },
    state: { type: 'string' },
    'iam-page-size': { type: 'string' },
    'latency-ms': { type: 'string' },
    user: { type: 'string', multiple: true },
    'lambda-endpoint': { type: 'string' },
  },
});

const statePath = values.state;
const save = (): void => {
  if (!statePath) return;
  // Write then rename, so a reader never sees half a file.
  writeFileSync(`${statePath}.tmp`, JSON.stringify(emulator.snapshot()));
  renameSync(`${statePath}.tmp`, statePath);
};

const emulator: AwsEmulator = new AwsEmulator({
  iamPageSize: values['iam-page-size'] ? Number(values['iam-page-size']) : undefined,
  latencyMs: values['latency-ms'] ? Number(values['latency-ms']) : undefined,
  onMutation: save,
  rotationInvoker: values['lambda-endpoint'] ? httpInvoker(values['lambda-endpoint']) : undefined,
});

if (statePath && existsSync(statePath)) emulator.restore(JSON.parse(readFileSync(statePath, 'utf8')));
for (const user of values.user ?? []) if (!emulator.iam.hasUser(user)) emulator.iam.createUser(user);
save();

const server = await emulator.listen({ port: Number(values.port), host: values.host });
console.log(`AWS emulator listening on ${server.url}`);

const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
