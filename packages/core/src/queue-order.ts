import type { ClaimOrder } from "./ports/job-store.js";

/** What claim order looks at in a waiting job. */
export interface OrderEntry {
  /** Job id. */
  readonly id: string;
  /** Owner, for fairness. */
  readonly owner: string;
  /** Ticket from the queue's counter. */
  readonly ticket: number;
  /** Priority; higher first. */
  readonly priority: number;
  /** Fair round, given at submit by {@link fairRound}; used by `fair`. */
  readonly round: number;
}

/**
 * The fair round of a job submitted now: one after the owner's previous
 * job, but never behind the round of the job claimed last, so an owner who
 * waited little is not owed turns. Stored with the job, it keeps the claim
 * order stable as jobs are claimed.
 */
export function fairRound(
  ownerLastRound: number | null,
  claimedRound: number,
): number {
  return Math.max(
    ownerLastRound === null ? 0 : ownerLastRound + 1,
    claimedRound,
  );
}

/**
 * Sorts waiting jobs into the order a worker would claim them. Stores that
 * keep no index of their own use it; the rules are those of
 * {@link ClaimOrder}.
 */
export function sortForClaim<T extends OrderEntry>(
  entries: readonly T[],
  order: ClaimOrder,
): T[] {
  const byTicket = [...entries].sort((a, b) => a.ticket - b.ticket);
  if (order === "fifo") return byTicket;
  if (order === "priority") {
    return byTicket.sort(
      (a, b) => b.priority - a.priority || a.ticket - b.ticket,
    );
  }
  return byTicket.sort(
    (a, b) =>
      b.priority - a.priority || a.round - b.round || a.ticket - b.ticket,
  );
}
