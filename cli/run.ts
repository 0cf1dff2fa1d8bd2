/** Runs the CLI from source (development and tests); the published bin runs dist/cli/main.js. */
import { main } from './main.js';

await main();
