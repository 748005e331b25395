// Every command README.md, docs/LOCAL.md and docs/USAGE.md show, run as written (through bash, npm and all)
// in document order on a clean state: a temporary working directory that links the repository's
// files but has its own .local/, and a temporary HOME. A command is a line of a ```bash block
// (continuation lines joined, the trailing `# comment` dropped) or an inline `npm ...` /
// `npx ...` code span without placeholders. Each one must be listed below, either with the
// check of its output or in EXEMPT with the reason it is not run here — so a command added to
// the docs fails this test until someone decides which. The one liberty taken: the standalone
// emulator's port 4566 is replaced by a free port, so that parallel test runs do not collide.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputOf, type Ran } from '../support/child.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCS = ['README.md', 'docs/LOCAL.md', 'docs/USAGE.md'] as const;
const DOC_PORT = '4566';

/** Commands not run here, each with the reason. */
const EXEMPT: Record<string, string> = {
  'npm ci && npm start':
    'npm ci installs from the npm registry (CI runs it: .ci/run); `npm start` is run below',
  'npm ci': 'installs from the npm registry (CI runs it: .ci/run)',
  'npm test': 'the suite that contains this test',
  'npx --no-install cdk bootstrap aws://111111111111/eu-west-1 --trust <deployment-account-id> --cloudformation-execution-policies arn:aws:iam::aws:policy/AdministratorAccess':
    'needs a real AWS account',
  'npx --no-install cdk deploy --all': 'needs a real AWS account',
  'npx --no-install cdk synth':
    'test/infra/app.test.ts synthesises the cdk.json example in-process with cdk-nag (the CLI adds ~30 s)',
  'npx --no-install cdk': 'the prefix of the cdk commands above, not a command',
  'npm run invoke': "the command's name in prose; its documented invocations are run",
  'npm run bench': 'runs for minutes; test/bench/harness.test.ts runs its pieces',
  'npm run bench:record': 'runs for minutes and rewrites tracked files; the same run as `npm run bench`',
  'npm pack':
    "the command's name in prose; test/infra/package.test.ts packs, installs and synthesizes the tarball",
  'npm install ./service-credential-rotator-0.1.0.tgz':
    'installs into your own CDK app; test/infra/package.test.ts installs the packed tarball into a temporary app offline',
  'npm run test:soak': 'runs for minutes; npm test runs the same property test with 300 sequences',
  'npm run test:mutation':
    'runs for tens of minutes (Stryker mutates each rules file); npm test runs the suites it mutates against',
  'npx vitest run test/integration': 'runs the folder that contains this test',
  'npm run org:rollout':
    'deploys the organization stacks to a real AWS account (management or delegated administrator); test/org/synth.test.ts synthesises them offline',
  'npm run -s fleet -- --region eu-west-1 --function "$(aws cloudformation describe-stacks --region eu-west-1 --stack-name CredentialRotator-prod-eu --output text --query "Stacks[0].Outputs[?OutputKey==\'FunctionName\'].OutputValue")"':
    'needs a real AWS account; test/integration/fleet.test.ts invokes a loopback fake of Lambda Invoke',
  'git config --global credential.https://git-codecommit.eu-west-1.amazonaws.com.helper \'!f() { test "$1" = get || exit 0; aws secretsmanager get-secret-value --secret-id service-credentials/ci-git/codecommit.amazonaws.com --query SecretString --output text | jq -r "\\"username=\\(.username)\\npassword=\\(.password)\\""; }; f\'':
    'configures git to read a secret from a real AWS account',
  'API_KEY=$(aws secretsmanager get-secret-value --secret-id service-credentials/assistant/bedrock.amazonaws.com --query SecretString --output text | jq -r .apiKey)':
    'needs a real AWS account',
  'curl -s "https://bedrock-runtime.us-east-1.amazonaws.com/model/$MODEL_ID/converse" -H "Authorization: Bearer $API_KEY" -H \'Content-Type: application/json\' -d \'{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}\'':
    'calls Amazon Bedrock in a real AWS account',
};

type Check = (ran: Ran) => void;

const json = (ran: Ran) => JSON.parse(ran.stdout) as { targets: { userName: string; outcome: string }[] };
const outcomes = (ran: Ran) => json(ran).targets.map((t) => t.outcome);
const ok = (ran: Ran) => expect(ran.code, ran.stderr).toBe(0);
const TABLE_HEADER = /^user\s+service\s+current\s+age\s+other\s+state\s+next\s+when$/m;

const ORG_TABLE_HEADER = /^account\s+user\s+service\s+current\s+age\s+other\s+state\s+next\s+when$/m;

/** The check of each command's output. */
const CHECKS: Record<string, Check> = {
  // README's organization section: the offline demo, then the table of the state it saved.
  'npm run demo:org': (ran) => {
    ok(ran);
    expect(ran.stdout).toMatch(/✓ the org alarm goes off for the throttled account/);
    expect(ran.stdout).not.toMatch(/✗/);
    expect(ran.stdout).toMatch(/saved to \.local\/org-state\.json/);
  },
  'npm run fleet -- --org': (ran) => {
    // The demo's throttled account failed its run: fleet exits 1, and says which targets.
    expect(ran.code, ran.stderr).toBe(1);
    expect(ran.stdout).toMatch(ORG_TABLE_HEADER);
    expect(ran.stdout).toMatch(
      /^analytics\s+app-keyspaces\s+cassandra\.amazonaws\.com\s+\(none\)\s+failed$/m,
    );
    expect(ran.stdout).toMatch(
      /^unmanaged credentials \(no target covers them; reported, never touched\): 1$/m,
    );
  },
  'npm start': (ran) => {
    ok(ran);
    expect(ran.stdout).toMatch(/✓ 12 steps, every check passed/);
    expect(ran.stdout).not.toMatch(/✗|next due/);
  },
  'npm start -- --verbose': (ran) => {
    ok(ran);
    expect(ran.stdout).toMatch(/✓ 12 steps, every check passed/);
    expect(ran.stdout + ran.stderr).toMatch(/"level":"INFO"/);
  },
  // README's (the first use: a new demo account, placeholders) and LOCAL.md's (after a bootstrap).
  'npm run -s invoke -- events/status.json': (ran) => {
    ok(ran);
    expect(outcomes(ran)).toHaveLength(3);
    expect(outcomes(ran)).toEqual(
      ran.stderr.includes('new demo account') ? Array(3).fill('planned') : Array(3).fill('unchanged'),
    );
  },
  'npm run fleet': (ran) => {
    ok(ran);
    expect(ran.stdout).toMatch(TABLE_HEADER);
  },
  'npm run emulator -- --help': (ran) => {
    ok(ran);
    expect(ran.stdout).toMatch(/^usage: npm run emulator -- /m);
    expect(ran.stderr).not.toMatch(/\n\s+at /);
  },
  'npm run -s fleet': (ran) => {
    ok(ran);
    expect(ran.stdout).toMatch(TABLE_HEADER);
    expect(ran.stdout.trim().split('\n')).toHaveLength(4);
  },
  'npm run emulator -- --port 4566': (ran) => {
    expect(ran.stdout).toMatch(/^AWS emulator listening on http:\/\/127\.0\.0\.1:\d+$/m);
    expect(ran.stderr).toMatch(/demo account: 3 targets with placeholder secrets/);
  },
  'npm run -s invoke -- events/scheduled-rule.json --reset': (ran) => {
    ok(ran);
    expect(outcomes(ran)).toEqual(['rotated', 'rotated', 'rotated']);
    expect(ran.stderr).toMatch(/why\s+placeholder value, so a first credential is issued/);
  },
  'npm run -s invoke -- events/scheduled-rule.json --advance 31d': (ran) => {
    ok(ran);
    expect(outcomes(ran)).toEqual(['rotated', 'rotated', 'rotated']);
    expect(ran.stderr).toMatch(/next rotation \S+ · delete ACCA\w+ \S+/);
  },
  'npm run -s invoke -- events/dry-run.json --advance 7d': (ran) => {
    ok(ran);
    const report = JSON.parse(ran.stdout) as { targets: { outcome: string; reason: string }[] };
    expect(report.targets.map((t) => [t.outcome, t.reason])).toEqual(
      Array(3).fill(['planned', 'would be retired']),
    );
  },
  'npm run -s invoke -- events/rotate-secret-force.json': (ran) => {
    ok(ran);
    expect(json(ran).targets.map((t) => `${t.userName} ${t.outcome}`)).toEqual(['app-keyspaces rotated']);
  },
  "npm run -s invoke -- events/status.json | jq '.targets[] | {userName, outcome, currentCredentialId, nextDueAt}'":
    (ran) => {
      ok(ran);
      const objects = ran.stdout
        .trim()
        .split(/\n(?=\{)/)
        .map((o) => JSON.parse(o) as Record<string, string>);
      expect(objects.map((o) => Object.keys(o))).toEqual(
        Array(3).fill(['userName', 'outcome', 'currentCredentialId', 'nextDueAt']),
      );
      // Day 38: app-keyspaces was just rotated by force; the others' old credentials are due
      // for deletion (the dry run before only said so).
      expect(objects.map((o) => o.outcome)).toEqual(['unchanged', 'planned', 'planned']);
    },
  'npm run emulator -- --port 4566 --state .local/emulator-state.json': (ran) => {
    expect(ran.stdout).toMatch(/^AWS emulator listening on /m);
    expect(ran.stderr).toMatch(/state \.local\/emulator-state\.json/);
  },
  'export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local':
    ok,
  'aws iam list-service-specific-credentials --user-name app-keyspaces': (ran) => {
    ok(ran);
    const listed = JSON.parse(ran.stdout) as { ServiceSpecificCredentials: { Status: string }[] };
    // The account the invoke steps above built: the forced rotate left the new credential and
    // the one it replaced.
    expect(listed.ServiceSpecificCredentials.map((c) => c.Status).sort()).toEqual(['Active', 'Inactive']);
  },
  "aws secretsmanager list-secrets --query 'SecretList[].Name'": (ran) => {
    ok(ran);
    expect(JSON.parse(ran.stdout)).toEqual([
      'service-credentials/app-keyspaces/cassandra.amazonaws.com',
      'service-credentials/app-codecommit/codecommit.amazonaws.com',
      'service-credentials/app-bedrock/bedrock.amazonaws.com',
    ]);
  },
  'npm run -s invoke -- events/reconcile.json --endpoint http://127.0.0.1:4566': (ran) => {
    ok(ran);
    expect(json(ran).targets).toHaveLength(3);
    expect(ran.stderr).toMatch(/^endpoint http:\/\/127\.0\.0\.1:\d+ \(region us-east-1; real clock\)$/m);
  },
  'npm run -s fleet -- --endpoint http://127.0.0.1:4566': (ran) => {
    ok(ran);
    expect(ran.stdout).toMatch(TABLE_HEADER);
    expect(ran.stdout).toMatch(/^app-keyspaces\s+cassandra\.amazonaws\.com\s+ACCA/m);
  },
};

/** The commands of one markdown document, in order. */
function commandsOf(markdown: string): string[] {
  const commands: string[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() === '```bash') {
      let pending = '';
      for (i++; i < lines.length && lines[i]?.trim() !== '```'; i++) {
        const line = (lines[i] ?? '').trim();
        if (line.endsWith('\\')) {
          pending += `${line.slice(0, -1).trim()} `;
          continue;
        }
        const command = `${pending}${line}`.replace(/\s+#\s.*$/, '').trim();
        pending = '';
        if (command !== '' && !command.startsWith('#')) commands.push(command);
      }
      continue;
    }
    for (const m of (lines[i] ?? '').matchAll(/`((?:npm|npx) [^`]+)`/g)) {
      const command = m[1] as string;
      // `npm run invoke -- <event>`, `--state FILE`: a form, not a command.
      if (!/<[^>]*>|\b[A-Z]{2,}\b/.test(command)) commands.push(command);
    }
  }
  return commands;
}

function freePort(): Promise<string> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(String(port)));
    });
  });
}

describe('the commands of README.md, docs/LOCAL.md and docs/USAGE.md', () => {
  const work = mkdtempSync(join(tmpdir(), 'documented-'));
  const home = join(work, 'home');
  const cwd = join(work, 'repo');
  const servers: ChildProcess[] = [];
  let port = '';

  beforeAll(async () => {
    // The repository's files, linked; .local/ (state, bench output) starts empty.
    mkdirSync(home);
    mkdirSync(cwd);
    for (const entry of readdirSync(ROOT)) {
      if (entry !== '.local' && entry !== '.git') symlinkSync(join(ROOT, entry), join(cwd, entry));
    }
    port = await freePort();
  });
  afterAll(async () => {
    await stopServers();
    rmSync(work, { recursive: true, force: true });
  });

  /** Stops the servers started (npm and the node process under it: the whole process group). */
  async function stopServers(): Promise<void> {
    await Promise.all(
      servers.splice(0).map(
        (s) =>
          new Promise<void>((done) => {
            if (s.exitCode !== null || s.signalCode !== null) return done();
            s.once('exit', () => done());
            process.kill(-(s.pid as number), 'SIGTERM');
          }),
      ),
    );
  }

  const documented = DOCS.flatMap((doc) =>
    commandsOf(readFileSync(join(ROOT, doc), 'utf8')).map((command) => ({ doc, command })),
  );

  it('lists every documented command, with a check or a reason', () => {
    const unlisted = documented.map((d) => d.command).filter((c) => !(c in CHECKS) && !(c in EXEMPT));
    expect(unlisted, 'add each to CHECKS or EXEMPT').toEqual([]);
    const stale = [...Object.keys(CHECKS), ...Object.keys(EXEMPT)].filter(
      (c) => !documented.some((d) => d.command === c),
    );
    expect(stale, 'no longer in the docs').toEqual([]);
  });

  it('runs each as written on a clean state, and each prints what the docs say', async () => {
    let env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      // The machine's AWS CLI is a pyenv shim, which finds its Python through PYENV_ROOT.
      ...(process.env.PYENV_ROOT ? { PYENV_ROOT: process.env.PYENV_ROOT } : {}),
      // The test environment's own settings stay out: the commands see a new user's shell.
      LANG: 'C.UTF-8',
      // npm would otherwise ask the registry whether a newer npm exists.
      npm_config_update_notifier: 'false',
    };
    const seen = new Set<string>();
    for (const { doc, command } of documented) {
      if (command in EXEMPT) continue;
      // A command shown twice runs once, but for invocations: they are steps of a sequence.
      if (seen.has(command) && !command.includes('events/')) continue;
      seen.add(command);
      const check = CHECKS[command] as Check;
      const line = command.replaceAll(DOC_PORT, port);
      if (command.startsWith('export ')) {
        env = { ...env, ...exportsOf(line) };
        continue;
      }
      const started = Date.now();
      const ran = command.startsWith('npm run emulator')
        ? await startServer(line, env)
        : await runShell(line, env);
      if (process.env.DEBUG_DOC_COMMANDS) console.log(`${Date.now() - started} ms ${command}`);
      try {
        check(ran);
      } catch (error) {
        throw new Error(`${doc}: \`${command}\`\n${(error as Error).message}\nstderr:\n${ran.stderr}`);
      }
    }
  }, 400_000);

  function exportsOf(line: string): Record<string, string> {
    return Object.fromEntries(
      [...line.replace(/^export\s+/, '').matchAll(/(\w+)=(\S+)/g)].map((m) => [
        m[1] as string,
        m[2] as string,
      ]),
    );
  }

  function runShell(line: string, env: Record<string, string>): Promise<Ran> {
    return outputOf(
      spawn('bash', ['-o', 'pipefail', '-c', line], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  }

  /** A long-running server: started, read until it listens, left running for the lines after it. */
  async function startServer(line: string, env: Record<string, string>): Promise<Ran> {
    // Stop the previous one first: each block starts its own on the same port.
    await stopServers();
    return new Promise((done) => {
      const child = spawn('bash', ['-c', line], {
        cwd,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      servers.push(child);
      let stdout = '';
      let stderr = '';
      const settle = () => {
        if (/listening on /.test(stdout) && /\n/.test(stderr)) done({ code: null, stdout, stderr });
      };
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        settle();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        settle();
      });
      child.once('exit', (code) => done({ code, stdout, stderr }));
    });
  }
});
