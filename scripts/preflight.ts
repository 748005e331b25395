// Imported by the local scripts before anything that loads lambda/handler.ts: that module
// builds the production handler at import (its cold start), so an invalid policy variable
// would end in a stack trace. Here it ends in one line naming the variable and the expected
// form, with exit code 2, and nothing is touched.
import { loadConfig } from '../lambda/config.ts';
import { ConfigError } from '../lambda/errors.ts';

try {
  loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(
    `${error.message}\n(ROTATE_AFTER_DAYS, OVERLAP_DAYS and GRACE_PERIOD_DAYS take days, e.g. ROTATE_AFTER_DAYS=30; unset means the default)\n`,
  );
  process.exit(2);
}
