import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ClaimInput, ClaimOrder, JobStore } from "../ports/job-store.js";
import { newJob, OPEN_LIMITS, uniqueQueue } from "./fixtures.js";
import type { ConformanceStores, StoreFactory } from "./harness.js";

/** Options of the conformance suites: an adapter's declared limits. */
export interface ConformanceOptions {
  /** Concurrent callers in the concurrency tests. @default 200 */
  readonly concurrency?: number;
}

const T0 = Date.UTC(2026, 0, 1);

function claimInput(
  queue: string,
  now: number,
  order: ClaimOrder = "fifo",
): ClaimInput {
  return {
    queue,
    workerId: "w1",
    backendId: "b1",
    leaseMs: 30_000,
    order,
    now,
  };
}

/**
 * The job store's contract: atomic tickets, caps and idempotency under
 * concurrency, compare-and-set transitions, positions, leases, the outbox,
 * rate windows and retention.
 */
export function describeStoreConformance(
  name: string,
  factory: StoreFactory,
  options: ConformanceOptions = {},
): void {
  const concurrency = options.concurrency ?? 200;

  describe(`${name}: store conformance`, () => {
    let stores: ConformanceStores;
    let jobs: JobStore;
    beforeEach(async () => {
      stores = await factory();
      jobs = stores.jobs;
    });
    afterEach(async () => {
      await stores.close();
    });

    it("S06 concurrent submits get distinct tickets and gapless positions", async () => {
      const queue = uniqueQueue();
      const outcomes = await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          jobs.submit({
            job: newJob(queue, T0, { owner: `user-${i % 4}` }),
            limits: OPEN_LIMITS,
            now: T0,
          }),
        ),
      );
      const tickets = outcomes.map((o) =>
        o.kind === "created" ? o.job.ticket : -1,
      );
      expect(new Set(tickets).size).toBe(concurrency);
      expect(Math.min(...tickets)).toBeGreaterThan(0);

      const positions = await Promise.all(
        outcomes.map((o) =>
          o.kind === "created" ? jobs.position(o.job.id, "fifo") : null,
        ),
      );
      const sorted = positions
        .map((p) => p?.position ?? 0)
        .sort((a, b) => a - b);
      expect(sorted).toEqual(
        Array.from({ length: concurrency }, (_, i) => i + 1),
      );
      // The position is the rank of the ticket among waiting tickets.
      const rank = [...tickets].sort((a, b) => a - b);
      for (const [index, outcome] of outcomes.entries()) {
        expect(positions[index]?.position).toBe(
          rank.indexOf(tickets[index]!) + 1,
        );
        expect(positions[index]?.queueSize).toBe(concurrency);
        expect(outcome.kind).toBe("created");
      }
    });

    it("S04 the per-owner cap holds under concurrent submits and writes nothing when refused", async () => {
      const queue = uniqueQueue();
      const limits = {
        ...OPEN_LIMITS,
        maxQueuedPerOwner: 4,
        maxActivePerOwner: 4,
      };
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () =>
          jobs.submit({ job: newJob(queue, T0), limits, now: T0 }),
        ),
      );
      expect(outcomes.filter((o) => o.kind === "created")).toHaveLength(4);
      expect(outcomes.filter((o) => o.kind === "quota")).toHaveLength(6);
      const stats = await jobs.stats(queue);
      expect(stats.queued).toBe(4);
      expect(await jobs.list({ owner: "alice", limit: 100 })).toHaveLength(4);
    });

    it("refuses a submit over the queue cap", async () => {
      const queue = uniqueQueue();
      const limits = { ...OPEN_LIMITS, maxQueueSize: 2 };
      for (const owner of ["a", "b"]) {
        await jobs.submit({
          job: newJob(queue, T0, { owner }),
          limits,
          now: T0,
        });
      }
      const third = await jobs.submit({
        job: newJob(queue, T0, { owner: "c" }),
        limits,
        now: T0,
      });
      expect(third).toEqual({ kind: "queue-full", queueSize: 2 });
    });

    it("S05 one idempotency key submitted twice at once makes one job", async () => {
      const queue = uniqueQueue();
      const idempotency = {
        key: "click-1",
        fingerprint: "f1",
        expiresAt: T0 + 1000,
      };
      const [a, b] = await Promise.all([
        jobs.submit({
          job: newJob(queue, T0),
          limits: OPEN_LIMITS,
          idempotency,
          now: T0,
        }),
        jobs.submit({
          job: newJob(queue, T0),
          limits: OPEN_LIMITS,
          idempotency,
          now: T0,
        }),
      ]);
      const kinds = [a!.kind, b!.kind].sort();
      expect(kinds).toEqual(["created", "duplicate"]);
      const ids = [a, b].map((o) => (o && "job" in o ? o.job.id : null));
      expect(ids[0]).toBe(ids[1]);
      expect((await jobs.stats(queue)).queued).toBe(1);

      const conflict = await jobs.submit({
        job: newJob(queue, T0),
        limits: OPEN_LIMITS,
        idempotency: { ...idempotency, fingerprint: "other" },
        now: T0,
      });
      expect(conflict).toEqual({ kind: "conflict", jobId: ids[0] });
      const other = await jobs.submit({
        job: newJob(queue, T0, { owner: "bob" }),
        limits: OPEN_LIMITS,
        idempotency,
        now: T0,
      });
      expect(other.kind).toBe("created");
    });

    it("claims in FIFO, priority and fair order", async () => {
      const submitted: Record<string, string> = {};
      const setup = async (queue: string) => {
        const plan = [
          ["a1", "ann", 0],
          ["a2", "ann", 0],
          ["a3", "ann", 5],
          ["b1", "bob", 0],
          ["c1", "cat", 1],
        ] as const;
        for (const [label, owner, priority] of plan) {
          const outcome = await jobs.submit({
            job: newJob(queue, T0, { owner, priority }),
            limits: OPEN_LIMITS,
            now: T0,
          });
          if (outcome.kind === "created") submitted[outcome.job.id] = label;
        }
      };
      const drain = async (order: ClaimOrder) => {
        const queue = uniqueQueue();
        await setup(queue);
        const waiting = await jobs.waiting(queue, order, 10);
        const labels: string[] = [];
        for (;;) {
          const claimed = await jobs.claim(claimInput(queue, T0, order));
          if (!claimed) break;
          labels.push(submitted[claimed.job.id]!);
        }
        expect(waiting.map((w) => submitted[w.jobId])).toEqual(labels);
        expect(waiting.map((w) => w.position)).toEqual([1, 2, 3, 4, 5]);
        return labels;
      };
      expect(await drain("fifo")).toEqual(["a1", "a2", "a3", "b1", "c1"]);
      expect(await drain("priority")).toEqual(["a3", "c1", "a1", "a2", "b1"]);
      expect(await drain("fair")).toEqual(["a3", "c1", "a1", "b1", "a2"]);
    });

    it("S08 a transition needs the current fencing token", async () => {
      const queue = uniqueQueue();
      await jobs.submit({
        job: newJob(queue, T0),
        limits: OPEN_LIMITS,
        now: T0,
      });
      const first = await jobs.claim(claimInput(queue, T0));
      expect(first?.job.status).toBe("running");
      expect(first?.job.version).toBe(2);
      const token = first!.job.fencingToken!;

      // The lease runs out; the job is re-queued and claimed again.
      const requeued = await jobs.transition({
        jobId: first!.job.id,
        from: ["running"],
        token,
        patch: { status: "queued", attempt: 2 },
        now: T0 + 31_000,
      });
      expect(requeued.job?.ticket).toBe(first!.job.ticket);
      const second = await jobs.claim(claimInput(queue, T0 + 31_000));
      expect(second?.job.fencingToken).not.toBe(token);

      const stale = await jobs.transition({
        jobId: first!.job.id,
        from: ["running"],
        token,
        patch: { status: "succeeded" },
        now: T0 + 40_000,
      });
      expect(stale).toEqual({ job: null, change: null, next: null });
      expect(
        await jobs.renewLease({
          jobId: first!.job.id,
          token,
          leaseMs: 1,
          now: T0,
        }),
      ).toBe(false);
      expect((await jobs.get(first!.job.id))?.status).toBe("running");
    });

    it("never changes a terminal job", async () => {
      const queue = uniqueQueue();
      const created = await jobs.submit({
        job: newJob(queue, T0),
        limits: OPEN_LIMITS,
        now: T0,
      });
      const id = created.kind === "created" ? created.job.id : "";
      const cancelled = await jobs.transition({
        jobId: id,
        from: ["queued", "running"],
        patch: { status: "cancelled", finishedAt: T0 },
        now: T0,
      });
      expect(cancelled.job?.status).toBe("cancelled");
      for (const status of ["queued", "running", "failed"] as const) {
        const again = await jobs.transition({
          jobId: id,
          from: ["queued", "running"],
          patch: { status },
          now: T0,
        });
        expect(again.job).toBeNull();
      }
      expect((await jobs.get(id))?.version).toBe(2);
      expect(await jobs.position(id, "fifo")).toBeNull();
    });

    it("finishes one job and claims the next in one step", async () => {
      const queue = uniqueQueue();
      for (let i = 0; i < 2; i += 1) {
        await jobs.submit({
          job: newJob(queue, T0),
          limits: OPEN_LIMITS,
          now: T0,
        });
      }
      const first = await jobs.claim(claimInput(queue, T0));
      const outcome = await jobs.transition({
        jobId: first!.job.id,
        from: ["running"],
        token: first!.job.fencingToken!,
        patch: { status: "succeeded", finishedAt: T0 + 5000 },
        now: T0 + 5000,
        claimNext: claimInput(queue, T0 + 5000),
      });
      expect(outcome.job?.status).toBe("succeeded");
      expect(outcome.next?.job.status).toBe("running");
      expect(outcome.next?.job.ticket).toBe(first!.job.ticket + 1);
      const stats = await jobs.stats(queue);
      expect(stats).toMatchObject({
        queued: 0,
        running: 1,
        recentRunMs: [5000],
      });
    });

    it("writes one outbox entry per change, with the job after it", async () => {
      const queue = uniqueQueue();
      const created = await jobs.submit({
        job: newJob(queue, T0),
        limits: OPEN_LIMITS,
        now: T0,
      });
      const claimed = await jobs.claim(claimInput(queue, T0 + 1));
      const mine = async () =>
        (await jobs.pendingChanges(T0 + 10, 10_000)).filter(
          (c) => c.job.queue === queue,
        );
      const pending = await mine();
      expect(pending.map((c) => c.job.version)).toEqual([1, 2]);
      expect(pending[1]?.job.status).toBe("running");
      if (created.kind === "created") await jobs.ackChange(created.change.id);
      await jobs.ackChange(claimed!.change.id);
      await jobs.ackChange(claimed!.change.id);
      expect(await mine()).toEqual([]);
    });

    it("finds expired leases and time limits with the caller's clock", async () => {
      const queue = uniqueQueue();
      for (let i = 0; i < 2; i += 1) {
        await jobs.submit({
          job: newJob(queue, T0),
          limits: OPEN_LIMITS,
          now: T0,
        });
      }
      const claimed = await jobs.claim(claimInput(queue, T0));
      const id = claimed!.job.id;
      const find = (now: number) =>
        jobs.findDue({
          now,
          queuedBefore: now - 60_000,
          startedBefore: now - 120_000,
          progressBefore: now - 90_000,
          loadingBefore: now - 600_000,
          limit: 10_000,
        });
      const ids = (list: readonly { id: string; queue: string }[]) =>
        list.filter((j) => j.queue === queue).map((j) => j.id);

      expect(ids((await find(T0 + 29_000)).leaseExpired)).toEqual([]);
      expect(
        await jobs.renewLease({
          jobId: id,
          token: claimed!.job.fencingToken!,
          leaseMs: 30_000,
          now: T0 + 20_000,
        }),
      ).toBe(true);
      expect(ids((await find(T0 + 45_000)).leaseExpired)).toEqual([]);
      const later = await find(T0 + 130_000);
      expect(ids(later.leaseExpired)).toEqual([id]);
      expect(ids(later.runTimedOut)).toEqual([id]);
      expect(ids(later.stalled)).toEqual([id]);
      expect(ids(later.queueTimedOut)).toHaveLength(1);
    });

    it("gives a backend to one holder and reports an abandoned task", async () => {
      const backendId = uniqueQueue("gpu");
      const input = { backendId, queue: "q", leaseMs: 30_000 };
      const a = await jobs.acquireBackend({ ...input, holder: "a", now: T0 });
      expect(a).not.toBeNull();
      expect(
        await jobs.acquireBackend({ ...input, holder: "b", now: T0 + 1 }),
      ).toBeNull();
      expect(
        await jobs.renewBackend({
          backendId,
          token: a!.token,
          taskId: "task-7",
          leaseMs: 30_000,
          now: T0 + 10,
        }),
      ).toBe(true);

      const b = await jobs.acquireBackend({
        ...input,
        holder: "b",
        now: T0 + 31_000,
      });
      expect(b?.abandonedTaskId).toBe("task-7");
      expect(
        await jobs.renewBackend({
          backendId,
          token: a!.token,
          taskId: null,
          leaseMs: 30_000,
          now: T0 + 31_001,
        }),
      ).toBe(false);
      await jobs.releaseBackend(backendId, b!.token);
      const c = await jobs.acquireBackend({
        ...input,
        holder: "c",
        now: T0 + 31_002,
      });
      expect(c?.abandonedTaskId).toBeNull();
    });

    it("counts hits in fixed windows", async () => {
      const key = uniqueQueue("rate");
      const counts = await Promise.all(
        Array.from({ length: 5 }, () =>
          jobs.hit({ key, windowMs: 1000, now: T0 }),
        ),
      );
      expect(counts.map((c) => c.count).sort()).toEqual([1, 2, 3, 4, 5]);
      expect(counts[0]?.resetAt).toBe(T0 + 1000);
      expect(
        (await jobs.hit({ key, windowMs: 1000, now: T0 + 1000 })).count,
      ).toBe(1);
    });

    it("purges finished jobs past retention only", async () => {
      const queue = uniqueQueue();
      const made = await jobs.submit({
        job: newJob(queue, T0),
        limits: OPEN_LIMITS,
        now: T0,
      });
      const kept = await jobs.submit({
        job: newJob(queue, T0),
        limits: OPEN_LIMITS,
        now: T0,
      });
      const id = made.kind === "created" ? made.job.id : "";
      await jobs.transition({
        jobId: id,
        from: ["queued"],
        patch: { status: "cancelled", finishedAt: T0 },
        now: T0,
      });
      const purged = await jobs.purge({
        finishedBefore: T0 + 1,
        now: T0 + 1,
        limit: 10_000,
      });
      expect(purged.map((j) => j.id)).toContain(id);
      expect(await jobs.get(id)).toBeNull();
      expect(
        await jobs.get(kept.kind === "created" ? kept.job.id : ""),
      ).not.toBeNull();
    });
  });
}
