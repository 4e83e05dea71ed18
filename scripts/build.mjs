// Bundles each adapter that exists into <adapter>/dist/index.js with @vercel/ncc (minified).
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const adapters = ['github-action', 'gitlab-image', 'bitbucket-pipe'];
for (const adapter of adapters) {
  const entry = `${adapter}/src/index.ts`;
  if (!existsSync(entry)) continue;
  execFileSync(
    'npx',
    [
      'ncc',
      'build',
      entry,
      '-o',
      `${adapter}/dist`,
      '-m',
      '--no-source-map-register',
      '-q',
      '--license',
      'licenses.txt',
    ],
    {
      stdio: 'inherit',
    },
  );
  const kib = (statSync(`${adapter}/dist/index.js`).size / 1024).toFixed(0);
  console.log(`built ${adapter}/dist/index.js (${kib} KiB)`);
}
