// Standalone organization emulator: `npm run emulator:org -- [--port 4566] [--host 127.0.0.1]`.
// Serves the three member accounts of `npm run demo:org` (scripts/org.ts) on one port, in
// memory: each request goes to the account whose access key id signed it (the keys are printed
// on stderr). Prints `AWS emulator listening on <url>` once ready. Then, for example:
//   npm run -s fleet -- --org --endpoint <url>
// Usage mistakes and a busy port end in one line on stderr and exit code 2.
import '../scripts/quiet-sdk.ts';
import { parseArgs } from 'node:util';
import { serveDemoOrganization } from '../scripts/org.ts';

const USAGE = 'usage: npm run emulator:org -- [--port 4566] [--host 127.0.0.1]';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

let values: { port: string; host: string; help: boolean };
try {
  values = parseArgs({
    options: {
      port: { type: 'string', default: '4566' },
      host: { type: 'string', default: '127.0.0.1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values as typeof values;
} catch (error) {
  fail(`${(error as Error).message}\n\n${USAGE}`);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) {
  fail(`--port must be a whole number from 0 to 65535, got ${JSON.stringify(values.port)}`);
}

const served = await serveDemoOrganization({ port: Number(values.port), host: values.host }).catch(
  (error: NodeJS.ErrnoException) =>
    fail(
      error.code === 'EADDRINUSE'
        ? `port ${values.port} on ${values.host} is already in use: stop the other server or choose another --port`
        : `cannot listen on ${values.host}:${values.port}: ${error.message}`,
    ),
);
console.log(`AWS emulator listening on ${served.url}`);
for (const line of served.accounts) process.stderr.write(`${line}\n`);
const stop = (): void => {
  void served.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
