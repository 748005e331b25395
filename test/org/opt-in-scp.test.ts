// The sample SCP that fences the opt-in tag (infra/org/opt-in-scp.json), proven by policy
// simulation (@cloud-copilot/iam-simulate, offline): in a member account, even an
// administrator cannot opt a user in or out, nor create a user opted in; only the role the SCP
// names can. Other tags stay free.
import { readFileSync } from 'node:fs';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { OPT_IN_TAG } from '../../lambda/opt-in.ts';

const MEMBER = '111111111111';
const ORG = 'o-a1b2c3d4e5';
const SCP = JSON.parse(readFileSync(new URL('../../infra/org/opt-in-scp.json', import.meta.url), 'utf8'));
const ADMIN_OF_ACCOUNT = `arn:aws:iam::${MEMBER}:role/AccountAdministrator`;
const OPT_IN_ADMIN = `arn:aws:iam::${MEMBER}:role/CredentialRotatorOptInAdmin`;
const USER = `arn:aws:iam::${MEMBER}:user/data-pipeline`;

async function decide(principal: string, action: string, tagKeys: string[], resource: string = USER) {
  const simulation: Simulation = {
    // Both principals hold AdministratorAccess in their account: only the SCP tells them apart.
    identityPolicies: [
      {
        name: 'AdministratorAccess',
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
      },
    ],
    serviceControlPolicies: [
      {
        orgIdentifier: ORG,
        policies: [
          {
            name: 'FullAWSAccess',
            policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
          },
        ],
      },
      {
        orgIdentifier: 'ou-ab12-34567890',
        policies: [
          {
            name: 'FullAWSAccess',
            policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
          },
          { name: 'CredentialRotatorOptIn', policy: SCP },
        ],
      },
    ],
    resourceControlPolicies: [],
    request: {
      action,
      principal,
      resource: { accountId: MEMBER, resource },
      contextVariables: {
        'aws:PrincipalOrgID': ORG,
        'aws:PrincipalArn': principal,
        ...(tagKeys.length > 0 ? { 'aws:TagKeys': tagKeys } : {}),
      },
    },
  };
  const response = await runSimulation(simulation, {});
  if (response.resultType === 'error') throw new Error(JSON.stringify(response.errors));
  return response.overallResult;
}

describe('the opt-in SCP (infra/org/opt-in-scp.json), simulated', () => {
  it('an account administrator cannot opt a user in, opt it out, or create it opted in', async () => {
    expect(await decide(ADMIN_OF_ACCOUNT, 'iam:TagUser', [OPT_IN_TAG])).toBe('ExplicitlyDenied');
    expect(await decide(ADMIN_OF_ACCOUNT, 'iam:UntagUser', [OPT_IN_TAG])).toBe('ExplicitlyDenied');
    expect(await decide(ADMIN_OF_ACCOUNT, 'iam:CreateUser', ['team', OPT_IN_TAG])).toBe('ExplicitlyDenied');
  });

  it('the opt-in administrator role can', async () => {
    expect(await decide(OPT_IN_ADMIN, 'iam:TagUser', [OPT_IN_TAG])).toBe('Allowed');
    expect(await decide(OPT_IN_ADMIN, 'iam:UntagUser', [OPT_IN_TAG])).toBe('Allowed');
    expect(await decide(OPT_IN_ADMIN, 'iam:CreateUser', [OPT_IN_TAG])).toBe('Allowed');
  });

  it('other tags stay with the account', async () => {
    expect(await decide(ADMIN_OF_ACCOUNT, 'iam:TagUser', ['team'])).toBe('Allowed');
    expect(await decide(ADMIN_OF_ACCOUNT, 'iam:UntagUser', ['cost-center'])).toBe('Allowed');
  });

  it('nobody but StackSets can create the opt-in administrator role or change who may assume it', async () => {
    const role = OPT_IN_ADMIN;
    expect(await decide(ADMIN_OF_ACCOUNT, 'iam:CreateRole', [], role)).toBe('ExplicitlyDenied');
    expect(await decide(ADMIN_OF_ACCOUNT, 'iam:UpdateAssumeRolePolicy', [], role)).toBe('ExplicitlyDenied');
    expect(await decide(ADMIN_OF_ACCOUNT, 'iam:AttachRolePolicy', [], role)).toBe('ExplicitlyDenied');
    const stackSets = `arn:aws:iam::${MEMBER}:role/stacksets-exec-0123456789abcdef`;
    expect(await decide(stackSets, 'iam:CreateRole', [], role)).toBe('Allowed');
    expect(await decide(stackSets, 'iam:UpdateAssumeRolePolicy', [], role)).toBe('Allowed');
    // Other roles stay with the account.
    expect(await decide(ADMIN_OF_ACCOUNT, 'iam:CreateRole', [], `arn:aws:iam::${MEMBER}:role/app`)).toBe(
      'Allowed',
    );
  });
});
