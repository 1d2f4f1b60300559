#!/usr/bin/env node
/**
 * `dws-encryption`: the command line of the service (bin of the package; `tsx src/cli/main.ts` in
 * development). `serve` runs the service (as `npm start`), `demo` fills a project to explore, and every
 * other command is a signed API call through src/cli/client.ts. See src/cli/program.ts.
 */
import { EXIT, run } from './program.js';

const code = await run(process.argv);
// `serve` and `demo --start` keep the process alive through their servers; everything else ends here.
if (code !== EXIT.ok) process.exitCode = code;
