// Bitbucket pipe entry (the image's ENTRYPOINT runs this bundle). All logic is in main.ts so tests import it without side effects.
import * as core from '../../shared/index.js';
import { run } from './main.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

run(process.env, { core, stdout: process.stdout, stderr: process.stderr, sleep }).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    // run() reports its own failures; reaching here means the reporter itself broke. Print nothing
    // that could carry a secret, and still fail the step.
    process.stdout.write('✖ codesphere-deploy failed unexpectedly (rerun with DEBUG: "true" for details).\n');
    process.exitCode = 1;
  },
);
