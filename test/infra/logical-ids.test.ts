// Existing deployments must never see a resource replaced because code moved: a changed
// logical id makes CloudFormation delete the old resource and create a new one, which for
// a secret loses the only copy of a credential. logical-ids.json is the list as deployed
// before the construct became a library; it grows by new, optional resources, and loses only
// stateless ones whose removal destroys nothing (StartRotationPolicy, an IAM policy granting
// permissions the function stopped using).
import { readFileSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../infra/app.ts';
import { SKIP_BUNDLING, tempOutdir } from './helpers.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const pinned = JSON.parse(readFileSync(new URL('./logical-ids.json', import.meta.url), 'utf8')) as Record<
  string,
  Record<string, string>
>;

describe('the example stacks of cdk.json', () => {
  const app = createApp({
    context: { ...cdkJson.context, ...SKIP_BUNDLING },
    outdir: tempOutdir(),
    validationPacks: false,
  });
  const stacks = app.node.children.filter((c): c is Stack => c instanceof Stack);

  it('are the pinned stacks', () => {
    expect(stacks.map((s) => s.stackName)).toEqual(Object.keys(pinned));
  });

  it.each(Object.keys(pinned))('%s keeps every logical id and resource type', (name) => {
    const stack = stacks.find((s) => s.stackName === name) as Stack;
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>;
    const actual = Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.Type]));
    expect(actual).toEqual(pinned[name]);
  });
});
