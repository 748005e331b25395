// What a child process printed, and how it ended: the integration tests that run the
// documented commands and scripts as a user would read this, not an in-process result.
import type { ChildProcess } from 'node:child_process';

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Resolves when `child` closes, with everything it wrote to stdout and stderr. */
export function outputOf(child: ChildProcess): Promise<Ran> {
  return new Promise((done) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}
