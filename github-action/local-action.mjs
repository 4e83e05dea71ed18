// The entry for @github/local-action (https://github.com/github/local-action): it swaps the
// installed @actions/core for its stubs and calls the run() exported here, so inputs get
// action.yml's defaults and the outputs and summary show in its report. The runner never loads
// this file (runs.main is dist/index.js, which uses only its bundled @actions/core).
import * as core from '@actions/core';

// dist/index.js runs the step when imported unless told that its importer calls run() itself.
globalThis[Symbol.for('codesphere-deploy.github-action.calls-run-itself')] = true;
const { run: runAction } = await import('./dist/index.js');

/** Runs the action once with local-action's @actions/core; resolves when it is done. */
export async function run() {
  await runAction(core);
}
