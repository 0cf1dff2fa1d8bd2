import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../runtime/package-root.js';
import { registerLifecycleCommands } from './commands/lifecycle.js';
import { registerModelCommands } from './commands/models.js';
import { registerOperationsCommands } from './commands/operations.js';
import { registerPipelineCommands } from './commands/pipeline.js';
import { registerRolloutCommands } from './commands/rollout.js';
import { registerTopicCommands } from './commands/topics.js';
import { registerTraceCommand } from './commands/trace.js';
import { registerTranscribeCommand } from './commands/transcribe.js';
import { registerUpCommand } from './commands/up.js';
import { reportCliError } from './errors.js';

export function buildProgram(): Command {
  const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  const program = new Command('emotion-stream')
    .description('Emotion recognition for live and recorded media, on Apache Kafka')
    .version(version)
    .showHelpAfterError();
  registerUpCommand(program);
  registerTopicCommands(program);
  registerModelCommands(program);
  registerLifecycleCommands(program);
  registerPipelineCommands(program);
  registerTranscribeCommand(program);
  registerRolloutCommands(program);
  registerOperationsCommands(program);
  registerTraceCommand(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.exitCode = reportCliError(error);
  }
}
