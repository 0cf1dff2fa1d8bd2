import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BlobStore } from '../../runtime/blob/blob-store.js';
import { MODEL_FILES, modelFilesOf, readModelDirectory } from './model-directory.js';
import type { ModelLabels } from './model-labels.js';

/** A registered version's files: the model directory's (by kind) and its lineage. */
export function registryFiles(labels: ModelLabels): string[] {
  return [...modelFilesOf(labels), 'lineage.json'];
}

export interface RegisteredVersion {
  version: string;
  registeredAtMs: number;
  /** Core macro-F1 on the test split, from the version's metrics.json. */
  coreMacroF1: number | null;
  /** Registered although its macro-F1 was below the current version's. */
  forced: boolean;
}

/** `models/<name>/index.json`: every version in registration order, and the current one. */
export interface RegistryIndex {
  name: string;
  current: string | null;
  versions: RegisteredVersion[];
}

export class RegistryRefusal extends Error {
  override readonly name = 'RegistryRefusal';
}

/** `registry:<name>@<version>` or `registry:<name>` (the current version). */
export interface RegistryModelRef {
  name: string;
  version: string | undefined;
}

export function parseRegistryRef(spec: string): RegistryModelRef | undefined {
  const match = /^registry:([A-Za-z0-9._-]+)(?:@(.+))?$/.exec(spec);
  if (!match) return undefined;
  return { name: match[1]!, version: match[2] === 'current' ? undefined : match[2] };
}

interface MetricsFile {
  model: { name: string; version: string };
  test: { core?: { macroF1: number } };
}

/**
 * The model registry kept in Blob: `models/<name>/<version>/` holds model.onnx, labels.json,
 * featurizer.json, metrics.json, MODEL_CARD.md and lineage.json, and `models/<name>/index.json`
 * lists the versions. A version is the model's own content-derived version string (the one every
 * EmotionResult it produces carries), and is immutable once written.
 */
export class ModelRegistry {
  constructor(
    private readonly store: BlobStore,
    private readonly root = 'models',
  ) {}

  private indexName(name: string): string {
    return `${this.root}/${name}/index.json`;
  }

  versionDir(name: string, version: string): string {
    return `${this.root}/${name}/${version}`;
  }

  async index(name: string): Promise<RegistryIndex> {
    return (
      (await this.store.getJson<RegistryIndex>(this.indexName(name))) ?? { name, current: null, versions: [] }
    );
  }

  /**
   * Registers a trained model directory (with its lineage) and makes it current. Refuses one whose
   * test macro-F1 is below the current version's unless forced; a version already registered is
   * left as it is.
   */
  async register(
    modelDir: string,
    lineage: object,
    options: { force?: boolean } = {},
  ): Promise<{
    name: string;
    version: string;
    registered: boolean;
    previous: RegisteredVersion | undefined;
  }> {
    const model = readModelDirectory(modelDir);
    const metrics = JSON.parse(readFileSync(join(model.dir, MODEL_FILES.metrics), 'utf8')) as MetricsFile;
    const name = metrics.model.name;
    const version = model.labels.modelVersion;
    const index = await this.index(name);
    const previous = index.versions.find((v) => v.version === index.current);
    if (index.versions.some((v) => v.version === version)) {
      return { name, version, registered: false, previous };
    }
    const coreMacroF1 = metrics.test.core?.macroF1 ?? null;
    const bar = previous?.coreMacroF1 ?? null;
    const worse = bar !== null && (coreMacroF1 === null || coreMacroF1 < bar);
    if (worse && !options.force) {
      throw new RegistryRefusal(
        `${name} ${version} not registered: test macro-F1 ${coreMacroF1?.toFixed(4) ?? 'unknown'} is below ` +
          `the current ${previous?.version} (${bar.toFixed(4)}); use --force to register it anyway`,
      );
    }
    const dir = this.versionDir(name, version);
    writeFileSync(join(model.dir, 'lineage.json'), `${JSON.stringify(lineage, null, 2)}\n`);
    for (const file of registryFiles(model.labels)) {
      await this.store.put(`${dir}/${file}`, readFileSync(join(model.dir, file)), {
        contentType: file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      });
    }
    // The index last: a version is listed only once all its files are there.
    index.versions.push({ version, registeredAtMs: Date.now(), coreMacroF1, forced: Boolean(worse) });
    index.current = version;
    await this.store.put(this.indexName(name), `${JSON.stringify(index, null, 2)}\n`, {
      contentType: 'application/json',
    });
    return { name, version, registered: true, previous };
  }

  /**
   * A local copy of a registered version (the current one when no version is given), fetched once
   * into `<cacheDir>/<name>/<version>`; returns the directory.
   */
  async fetch(ref: RegistryModelRef, cacheDir: string): Promise<string> {
    const index = await this.index(ref.name);
    const version = ref.version ?? index.current;
    if (!version || !index.versions.some((v) => v.version === version)) {
      throw new RegistryRefusal(
        `model ${ref.name}${ref.version ? `@${ref.version}` : ''} is not in the registry` +
          (index.versions.length > 0
            ? ` (versions: ${index.versions.map((v) => v.version).join(', ')})`
            : ''),
      );
    }
    const target = join(cacheDir, ref.name, version);
    if (existsSync(join(target, MODEL_FILES.model))) return target;
    // Downloaded beside the target and renamed into place: a crash never leaves half a model.
    const partial = `${target}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    const fetchFile = async (file: string) => {
      const data = await this.store.get(`${this.versionDir(ref.name, version)}/${file}`);
      if (data === undefined) throw new RegistryRefusal(`registry ${ref.name}@${version} has no ${file}`);
      writeFileSync(join(partial, file), data);
      return data;
    };
    // labels.json first: it says which other files this kind of model has.
    const labels = JSON.parse((await fetchFile(MODEL_FILES.labels)).toString('utf8')) as ModelLabels;
    for (const file of registryFiles(labels)) if (file !== MODEL_FILES.labels) await fetchFile(file);
    rmSync(target, { recursive: true, force: true });
    renameSync(partial, target);
    return target;
  }
}
