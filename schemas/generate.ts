/** Writes schemas/events.generated.ts from schemas/avro/*.avsc. Run: npm run schemas:generate */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateModule, readAvroDir } from './codegen.js';

const avroDir = fileURLToPath(new URL('./avro/', import.meta.url));
const target = fileURLToPath(new URL('./events.generated.ts', import.meta.url));
writeFileSync(target, generateModule(readAvroDir(avroDir)));
process.stdout.write(`wrote ${target}\n`);
