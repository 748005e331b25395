// The construct and the function share one set of naming rules (lambda/naming.ts): a name the
// construct deploys is one the function accepts at cold start and in its events, and a name
// the function refuses fails synth, with the same message. Before the rules were shared, a
// service name like "-x.amazonaws.com" or one of 130 characters passed synth and then failed
// the function at cold start.
import { describe, expect, it } from 'vitest';
import { ServiceCredentialRotator } from '../../infra/rotator/index.ts';
import { DECLARATION_VERSION } from '../../lambda/contract.ts';
import { parseDeclaration } from '../../lambda/declared-targets.ts';
import { parseEvent } from '../../lambda/events.ts';
import { nameProblem, SERVICE_NAME, USER_NAME } from '../../lambda/naming.ts';
import { newStack } from './helpers.ts';

const synth = (userName: string, serviceName: string) => () => {
  const { stack } = newStack();
  new ServiceCredentialRotator(stack, 'Rotator', {
    targets: [{ userName, serviceName, allowUnknownService: true }],
  });
};
const coldStart = (userName: string, serviceName: string) => () =>
  parseDeclaration({
    version: DECLARATION_VERSION,
    targets: [{ secretName: 'rotated/u', userName, serviceName, allowUnknownService: true }],
  });
const event = (userName: string, serviceName: string) => () =>
  parseEvent({ action: 'rotate', userName, serviceName });

describe('one naming rule set for the construct and the function', () => {
  it.each([
    ['a label starting with a hyphen', '-x.amazonaws.com'],
    ['a label ending with a hyphen', 'x-.amazonaws.com'],
    ['130 characters', `${'a'.repeat(116)}.amazonaws.com`],
    ['upper case', 'Cassandra.amazonaws.com'],
    ['another domain', 'cassandra.example.com'],
  ])('a service name with %s fails synth, cold start and the event with the same message', (_, bad) => {
    const problem = nameProblem(SERVICE_NAME, bad) as string;
    expect(problem).toMatch(/^must be a service name/);
    expect(synth('u', bad)).toThrow(`targets[0].serviceName ${problem}`);
    expect(coldStart('u', bad)).toThrow(problem);
    expect(event('u', bad)).toThrow(`"serviceName" must be ${SERVICE_NAME.expected}`);
  });

  it('a user name with a comma (no tag value takes one) fails all three with the same message', () => {
    const problem = nameProblem(USER_NAME, 'ci,bot') as string;
    expect(synth('ci,bot', 'cassandra.amazonaws.com')).toThrow(`targets[0].userName ${problem}`);
    expect(coldStart('ci,bot', 'cassandra.amazonaws.com')).toThrow(problem);
    expect(event('ci,bot', 'cassandra.amazonaws.com')).toThrow(`"userName" must be ${USER_NAME.expected}`);
  });

  it.each([
    ['the longest service name', `${'a'.repeat(114)}.amazonaws.com`],
    ['a service AWS adds later', 'new-service.eu.amazonaws.com'],
  ])('%s passes all three', (_, good) => {
    expect(good.length).toBeLessThanOrEqual(128);
    expect(synth('ci+bot=1.a@b_c-d', good)).not.toThrow();
    expect(coldStart('ci+bot=1.a@b_c-d', good)).not.toThrow();
    expect(event('ci+bot=1.a@b_c-d', good)).not.toThrow();
  });
});
