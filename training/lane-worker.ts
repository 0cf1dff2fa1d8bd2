import { parentPort, workerData } from 'node:worker_threads';
import { fitLane, type Lane } from './lane-trainer.js';
import type { CsrMatrix } from './sparse-matrix.js';

const { matrix } = workerData as { matrix: CsrMatrix };
parentPort?.on('message', ({ index, lane }: { index: number; lane: Lane }) => {
  const result = fitLane(matrix, lane);
  parentPort?.postMessage({ index, result }, [result.weights.buffer as ArrayBuffer]);
});
