/**
 * Vitest setup file (vitest.config.ts `setupFiles`): every emulator a test starts checks each
 * /api exchange against the Codesphere OpenAPI spec and records violations, which the suites
 * assert empty. The emulator never imports this checker itself; without the spec (a user's
 * machine) nothing is set and the suites that care print `specMissingNotice`.
 */
import { setDefaultValidator } from '../../emulator/index.js';
import { specAvailable, validateExchange } from './openapi.js';

if (specAvailable) setDefaultValidator(validateExchange);
