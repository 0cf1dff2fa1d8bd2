import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { env } from '@huggingface/transformers';

export interface HubModelOptions {
  /** Whether model ids may be downloaded from the Hugging Face Hub (false: local files only). */
  allowRemote?: boolean;
  cacheDir?: string | undefined;
}

/**
 * Points transformers.js at a model given as a Hub id or a local directory in Hugging Face layout
 * and returns the id to pass to `pipeline()`, plus words naming where it came from for errors.
 */
export function locateHubModel(
  model: string,
  options: HubModelOptions = {},
): { id: string; where: string; local: boolean } {
  const local = existsSync(model) && statSync(model).isDirectory();
  // transformers.js resolves local models as <localModelPath>/<id>.
  env.allowLocalModels = true;
  env.allowRemoteModels = !local && (options.allowRemote ?? true);
  if (local) env.localModelPath = dirname(resolve(model));
  if (options.cacheDir) env.cacheDir = options.cacheDir;
  return local
    ? { id: basename(resolve(model)), where: `the directory ${resolve(model)}`, local }
    : { id: model, where: `'${model}' from the Hugging Face Hub`, local };
}
