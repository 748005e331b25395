// Builds the installable package into lib/: the handler bundled once here (esbuild: ESM,
// minified, AWS SDK included) so that a consumer's `cdk synth` needs no esbuild, no
// TypeScript loader and no Docker; and the construct library compiled by tsc (JavaScript
// and .d.ts, tsconfig.build.json). `npm run build`; the tests' global setup runs it too.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuildOptions, build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const LIB_DIR = fileURLToPath(new URL('../lib/', import.meta.url));

/**
 * How the deployed handler is bundled. The SDK is bundled rather than taken from the
 * runtime: it initialises faster and carries the fields this code relies on (AllUsers,
 * Bedrock's ServiceCredentialSecret) whatever SDK version the runtime ships.
 */
export const HANDLER_BUNDLE: BuildOptions = {
  entryPoints: ['lambda/handler.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  // Node 20 so the tests can load the same bundle; the runtime is Node 24.
  target: 'node20',
  minify: true,
  mainFields: ['module', 'main'],
  // ESM bundles of CJS dependencies still call require(): give them one (every output file).
  banner: { js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);" },
  logLevel: 'warning',
  // Code split at dynamic imports: cassandra-driver (a third of the bundle), which only the
  // Keyspaces probe needs and imports with `await import()`, goes into a chunk of its own
  // that Node reads on first use, not at every cold start. The chunks sit beside index.mjs in
  // the same asset directory and are imported by relative path.
  splitting: true,
  entryNames: 'index',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
};

/** The deployed handler's directory in the package: `index.mjs` and its `chunks/`. */
export const HANDLER_DIR = 'lib/handler';

export async function buildPackage(): Promise<void> {
  rmSync(LIB_DIR, { recursive: true, force: true });
  await build({ ...HANDLER_BUNDLE, absWorkingDir: ROOT, outdir: HANDLER_DIR });
  execFileSync(
    process.execPath,
    [
      fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)),
      '-p',
      'tsconfig.build.json',
    ],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildPackage();
}
