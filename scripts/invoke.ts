// `npm run invoke -- <event> [--advance 31d] [--state FILE] [--reset] [--verbose]`: one
// invocation of the real handler against a local emulator whose state (IAM, secrets, and the
// virtual clock's offset) persists in a file between invocations, like `sam local invoke`
// against a long-lived account. The first use (or --reset) creates the demo account of
// `npm start`. `--endpoint URL` runs the handler against a running endpoint instead (the
// standalone emulator, LocalStack, ...), on the real clock. Only the RunReport goes to stdout,
// as JSON; notes, logs and a table of each reported target's credentials go to stderr. Exit
// code 1 when the handler throws (the report of a run with failed targets is still printed),
// 2 on a usage error or an invalid configuration.
import './quiet-sdk.ts';
import './preflight.ts';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { AwsEmulator } from '../emulator/index.ts';
import { RotatorError } from '../lambda/errors.ts';
import type { RunReport } from '../lambda/rotation/model.ts';
import { loadConfig } from '../lambda/config.ts';
import {
  createDemoAccount,
  createLocalHandler,
  type LocalHandler,
  emulatorEnv,
  parseDuration,
  powertoolsEnv,
  renderTarget,
  SECRET_NAME_PREFIX,
  setEnv,
  stdoutToStderr,
  type TargetView,
  viewTargets,
  isMainModule,
} from './local.ts';

export const DEFAULT_STATE_FILE = '.local/emulator-state.json';

const USAGE = `usage: npm run -s invoke -- <event> [--advance 31d] [--state FILE] [--reset] [--verbose]
       npm run -s invoke -- <event> --endpoint URL [--region R] [--verbose]

  <event>         a JSON file (events/rotate-target.json) or inline JSON ('{"action":"status"}')
  --advance D     move the virtual clock forward first: 30d, 12h, 15m, 90s, 1d12h
  --state FILE    where the emulator's state persists (default ${DEFAULT_STATE_FILE});
                  the same format as \`npm run emulator -- --state FILE\`
  --reset         start again from a fresh demo account (placeholders, no credentials)
  --endpoint URL  run against a running endpoint instead of the state file (the standalone
                  emulator, LocalStack, ...), on the real clock; your AWS credentials if set,
                  else dummy ones
  --region R      with --endpoint (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)
  --verbose       show the handler's Powertools logs and metrics (on stderr)

Only the report goes to stdout (npm run -s keeps npm's banner off it, for jq). The policy
comes from ROTATE_AFTER_DAYS, OVERLAP_DAYS and GRACE_PERIOD_DAYS when set (defaults 30, 0, 7),
as in Lambda. Without an event, --reset and --advance only change the state.`;

class UsageError extends Error {}

export interface InvokeIo {
  /** stdout: the RunReport JSON. */
  readonly out: (text: string) => void;
  /** stderr: notes, tables, errors. */
  readonly err: (text: string) => void;
}

const consoleIo: InvokeIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

export interface InvokeOptions {
  /** Print each reported target's credential table on stderr (default true). */
  readonly tables?: boolean;
}

/** Runs one invocation; resolves to the exit code. */
export async function main(
  argv: readonly string[],
  io: InvokeIo = consoleIo,
  options: InvokeOptions = {},
): Promise<number> {
  let args: ReturnType<typeof parseCli>;
  try {
    args = parseCli(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(USAGE);
    return 0;
  }

  let event: unknown;
  try {
    event = args.event === undefined ? undefined : readEvent(args.event);
  } catch (error) {
    io.err((error as Error).message);
    return 2;
  }

  if (args.endpoint !== undefined) {
    if (event === undefined) {
      io.err(`missing <event>: with --endpoint there is no state to change\n\n${USAGE}`);
      return 2;
    }
    return invokeAt(args.endpoint, args.region, event, args.verbose, io, options);
  }

  const statePath = args.state;
  const save = () => {
    mkdirSync(dirname(statePath), { recursive: true });
    // Write then rename, so an interrupted save never leaves half a file.
    writeFileSync(`${statePath}.tmp`, JSON.stringify(emulator.snapshot()));
    renameSync(`${statePath}.tmp`, statePath);
  };
  // Saved after every mutating call too: an interrupted invocation leaves what AWS would have.
  const emulator: AwsEmulator = new AwsEmulator({ onMutation: save });
  if (args.reset) rmSync(statePath, { force: true });
  if (existsSync(statePath)) {
    try {
      emulator.restore(JSON.parse(readFileSync(statePath, 'utf8')));
    } catch (error) {
      io.err(`cannot read ${statePath}: ${(error as Error).message}; start again with --reset`);
      return 2;
    }
    io.err(`state   ${statePath}`);
  } else {
    const arns = createDemoAccount(emulator);
    io.err(`state   ${statePath} (new demo account: ${arns.length} targets with placeholder secrets)`);
  }
  if (args.advanceMs > 0) emulator.clock.advance(args.advanceMs);
  io.err(
    `clock   ${emulator.clock.now().toISOString()} (virtual: real time + ${formatOffset(emulator.clock.offset)})`,
  );
  save();
  if (event === undefined) return 0;

  const server = await emulator.listen({ port: 0, host: '127.0.0.1' });
  const restoreEnv = setEnv({
    ...emulatorEnv(server.url),
    ...powertoolsEnv(args.verbose),
    SECRET_NAME_PREFIX: process.env.SECRET_NAME_PREFIX ?? SECRET_NAME_PREFIX,
    // Notifications are not emulated: a bus would only add a "notification failed" warning.
    EVENT_BUS_NAME: undefined,
  });
  try {
    return await invokeOnce(emulator, event, args.verbose, io, options, () => viewTargets(emulator));
  } finally {
    restoreEnv();
    await server.close();
    save();
  }
}

/** `--endpoint URL`: the handler against a running endpoint, on the real clock. */
async function invokeAt(
  url: string,
  region: string | undefined,
  event: unknown,
  verbose: boolean,
  io: InvokeIo,
  options: InvokeOptions,
): Promise<number> {
  const hasCredentials = process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE;
  const restoreEnv = setEnv({
    AWS_ENDPOINT_URL: url,
    AWS_ENDPOINT_URL_IAM: url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
    AWS_REGION: region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    // LocalStack and the emulator accept any key; never fall through to instance metadata.
    ...(hasCredentials ? {} : { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...powertoolsEnv(verbose),
    SECRET_NAME_PREFIX: process.env.SECRET_NAME_PREFIX ?? SECRET_NAME_PREFIX,
    EVENT_BUS_NAME: undefined,
  });
  io.err(`endpoint ${url} (region ${process.env.AWS_REGION}; real clock)`);
  try {
    return await invokeOnce({ clock: { now: () => new Date() } }, event, verbose, io, options, () => []);
  } finally {
    restoreEnv();
  }
}

/** One handler invocation; the report on stdout, the rest on stderr. */
async function invokeOnce(
  clockOwner: { readonly clock: { now(): Date } },
  event: unknown,
  verbose: boolean,
  io: InvokeIo,
  options: InvokeOptions,
  views: () => TargetView[],
): Promise<number> {
  let local: ReturnType<typeof createLocalHandler> | undefined;
  try {
    local = createLocalHandler(clockOwner, { verbose });
    const policy = loadConfig(process.env).policy;
    let report: RunReport | undefined;
    let thrown: unknown;
    try {
      // Powertools writes logs and EMF lines to stdout, as Lambda expects; here stdout is the report's.
      report = await (verbose
        ? stdoutToStderr(() => (local as LocalHandler).invoke(event))
        : local.invoke(event));
    } catch (error) {
      thrown = error;
      report = local.lastReport();
    }
    if (report) io.out(JSON.stringify(report, null, 2));
    if (options.tables ?? true) {
      const seen = views();
      for (const t of report?.targets ?? []) {
        const view = seen.find((v) => v.secretArn === t.secretId);
        for (const line of renderTarget(t, view, (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z'), policy)) {
          io.err(line);
        }
      }
    }
    if (thrown) {
      io.err(`handler threw ${describe(thrown)}`);
      return 1;
    }
    return 0;
  } catch (error) {
    // Configuration errors (an invalid ROTATE_AFTER_DAYS...) surface here, as at a cold start.
    io.err(`cannot start the handler: ${describe(error)}`);
    return 2;
  } finally {
    local?.destroy();
  }
}

function parseCli(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      advance: { type: 'string' },
      state: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      reset: { type: 'boolean', default: false },
      verbose: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 1) throw new UsageError(`expected one event, got ${positionals.length}`);
  const event = positionals[0];
  if (event === undefined && !values.reset && values.advance === undefined && !values.help) {
    throw new UsageError('missing <event>');
  }
  if (values.endpoint !== undefined) {
    const stateOnly = [
      values.state !== undefined ? '--state' : '',
      values.reset ? '--reset' : '',
      values.advance !== undefined ? '--advance' : '',
    ].filter(Boolean);
    if (stateOnly.length > 0) {
      throw new UsageError(`${stateOnly.join(', ')}: only for the state file, not with --endpoint`);
    }
    if (!/^https?:\/\/[^\s/]+/.test(values.endpoint)) {
      throw new UsageError(
        `--endpoint must be a URL such as http://127.0.0.1:4566, got ${JSON.stringify(values.endpoint)}`,
      );
    }
  } else if (values.region !== undefined) {
    throw new UsageError('--region applies only with --endpoint (the local emulator is us-east-1)');
  }
  return {
    event,
    advanceMs: values.advance === undefined ? 0 : parseDuration(values.advance),
    state: values.state ?? DEFAULT_STATE_FILE,
    endpoint: values.endpoint,
    region: values.region,
    reset: values.reset,
    verbose: values.verbose,
    help: values.help,
  };
}

/** Inline JSON, or the path of a JSON file. */
function readEvent(arg: string): unknown {
  const inline = arg.trimStart().startsWith('{') || arg.trimStart().startsWith('[');
  let text = arg;
  if (!inline) {
    if (!existsSync(arg)) throw new UsageError(`no such event file ${arg} (give a path or inline JSON)`);
    text = readFileSync(arg, 'utf8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${inline ? 'the inline event' : arg} is not JSON: ${(error as Error).message}`);
  }
}

function describe(error: unknown): string {
  if (error instanceof RotatorError) return `${error.name}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function formatOffset(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const sign = minutes < 0 ? '-' : '';
  const abs = Math.abs(minutes);
  const d = Math.floor(abs / 1440);
  const h = Math.floor((abs % 1440) / 60);
  const m = abs % 60;
  return `${sign}${d}d ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

// Run only as a script (`npm run invoke`), not when a test imports main().
if (isMainModule(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
