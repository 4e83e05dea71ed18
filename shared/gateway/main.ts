// `npm run gateway -- ...`: the gateway helper's own entry (the codesphere-deploy CLI runs it as
// `codesphere-deploy gateway ...`). Kept apart from cli.ts so bundling runGatewayCli runs nothing.
import fs from 'node:fs';
import { runGatewayCli } from './cli.js';

process.exitCode = runGatewayCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  readFile: (path) => fs.readFileSync(path, 'utf8'),
});
