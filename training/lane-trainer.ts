import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fitLogistic, type LogisticFit } from './logistic-regression.js';
import { logCountRatios } from './naive-bayes.js';
import type { CsrMatrix } from './sparse-matrix.js';

/** One binary problem: a label's 0/1 targets, plain LR or NB-LR, and its C. */
export interface Lane {
  name: string;
  targets: Uint8Array;
  C: number;
  /** Naive Bayes smoothing; set for NB-LR, absent for plain logistic regression. */
  nbAlpha?: number;
}

export interface LaneResult extends LogisticFit {
  name: string;
}

export function fitLane(matrix: CsrMatrix, lane: Lane): LaneResult {
  const featureScale =
    lane.nbAlpha === undefined ? undefined : logCountRatios(matrix, lane.targets, lane.nbAlpha);
  return {
    name: lane.name,
    ...fitLogistic(matrix, lane.targets, { C: lane.C, ...(featureScale ? { featureScale } : {}) }),
  };
}

/**
 * A worker running lane-worker. From source (tests, tsx) the worker first registers the TypeScript
 * loader itself: Node 20 does not apply --import hooks to a worker's entry module.
 */
function createLaneWorker(matrix: CsrMatrix): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './lane-worker.ts' : './lane-worker.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData: { matrix } });
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: { matrix } });
}

/**
 * Fits every lane, spread over worker threads that share the matrix memory. Each lane is
 * independent and deterministic, so the results do not depend on how many workers ran them.
 */
export async function fitLanes(
  matrix: CsrMatrix,
  lanes: Lane[],
  options: { workers?: number; onDone?: (result: LaneResult, done: number) => void } = {},
): Promise<LaneResult[]> {
  const workerCount = Math.max(1, Math.min(options.workers ?? availableParallelism(), lanes.length));
  const results = new Array<LaneResult>(lanes.length);
  let next = 0;
  let done = 0;
  const runWorker = () =>
    new Promise<void>((resolve, reject) => {
      const worker = createLaneWorker(matrix);
      const feed = () => {
        if (next >= lanes.length) {
          void worker.terminate().then(() => resolve());
          return;
        }
        const index = next++;
        worker.postMessage({ index, lane: lanes[index] });
      };
      worker.on('message', (message: { index: number; result: LaneResult }) => {
        results[message.index] = message.result;
        done++;
        options.onDone?.(message.result, done);
        feed();
      });
      worker.on('error', reject);
      worker.on('exit', (code) => {
        if (code !== 0 && code !== 1) reject(new Error(`training worker exited with code ${code}`));
      });
      feed();
    });
  await Promise.all(Array.from({ length: workerCount }, runWorker));
  return results;
}
