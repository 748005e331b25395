// The construct refuses a timeout that cannot fit one rotation (lambda/budget.ts), at synth,
// so a target added with addTarget() after construction counts too.
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ServiceCredentialRotator } from '../../infra/rotator/index.ts';
import { newStack, TARGETS } from './helpers.ts';

function synth(build: (stack: ReturnType<typeof newStack>['stack']) => void): () => Template {
  const { stack } = newStack();
  build(stack);
  return () => Template.fromStack(stack);
}

describe('ServiceCredentialRotator timeout', () => {
  it('fails synth below one verified rotation, naming the minimum and why', () => {
    const template = synth((stack) => {
      new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS, timeout: Duration.seconds(120) });
    });
    expect(template).toThrow(/timeout: a timeout of 120 s cannot fit one verified rotation: at least 135 s/);
    expect(template).toThrow(/80 s of probe retries/);
  });

  it('accepts the default and 135 s', () => {
    expect(
      synth((stack) => new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS })),
    ).not.toThrow();
    const exact = synth((stack) => {
      new ServiceCredentialRotator(stack, 'Rotator', { targets: TARGETS, timeout: Duration.seconds(135) });
    });
    expect(exact).not.toThrow();
  });

  it('applies the unverified minimum only when every target is off', () => {
    const allOff = synth((stack) => {
      new ServiceCredentialRotator(stack, 'Rotator', {
        targets: TARGETS,
        verification: 'off',
        timeout: Duration.seconds(60),
      });
    });
    expect(allOff).not.toThrow();
    const tooShort = synth((stack) => {
      new ServiceCredentialRotator(stack, 'Rotator', {
        targets: TARGETS,
        verification: 'off',
        timeout: Duration.seconds(40),
      });
    });
    expect(tooShort).toThrow(/a timeout of 40 s cannot fit one unverified rotation: at least 45 s/);
    const addedLater = synth((stack) => {
      const rotator = new ServiceCredentialRotator(stack, 'Rotator', {
        targets: TARGETS,
        verification: 'off',
        timeout: Duration.seconds(60),
      });
      rotator.addTarget({ userName: 'late', serviceName: 'bedrock.amazonaws.com', verification: 'enforce' });
    });
    expect(addedLater).toThrow(/at least 135 s/);
  });
});
