import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests never reach AWS: dummy credentials, and every endpoint points at loopback
// (nothing listens on port 9 — a test that forgets its emulator fails fast).
export default defineConfig({
  // The package's own name means its source here, as in tsconfig.json "paths".
  resolve: {
    alias: {
      'service-credential-rotator': fileURLToPath(new URL('infra/rotator/index.ts', import.meta.url)),
    },
  },
  test: {
    globalSetup: ['test/build-package.ts'],
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Off a terminal (CI, a pipe) only failures and the closing summary are printed, not a row
    // per file; `npm test` also sets NO_COLOR there (vitest reads it before this file), so the
    // log is plain text. The JSON twin lets .ci/run print a plain "N passed, N failed" line.
    reporters: [
      process.stdout.isTTY ? 'default' : 'minimal',
      ['json', { outputFile: '.local/vitest-results.json' }],
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_DEV: 'false',
      CDK_VALIDATION: 'false',
    },
  },
});
