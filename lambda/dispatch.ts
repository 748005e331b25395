// One command, one runner: Secrets Manager's rotation steps go to the step runner
// (rotation/protocol.ts), every other command to the run (rotation/run.ts). Neither imports
// the other; this is where they meet, for the handler and for local runs.
import type { Command } from './rotation/commands.ts';
import type { RunDeps } from './rotation/deps.ts';
import type { RunReport } from './rotation/model.ts';
import { runRotationStep } from './rotation/protocol.ts';
import { runTargets } from './rotation/run.ts';

export function runCommand(command: Command, deps: RunDeps): Promise<RunReport> {
  return command.action === 'rotation-step' ? runRotationStep(command, deps) : runTargets(command, deps);
}
