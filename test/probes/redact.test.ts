// redactSecret: the last line of defence for text a library wrote.
import { describe, expect, it } from 'vitest';
import { redactSecret } from '../../lambda/probes/index.ts';

describe('redactSecret', () => {
  const credential = { serviceUserName: 'app-at-123456789012', secret: 'p@ss "w/ord"+=' };

  it.each([
    ['as is', credential.secret],
    ['JSON-escaped', JSON.stringify(credential.secret).slice(1, -1)],
    ['URL-encoded', encodeURIComponent(credential.secret)],
    [
      'in a Basic token',
      Buffer.from(`${credential.serviceUserName}:${credential.secret}`).toString('base64'),
    ],
  ])('removes the secret %s', (_form, text) => {
    const out = redactSecret(`failed with ${text} inside`, credential);
    expect(out).toBe('failed with [redacted] inside');
  });

  it('leaves text without the secret alone', () => {
    expect(redactSecret('ECONNREFUSED', credential)).toBe('ECONNREFUSED');
  });
});
