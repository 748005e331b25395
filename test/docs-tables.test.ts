// The docs' tables that restate code, held to the code so that they cannot drift:
// - generated (between `<!-- generated:NAME ... -->` and `<!-- end generated:NAME -->`): the
//   construct's props with their defaults and the target's settings (from the TSDoc of
//   infra/rotator/props.ts and lambda/contract.ts), and the alarms (from the construct);
//   regenerate with UPDATE_DOCS=1 npx vitest run test/docs-tables.test.ts
// - checked: the environment variables (lambda/contract.ts ENV), the cdk.json keys
//   (infra/config.ts), the validation-pack acknowledgements (infra/rotator/ in docs/SECURITY.md,
//   infra/org/ in docs/OPERATIONS.md), the metric names
//   (lambda/telemetry.ts, listed in docs/USAGE.md only) and the number of alarms the docs mention.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_KEYS } from '../infra/config.ts';
import { ServiceCredentialRotator } from '../infra/rotator/index.ts';
import * as props from '../infra/rotator/props.ts';
import { DEFAULT_POLICY, ENV } from '../lambda/contract.ts';
import { SERVICE_NAME_DIMENSION } from '../lambda/notify.ts';
import { METRIC, METRICS_NAMESPACE, POWERTOOLS_ENVIRONMENT } from '../lambda/telemetry.ts';
import { newStack, TARGETS } from './infra/helpers.ts';

const ROOT = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');
const REGENERATE = 'UPDATE_DOCS=1 npx vitest run test/docs-tables.test.ts';

/** One member of an interface: its name, whether optional, its type, TSDoc text and @default. */
interface Member {
  readonly name: string;
  readonly optional: boolean;
  readonly type: string;
  readonly doc: string;
  readonly defaultText: string | undefined;
}

/** The members of `interface name` in a TypeScript source, with their TSDoc. */
function membersOf(source: string, name: string): Member[] {
  const start = source.indexOf(`export interface ${name} `);
  if (start < 0) throw new Error(`interface ${name} not found`);
  const body = source.slice(source.indexOf('{', start) + 1, source.indexOf('\n}', start));
  const members: Member[] = [];
  for (const m of body.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*readonly (\w+)(\?)?:\s*([^;]+);/g)) {
    const text = (m[1] as string)
      .split('\n')
      .map((l) => l.replace(/^\s*\*\s?/, '').trim())
      .join(' ')
      .trim();
    const [doc, defaultText] = text.split(/\s*@default\s*/);
    members.push({
      name: m[2] as string,
      optional: m[3] === '?',
      type: (m[4] as string).replace(/\s*\|\s*undefined$/, '').replace(/\s+/g, ' '),
      doc: (doc ?? '').trim(),
      defaultText: defaultText?.trim(),
    });
  }
  return members;
}

/** A default that names a constant of the props module shows the constant's value too. */
function shownDefault(member: Member): string {
  const text = member.defaultText;
  if (text === undefined) return member.optional ? '' : 'required';
  const value = (props as Record<string, unknown>)[text];
  return /^[A-Z][A-Z0-9_]+$/.test(text) && value !== undefined ? `${String(value)} (\`${text}\`)` : text;
}

const cell = (text: string) => text.replaceAll('|', '\\|').replace(/\s+/g, ' ').trim();
const row = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
const table = (header: readonly string[], rows: readonly (readonly string[])[]) =>
  [row(header), `| ${header.map(() => '---').join(' | ')} |`, ...rows.map(row)].join('\n');

/** The cdk.json key each prop comes from, read from the app's mapping (infra/app.ts, stack.ts). */
function cdkJsonKeys(): Map<string, string> {
  const app = read('infra/app.ts');
  const mapping = app.slice(app.indexOf('function rotatorProps('));
  const keys = new Map<string, string>();
  for (const m of mapping.matchAll(/^\s+(\w+):[^,]*?\benv\.(policy\?\.)?(\w+)/gm)) {
    keys.set(m[1] as string, `${m[2] ? 'policy.' : ''}${m[3]}`);
  }
  // The stack turns these two keys into the key and the network the construct takes.
  const stack = read('infra/stack.ts');
  if (/encryptionKey/.test(stack) && /kmsKey/.test(app)) keys.set('encryptionKey', 'kmsKey');
  for (const p of ['vpc', 'vpcSubnets', 'securityGroups'])
    if (new RegExp(`\\b${p}\\b`).test(stack)) keys.set(p, 'vpc');
  return keys;
}

function propsTable(): string {
  const keys = cdkJsonKeys();
  const rows = membersOf(read('infra/rotator/props.ts'), 'ServiceCredentialRotatorProps').map((m) => [
    `\`${m.name}\``,
    `\`${m.type}\``,
    shownDefault(m),
    keys.has(m.name) ? `\`${keys.get(m.name)}\`` : '(props only)',
  ]);
  return table(['prop', 'type', 'default', 'cdk.json key'], rows);
}

function targetTable(): string {
  const own = membersOf(read('infra/rotator/props.ts'), 'RotationTarget');
  const verification = membersOf(read('lambda/contract.ts'), 'TargetVerificationSettings');
  const rows = [...own, ...verification].map((m) => [
    `\`${m.name}\``,
    `\`${m.type}\``,
    shownDefault(m),
    m.doc,
  ]);
  return table(['field', 'type', 'default', 'meaning'], rows);
}

function alarmsTable(): string {
  const { stack } = newStack();
  const rotator = new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS });
  const docs = new Map(
    membersOf(read('infra/rotator/props.ts'), 'RotatorAlarms').map((m) => [m.name, m.doc]),
  );
  const resources = Template.fromStack(stack).toJSON().Resources as Record<
    string,
    { Properties: { AlarmDescription?: string } }
  >;
  const rows = Object.entries(rotator.alarms).map(([key, alarm]) => {
    const logicalId = stack.getLogicalId(alarm.node.defaultChild as CfnElement);
    const description = resources[logicalId]?.Properties.AlarmDescription ?? '';
    const runbook = /docs\/OPERATIONS\.md(#[a-z0-9-]+)/.exec(description)?.[1];
    return [
      `\`${alarm.node.id}\``,
      `\`alarms.${key}\``,
      docs.get(key) ?? '',
      runbook ? `[runbook](${runbook})` : '',
    ];
  });
  return table(['alarm', 'property', 'fires when', 'runbook'], rows);
}

const GENERATED: Record<string, { readonly doc: string; readonly render: () => string }> = {
  props: { doc: 'docs/OPERATIONS.md', render: propsTable },
  'target-props': { doc: 'docs/OPERATIONS.md', render: targetTable },
  alarms: { doc: 'docs/OPERATIONS.md', render: alarmsTable },
};

/** The text between a generated block's markers, and the whole block. */
function blockIn(document: string, name: string): { inner: string; start: number; end: number } | undefined {
  const open = new RegExp(`<!-- generated:${name} [^\\n]*-->\\n`).exec(document);
  const close = document.indexOf(`<!-- end generated:${name} -->`);
  if (!open || close < 0) return undefined;
  return {
    inner: document.slice(open.index + open[0].length, close),
    start: open.index + open[0].length,
    end: close,
  };
}

describe('generated tables', () => {
  it.each(Object.entries(GENERATED))('%s is what the code says', (name, { doc, render }) => {
    const document = read(doc);
    const block = blockIn(document, name);
    expect(block, `${doc} has no <!-- generated:${name} --> block`).toBeDefined();
    const expected = `${render()}\n`;
    if (process.env.UPDATE_DOCS === '1' && block && block.inner !== expected) {
      writeFileSync(
        new URL(doc, ROOT),
        document.slice(0, block.start) + expected + document.slice(block.end),
      );
      return;
    }
    expect(block?.inner, `${doc} is out of date: regenerate with ${REGENERATE}`).toBe(expected);
  });

  it('each alarm has a runbook heading in docs/OPERATIONS.md', () => {
    const headings = new Set(
      [...read('docs/OPERATIONS.md').matchAll(/^#+ (.+)$/gm)].map(
        (m) =>
          `#${(m[1] as string)
            .toLowerCase()
            .replace(/[^a-z0-9 -]/g, '')
            .replaceAll(' ', '-')}`,
      ),
    );
    const anchors = [...alarmsTable().matchAll(/\]\((#[a-z0-9-]+)\)/g)].map((m) => m[1] as string);
    expect(anchors.length, 'every alarm description names its runbook').toBe(
      Object.keys(new ServiceCredentialRotator(newStack().stack, 'Rotator', { targets: TARGETS }).alarms)
        .length,
    );
    expect(
      anchors.filter((a) => !headings.has(a)),
      'alarm descriptions link to missing headings',
    ).toEqual([]);
  });
});

/** The rows of every markdown table whose header's first cell is `first`, as cells. */
function tablesHeaded(document: string, first: string): string[][][] {
  const tables: string[][][] = [];
  const lines = document.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const cells = splitRow(lines[i] ?? '');
    if (cells?.[0] !== first) continue;
    const rows: string[][] = [];
    for (i += 2; i < lines.length && (lines[i] ?? '').startsWith('|'); i++)
      rows.push(splitRow(lines[i] ?? '') ?? []);
    tables.push(rows);
  }
  return tables;
}

function splitRow(line: string): string[] | undefined {
  if (!line.startsWith('|')) return undefined;
  return line
    .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

const codesIn = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
const DOCS = ['README.md', ...readdirSync(new URL('docs/', ROOT)).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

describe('checked tables', () => {
  it("every environment-variable table lists exactly the function's variables, policy defaults included", () => {
    const ours = new Set<string>([...Object.values(ENV), ...Object.keys(POWERTOOLS_ENVIRONMENT)]);
    const tables = DOCS.flatMap((doc) => tablesHeaded(read(doc), 'variable').map((rows) => ({ doc, rows })));
    expect(tables.map((t) => t.doc)).toContain('docs/OPERATIONS.md');
    for (const { doc, rows } of tables) {
      const shown = rows.map((r) => codesIn(r[0] ?? '')[0] ?? '');
      const wanted = doc === 'docs/OPERATIONS.md' ? [...ours] : Object.values(ENV);
      expect(
        wanted.filter((v) => !shown.includes(v)),
        `${doc}: add a row for each variable lambda/contract.ts ENV defines`,
      ).toEqual([]);
      expect(
        shown.filter((v) => !ours.has(v)),
        `${doc}: remove the rows of variables the function does not read`,
      ).toEqual([]);
      for (const [key, variable] of Object.entries({
        rotateAfterDays: ENV.rotateAfterDays,
        overlapDays: ENV.overlapDays,
        gracePeriodDays: ENV.gracePeriodDays,
      })) {
        const r = rows.find((cells) => codesIn(cells[0] ?? '')[0] === variable);
        expect(r?.at(-1), `${doc}: ${variable}'s default is DEFAULT_POLICY.${key}`).toBe(
          String(DEFAULT_POLICY[key as keyof typeof DEFAULT_POLICY]),
        );
      }
    }
  });

  it('the cdk.json key table lists exactly the keys infra/config.ts accepts', () => {
    const [rows] = tablesHeaded(read('docs/OPERATIONS.md'), 'key');
    const shown = (rows ?? []).flatMap((r) => codesIn(r[0] ?? '').map((k) => k.replace(/\[\]$/, '')));
    expect(
      ENVIRONMENT_KEYS.filter((k) => !shown.includes(k)),
      'docs/OPERATIONS.md, Configuration: add a row for each key',
    ).toEqual([]);
    expect(
      shown.filter((k) => !ENVIRONMENT_KEYS.includes(k)),
      'docs/OPERATIONS.md, Configuration: remove the rows of keys infra/config.ts does not accept',
    ).toEqual([]);
  });

  it.each([
    { dir: 'infra/rotator/', doc: 'docs/SECURITY.md' },
    { dir: 'infra/org/', doc: 'docs/OPERATIONS.md' },
  ])(
    'the acknowledgement table of $doc lists each acknowledgement in $dir once, and no other',
    ({ dir, doc }) => {
      // Every `Validations.of(...).acknowledge({ id })` in the directory, one entry per call site.
      const acknowledged = readdirSync(new URL(dir, ROOT))
        .filter((f) => f.endsWith('.ts'))
        .flatMap((f) => {
          const source = read(`${dir}${f}`);
          return [...source.matchAll(/\.acknowledge\(([\s\S]*?)\);/g)].flatMap((call) =>
            [...(call[1] as string).matchAll(/\bid:\s*[`'"]([^`'"]+)[`'"]/g)].map((m) => m[1] as string),
          );
        })
        .sort();
      expect(acknowledged.length, `${dir} acknowledges nothing: is the pattern still right?`).toBeGreaterThan(
        0,
      );
      const tables = tablesHeaded(read(doc), 'rule');
      expect(tables, `${doc}: one table headed "| rule | resource | reason |"`).toHaveLength(1);
      const [rows] = tables;
      // A documented rule matches an acknowledged one exactly, or by its visible parts around `...`.
      const matches = (shown: string, id: string) =>
        new RegExp(
          `^${shown
            .split('...')
            .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
        ).test(id);
      // The rule cell's code spans that name a rule (the others name the setting it depends on).
      const documented = (rows ?? [])
        .flatMap((r) => codesIn(r[0] ?? ''))
        .filter((c) => /^(AwsSolutions-|NIST\.|cdk-validator-cfnguard::)/.test(c));
      const unmatched = [...acknowledged];
      const extra: string[] = [];
      for (const shown of documented) {
        const i = unmatched.findIndex((id) => matches(shown, id));
        if (i >= 0) unmatched.splice(i, 1);
        else extra.push(shown);
      }
      expect(unmatched, `${doc}: add a row (rule, resource, reason) for each acknowledgement`).toEqual([]);
      expect(extra, `${doc}: remove the rows no acknowledgement in ${dir} backs`).toEqual([]);
    },
  );

  it("docs/USAGE.md's metric list (the only one; DESIGN.md links to it) names exactly lambda/telemetry.ts's metrics", () => {
    const usage = read('docs/USAGE.md');
    const start = usage.indexOf('Metrics (CloudWatch EMF');
    expect(start, 'docs/USAGE.md: the paragraph "Metrics (CloudWatch EMF, ..." is missing').toBeGreaterThan(
      0,
    );
    const paragraph = usage.slice(start, usage.indexOf('\n\n', start));
    // The paragraph's code spans that look like metric names; the namespace and the per-service
    // dimension are named there too.
    const shown = codesIn(paragraph).filter(
      (c) => /^[A-Z][A-Za-z]+$/.test(c) && c !== METRICS_NAMESPACE && c !== SERVICE_NAME_DIMENSION,
    );
    const names = Object.values(METRIC) as string[];
    expect(
      names.filter((n) => !shown.includes(n)),
      'docs/USAGE.md: add each metric METRIC defines',
    ).toEqual([]);
    expect(
      shown.filter((n) => !names.includes(n)),
      'docs/USAGE.md: remove the metrics lambda/telemetry.ts does not define',
    ).toEqual([]);
    // One list: the other docs link to it instead of restating it.
    const restated = DOCS.filter(
      (doc) => doc !== 'docs/USAGE.md' && names.every((n) => read(doc).includes(`\`${n}\``)),
    );
    expect(restated, 'list the metrics in docs/USAGE.md only and link to it').toEqual([]);
  });

  it('every "N alarms" in the docs is the number the construct creates', () => {
    const count = Object.keys(
      new ServiceCredentialRotator(newStack().stack, 'Rotator', { targets: TARGETS }).alarms,
    ).length;
    const mentions = DOCS.flatMap((doc) =>
      [...read(doc).matchAll(/\b(\d+) (?:CloudWatch )?alarms\b/g)].map((m) => `${doc}: ${m[0]}`),
    );
    expect(mentions.length).toBeGreaterThan(0);
    expect(
      mentions.filter((m) => !m.endsWith(`: ${count} alarms`) && !m.endsWith(`: ${count} CloudWatch alarms`)),
    ).toEqual([]);
  });
});

describe("README's construct example", () => {
  it('is examples/own-app.ts, which tsc type-checks, as written', () => {
    const readme = read('README.md');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README.md: copy examples/own-app.ts into its ```ts block').toBe(
      read('examples/own-app.ts'),
    );
  });

  it('runs: the construct accepts its props (a refused prop throws at construction)', async () => {
    // Without the CLI's CDK_OUTDIR the app does not synthesise on exit: importing only constructs.
    await expect(import('../examples/own-app.ts')).resolves.toBeDefined();
  });
});

describe('links between the docs', () => {
  /** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
  const anchorOf = (heading: string) =>
    heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replaceAll(' ', '-');
  const anchorsOf = (markdown: string) =>
    new Set([...markdown.matchAll(/^#+ (.+)$/gm)].map((m) => `#${anchorOf(m[1] as string)}`));

  it('every relative link names a file that exists, and a heading in it', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const doc of DOCS) {
      const base = new URL(doc, ROOT);
      for (const m of read(doc).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] as string;
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#');
        checked++;
        const file = path ? new URL(path, base) : base;
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch {
          if (!path?.endsWith('/')) broken.push(`${doc}: ${target} (no such file)`);
          continue;
        }
        if (anchor && file.pathname.endsWith('.md') && !anchorsOf(text).has(`#${anchor}`)) {
          broken.push(`${doc}: ${target} (no such heading)`);
        }
      }
    }
    expect(checked, "the link pattern finds the docs' links").toBeGreaterThan(40);
    expect(broken).toEqual([]);
  });
});
