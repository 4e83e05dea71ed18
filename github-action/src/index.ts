import { run } from './main.js';

await run();
// The job is done once run() returns. A connection to a GitHub API that never answered may still
// be open (the toolkit's fetch does not close it on abort), and must not keep the step alive
// past its budget. process.exitCode is what core.setFailed set.
process.exit();
