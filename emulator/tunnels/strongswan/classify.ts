/**
 * Telling tunnel failures apart from what charon logs (the signatures the ipsec-lab measured,
 * each visible within about 50 ms of the cause; "gateway unreachable" after the first
 * retransmit). The replica's own log decides; the gateway's log refines what the replica cannot
 * see (which of "no config for this IKE version" or "no address left in the pool").
 */
import type { TunnelDownReason } from '../driver.js';

export interface Failure {
  reason: TunnelDownReason;
  detail: string;
}

/** What one connection attempt of one replica has shown so far. */
export interface Attempt {
  /** Any IKE packet came back from the gateway. */
  received: boolean;
  ikeEstablished: boolean;
  failure?: Failure | undefined;
}

export const freshAttempt = (): Attempt => ({ received: false, ikeEstablished: false });

/** Feeds one replica log message into its attempt; returns true when the attempt changed. */
export function observeReplicaLog(attempt: Attempt, message: string, peer: string): boolean {
  if (/^received packet: from /.test(message)) {
    const changed = !attempt.received;
    attempt.received = true;
    return changed;
  }
  if (/IKE_SA \S+ established between/.test(message)) {
    attempt.ikeEstablished = true;
    return true;
  }
  if (attempt.failure) return false;
  const failure = replicaFailure(attempt, message, peer);
  if (failure) attempt.failure = failure;
  return failure !== undefined;
}

function replicaFailure(attempt: Attempt, message: string, peer: string): Failure | undefined {
  if (/decryption failed\?|could not decrypt payloads/.test(message)) {
    return {
      reason: 'psk-mismatch',
      detail: `IKEv1: the reply of ${peer} cannot be decrypted: the pre-shared key differs`,
    };
  }
  if (/received AUTHENTICATION_FAILED/.test(message)) {
    return {
      reason: 'psk-mismatch',
      detail: `AUTHENTICATION_FAILED from ${peer}: the pre-shared key differs`,
    };
  }
  if (/received INTERNAL_ADDRESS_FAILURE/.test(message)) {
    return {
      reason: 'pool-exhausted',
      detail: `INTERNAL_ADDRESS_FAILURE: ${peer} has no virtual IP left in its pool`,
    };
  }
  if (/received NO_PROPOSAL_CHOSEN/.test(message)) {
    return attempt.ikeEstablished
      ? {
          reason: 'esp-proposal-mismatch',
          detail: `NO_PROPOSAL_CHOSEN after IKE came up: ${peer} refused the ESP proposal`,
        }
      : { reason: 'ike-proposal-mismatch', detail: `NO_PROPOSAL_CHOSEN: ${peer} refused the IKE proposal` };
  }
  if (
    /sending retransmit 1 of request message ID 0\b|giving up after \d+ retransmits/.test(message) &&
    !attempt.received
  ) {
    return { reason: 'gateway-unreachable', detail: `no answer from ${peer} on UDP 500/4500` };
  }
  return undefined;
}

/** What the gateway's log says about one peer address. */
export interface GatewayHint {
  reason: TunnelDownReason;
  detail: string;
}

/**
 * A gateway log line that explains a failure the replica sees only as NO_PROPOSAL_CHOSEN or as a
 * missing virtual IP. Returns the replica's address and the hint, or undefined.
 */
export function gatewayHint(
  message: string,
  gateway: string,
): { peer: string; hint: GatewayHint } | undefined {
  const noConfig = /no IKE config found for \S+?\.\.\.(\d+\.\d+\.\d+\.\d+)/.exec(message);
  if (noConfig?.[1]) {
    return {
      peer: noConfig[1],
      hint: {
        reason: 'ike-version-mismatch',
        detail: `gateway ${gateway} has no connection for this IKE version`,
      },
    };
  }
  const noVip = /no virtual IP found for \S+ requested by '(\d+\.\d+\.\d+\.\d+)'/.exec(message);
  if (noVip?.[1]) {
    return {
      peer: noVip[1],
      hint: { reason: 'pool-exhausted', detail: `gateway ${gateway}: no free address in its pool` },
    };
  }
  return undefined;
}

/** The replica's failure, refined by the gateway's hint where the replica's view is ambiguous. */
export function combine(failure: Failure | undefined, hint: GatewayHint | undefined): Failure | undefined {
  if (!hint) return failure;
  // the gateway said outright that it has no connection for this IKE version: that is the cause,
  // whatever the replica made of the bare NO_PROPOSAL_CHOSEN it got back
  if (hint.reason === 'ike-version-mismatch' && (!failure || failure.reason === 'ike-proposal-mismatch')) {
    return failure ? { ...hint, detail: `${hint.detail} (${failure.detail})` } : { ...hint };
  }
  if (hint.reason === 'pool-exhausted') return { ...hint };
  return failure;
}
