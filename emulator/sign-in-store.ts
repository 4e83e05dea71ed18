/**
 * Sign-in sessions and the access tokens made from them, each with a lifetime, so a long emulator
 * run holds only the credentials still valid. Neither the spec nor the sign-in service's replies
 * say how long they live, so the lifetimes are the emulator's timing (`sessionTtlMs`,
 * `accessTokenTtlMs`). Expiry is judged on read against the current timing and the world's clock,
 * so shortening a TTL expires old entries at once and a virtual clock needs no waiting. Entries
 * are kept in issue order, so a purge stops at the first valid one (O(1) amortised per issue).
 */
export interface SignInLifetimes {
  /** How long a signIn session can be turned into an access token. */
  sessionTtlMs: number;
  /** How long an access token works as a Bearer token. */
  accessTokenTtlMs: number;
}

interface Issued {
  userId: number;
  issuedAt: number;
}

class ExpiringMap {
  private readonly entries = new Map<string, Issued>();

  constructor(
    private readonly ttl: () => number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  issue(key: string, userId: number): void {
    this.purge();
    this.entries.set(key, { userId, issuedAt: this.now() });
  }

  /** The user of a valid entry; an expired one is dropped and reads as absent. */
  userFor(key: string): number | undefined {
    const found = this.entries.get(key);
    if (!found) return undefined;
    if (this.expired(found)) {
      this.purge();
      this.entries.delete(key);
      return undefined;
    }
    return found.userId;
  }

  /** Drops expired entries, oldest first; returns how many. */
  purge(): number {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (!this.expired(entry)) break;
      this.entries.delete(key);
      dropped++;
    }
    return dropped;
  }

  private expired(entry: Issued): boolean {
    return this.now() >= entry.issuedAt + this.ttl();
  }
}

/** The sign-in service's sessions and access tokens (API tokens from the seed never expire). */
export class SignInStore {
  readonly sessions: ExpiringMap;
  readonly accessTokens: ExpiringMap;

  /**
   * @param lifetimes read on every check (the emulator's live timing)
   * @param now the world's clock, epoch ms (injectable so tests can advance time)
   */
  constructor(lifetimes: SignInLifetimes, now: () => number) {
    this.sessions = new ExpiringMap(() => lifetimes.sessionTtlMs, now);
    this.accessTokens = new ExpiringMap(() => lifetimes.accessTokenTtlMs, now);
  }

  /** Drops every expired session and access token; returns how many were dropped. */
  purge(): number {
    return this.sessions.purge() + this.accessTokens.purge();
  }
}
