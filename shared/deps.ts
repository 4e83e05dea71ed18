/**
 * The core's ports besides the Reporter: time and identity. Injected so unit tests neither
 * wait nor depend on the wall clock (`sleep` can resolve at once while `now` advances).
 */
export interface CoreDeps {
  sleep(ms: number): Promise<void>;
  now(): number;
  /** Sent as User-Agent on every request, e.g. "codesphere-deploy-github/0.1.0". */
  userAgent: string;
}

export const CORE_VERSION = '0.1.0';

export const defaultDeps: CoreDeps = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
  userAgent: `codesphere-deploy/${CORE_VERSION}`,
};

export function withDefaults(deps: Partial<CoreDeps> | undefined): CoreDeps {
  return { ...defaultDeps, ...deps };
}
