// The construct's verification settings: the deployment's mode reaches the function's
// environment (read back by loadConfig), a target's own settings become its secret's tags
// (read back by discovery), and a bad value fails synth naming it.
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambda/config.ts';
import { CODECOMMIT_REPOSITORY_TAG, ENV, VERIFICATION_TAG } from '../../lambda/contract.ts';
import { verificationFromTags } from '../../lambda/rotation/discovery.ts';
import { rotatorTemplate } from './helpers.ts';

function functionEnvironment(
  template: ReturnType<typeof rotatorTemplate>['template'],
): Record<string, string> {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
  const env = fn?.Properties.Environment.Variables as Record<string, unknown>;
  // The stack id is a CloudFormation reference until deployment: the stack's ARN then.
  return {
    ...env,
    [ENV.deploymentStackId]: 'arn:aws:cloudformation:us-east-1:111111111111:stack/Rotator/0d2f6a10',
  } as Record<string, string>;
}

describe('ServiceCredentialRotator verification', () => {
  it("writes the deployment's mode for the function, and leaves it out by default (the function's default applies)", () => {
    const env = functionEnvironment(rotatorTemplate({ verification: 'warn' }).template);
    expect(env[ENV.verification]).toBe('warn');
    expect(loadConfig(env).verification).toBe('warn');
    expect(functionEnvironment(rotatorTemplate().template)[ENV.verification]).toBeUndefined();
  });

  it("tags a target's secret with its own settings, which discovery reads back", () => {
    const { template } = rotatorTemplate({
      targets: [
        {
          userName: 'ci-git',
          serviceName: 'codecommit.amazonaws.com',
          verification: 'off',
          codeCommitRepository: 'app-repo',
        },
      ],
    });
    const tags = [
      { Key: VERIFICATION_TAG, Value: 'off' },
      { Key: CODECOMMIT_REPOSITORY_TAG, Value: 'app-repo' },
    ];
    for (const tag of tags) {
      template.hasResourceProperties('AWS::SecretsManager::Secret', { Tags: Match.arrayWith([tag]) });
    }
    expect(verificationFromTags(Object.fromEntries(tags.map((t) => [t.Key, t.Value])))).toEqual({
      mode: 'off',
      codeCommitRepository: 'app-repo',
    });
  });

  it('fails synth on a mode that is not one, naming the prop and the accepted values', () => {
    expect(() => rotatorTemplate({ verification: 'strict' as 'warn' })).toThrow(
      'verification must be one of off, warn, enforce, got "strict"',
    );
    expect(() =>
      rotatorTemplate({
        targets: [{ userName: 'a', serviceName: 'cassandra.amazonaws.com', verification: 'on' as 'off' }],
      }),
    ).toThrow('targets[0].verification must be one of off, warn, enforce, got "on"');
  });
});
