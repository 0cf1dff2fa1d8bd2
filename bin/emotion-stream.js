#!/usr/bin/env node
// Runs the compiled CLI. `npm ci` builds it (the prepare script); after editing sources, `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'emotion-stream: not built yet; run `npm run build` (or `npm ci`) in the project first\n',
  );
  process.exit(1);
}
const { main } = await import(entry.href);
await main();
