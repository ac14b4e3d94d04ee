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
    return byTicket.sort((a, b) => b.priority - a.priority || a.ticket - b.ticket);
  }

  const rounds = new Map<string, number>();
  const seen = new Map<string, number>();
  for (const entry of byTicket) {
    const round = seen.get(entry.owner) ?? 0;
    rounds.set(entry.id, round);
    seen.set(entry.owner, round + 1);
  }
  return byTicket.sort(
    (a, b) =>
      b.priority - a.priority ||
      (rounds.get(a.id) ?? 0) - (rounds.get(b.id) ?? 0) ||
      a.ticket - b.ticket,
  );
}
