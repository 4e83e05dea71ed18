import { run } from './main.js';

if ((await run()) !== 0) process.exitCode = 1;
// A connection to a GitHub API that never answered may still be open (the toolkit's fetch does not
// close it on abort) and must not keep the step alive past its budget.
process.exit();
