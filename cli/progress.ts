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

/** Progress through a file by bytes, with a count of items done: a bar on a terminal, else lines. */
export function byteProgress(unit: string): {
  update(done: number, total: number, items: number): void;
  end(): void;
} {
  const interactive = process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let lastPercent = -10;
  return {
    update(done, total, items) {
      const percent = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
      if (interactive) {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            { format: `{bar} {percentage}% {items} ${unit} eta {eta_formatted}`, stream: process.stderr },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, 0, { items: 0 });
        }
        bar.update(done, { items });
      } else if (percent - lastPercent >= 10) {
        lastPercent = percent;
        process.stderr.write(`${percent}% (${items} ${unit})\n`);
      }
    },
    end() {
      bar?.stop();
      bar = undefined;
    },
  };
}
