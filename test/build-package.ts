// Vitest global setup: builds the package (lib/) once per run, so the construct finds its
// bundled handler and the pack test packs what a consumer would install, on a fresh clone too.
import { buildPackage } from '../scripts/build.ts';

export default async function setup(): Promise<void> {
  await buildPackage();
}
