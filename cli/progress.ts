import cliProgress from 'cli-progress';
import type { TrainingProgress } from '../training/train.js';

/** A progress bar on stderr when it is a terminal, plain lines otherwise (CI logs, pipes). */
export function terminalProgress(): TrainingProgress {
  const interactive = process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let name = '';
  let total = 0;
  let lastLogged = 0;
  return {
    step(step, steps) {
      name = step;
      total = steps;
      lastLogged = 0;
      if (interactive) {
        bar = new cliProgress.SingleBar(
          {
            format: `${step.padEnd(26)} {bar} {percentage}% {value}/{total} eta {eta_formatted}`,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(steps, 0);
      } else {
        process.stderr.write(`${step}: 0/${steps}\n`);
      }
    },
    advance(done) {
      if (bar) bar.update(done);
      else if (done - lastLogged >= total / 10 || done === total) {
        lastLogged = done;
        process.stderr.write(`${name}: ${done}/${total}\n`);
      }
    },
    end() {
      bar?.stop();
      bar = undefined;
    },
  };
}
