/**
 * The suite's version, from package.json: one source for the User-Agent of the core and of every
 * adapter. The import attribute form works in all three tools: ncc (webpack) inlines the JSON at
 * build time, tree-shaken to the one field (a bundle carries `{"version":"0.1.0"}` and nothing
 * else of package.json); tsx reads it at run time; tsc accepts it under NodeNext with
 * resolveJsonModule.
 */
import pkg from '../package.json' with { type: 'json' };

/** package.json's "version", e.g. "0.1.0". */
export const VERSION: string = pkg.version;
