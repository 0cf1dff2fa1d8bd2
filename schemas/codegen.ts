/**
 * Turns the .avsc files (the source of truth) into one TypeScript module holding, for every event,
 * a self-contained schema (named types used across files inlined at first use, so any registry
 * accepts it without references) and the TypeScript types of its values. A test regenerates the
 * module and compares it with the committed one, so the types cannot drift from the schemas.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const PRIMITIVES: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

export interface AvroFile {
  fullName: string;
  schema: JsonObject;
}

export function readAvroDir(dir: string): AvroFile[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.avsc'))
    .sort()
    .map((file) => {
      const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as JsonObject;
      return { fullName: fullNameOf(schema, undefined), schema };
    });
}

function fullNameOf(node: JsonObject, namespace: string | undefined): string {
  const name = String(node.name);
  if (name.includes('.')) return name;
  const ns = typeof node.namespace === 'string' ? node.namespace : namespace;
  return ns ? `${ns}.${name}` : name;
}

function isObject(node: Json): node is JsonObject {
  return typeof node === 'object' && node !== null && !Array.isArray(node);
}

function isNamedDefinition(node: JsonObject): boolean {
  return node.type === 'record' || node.type === 'enum' || node.type === 'fixed';
}

/** Inlines named types defined in other files at their first use, so the schema stands alone. */
export function selfContained(root: AvroFile, all: AvroFile[]): JsonObject {
  const files = new Map(all.map((file) => [file.fullName, file.schema]));
  const defined = new Set<string>();

  const visit = (node: Json, namespace: string | undefined): Json => {
    if (typeof node === 'string') {
      if (node in PRIMITIVES) return node;
      const fullName = node.includes('.') ? node : namespace ? `${namespace}.${node}` : node;
      const external = files.get(fullName);
      if (!external || defined.has(fullName)) return node;
      return visit(structuredClone(external), undefined);
    }
    if (Array.isArray(node)) return node.map((item) => visit(item, namespace));
    if (!isObject(node)) return node;
    const copy: JsonObject = { ...node };
    let innerNamespace = namespace;
    if (isNamedDefinition(node)) {
      const fullName = fullNameOf(node, namespace);
      defined.add(fullName);
      innerNamespace = fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : namespace;
    }
    // Keywords such as 'record' or 'array' pass through visit unchanged: they name no file.
    if (copy.type !== undefined) copy.type = visit(copy.type, innerNamespace);
    if (Array.isArray(copy.fields)) {
      copy.fields = copy.fields.map((field) => {
        const f = { ...(field as JsonObject) };
        f.type = visit(f.type as Json, innerNamespace);
        return f;
      });
    }
    if (copy.items !== undefined) copy.items = visit(copy.items, innerNamespace);
    if (copy.values !== undefined) copy.values = visit(copy.values, innerNamespace);
    return copy;
  };

  return visit(structuredClone(root.schema), undefined) as JsonObject;
}

function shortName(name: string): string {
  return name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
}

function docComment(doc: Json | undefined, indent: string): string {
  return typeof doc === 'string' && doc ? `${indent}/** ${doc.replace(/\*\//g, '*\\/')} */\n` : '';
}

/** TypeScript declarations for every named type, each emitted once, in a stable order. */
function declarations(files: AvroFile[]): string[] {
  const emitted = new Map<string, string>();

  const typeOf = (node: Json): string => {
    if (typeof node === 'string') return PRIMITIVES[node] ?? shortName(node);
    if (Array.isArray(node)) return node.map(typeOf).join(' | ');
    if (!isObject(node)) throw new Error(`unsupported Avro type ${JSON.stringify(node)}`);
    if (isNamedDefinition(node)) {
      declare(node);
      return shortName(String(node.name));
    }
    if (node.type === 'array') return `Array<${typeOf(node.items as Json)}>`;
    if (node.type === 'map') return `Record<string, ${typeOf(node.values as Json)}>`;
    return typeOf(node.type as Json);
  };

  const declare = (node: JsonObject): void => {
    const name = shortName(String(node.name));
    if (emitted.has(name)) return;
    emitted.set(name, ''); // reserve: keeps recursion and order stable
    let text: string;
    if (node.type === 'enum') {
      const symbols = (node.symbols as string[]).map((symbol) => `'${symbol}'`).join(', ');
      text =
        docComment(node.doc, '') +
        `export const ${name} = [${symbols}] as const;\n` +
        `export type ${name} = (typeof ${name})[number];\n`;
    } else if (node.type === 'record') {
      const fields = (node.fields as JsonObject[])
        .map(
          (field) => `${docComment(field.doc, '  ')}  ${String(field.name)}: ${typeOf(field.type as Json)};`,
        )
        .join('\n');
      text = `${docComment(node.doc, '')}export interface ${name} {\n${fields}\n}\n`;
    } else {
      text = `export type ${name} = Buffer;\n`;
    }
    emitted.set(name, text);
  };

  for (const file of files) declare(file.schema);
  return [...emitted.values()];
}

export function generateModule(files: AvroFile[]): string {
  const header =
    '// Generated by `npm run schemas:generate` from schemas/avro/*.avsc — do not edit by hand.\n' +
    '// The .avsc files are the source of truth; test/unit/schemas.test.ts fails when this file drifts.\n';
  const schemaEntries = files
    .map(
      (file) =>
        `  ${shortName(file.fullName)}: ${JSON.stringify(selfContained(file, files), null, 2).replace(/\n/g, '\n  ')},`,
    )
    .join('\n');
  const names = files.map((file) => `'${shortName(file.fullName)}'`).join(' | ');
  return (
    `${header}\n${declarations(files).join('\n')}\n` +
    '/** An Avro record schema as JSON. */\n' +
    'export interface AvroRecordSchema {\n' +
    "  type: 'record';\n  name: string;\n  namespace?: string;\n  doc?: string;\n" +
    '  fields: Array<{ name: string; type: unknown; doc?: string; default?: unknown }>;\n}\n\n' +
    `export type EventName = ${names};\n\n` +
    '/** Self-contained Avro schemas, keyed by record name, ready to register. */\n' +
    `export const avroSchemas: Record<EventName, AvroRecordSchema> = {\n${schemaEntries}\n};\n`
  );
}
