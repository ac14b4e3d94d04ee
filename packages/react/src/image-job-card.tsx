"use client";
import { type CSSProperties, useRef } from "react";
import { useImageJob } from "./use-image-job.js";

/** Props of {@link ImageJobCard}. */
export interface ImageJobCardProps {
  /** The job to show. */
  readonly jobId: string;
  /** Class of the root element; the card has no styles of its own. */
  readonly className?: string;
  /** Alt text of the images. @default the prompt */
  readonly alt?: string;
  /** Called with the new job's id after a successful retry. */
  readonly onRetried?: (jobId: string) => void;
}

function seconds(ms: number | null): string | null {
  if (ms === null) return null;
  const total = Math.max(1, Math.round(ms / 1000));
  return total < 90
    ? `about ${total} s`
    : `about ${Math.round(total / 60)} min`;
}

/**
 * An unstyled, accessible card for one job: position and ETA while queued,
 * a progress bar that never moves backwards while running (its share as the
 * CSS variable `--imagejobs-progress`, for styling its width), the image
 * when done, the plain-language error with a retry button when failed or
 * cancelled. Shows a lost connection as "reconnecting", never as a failed
 * job.
 */
export function ImageJobCard(props: ImageJobCardProps) {
  const job = useImageJob(props.jobId);
  const highest = useRef({ key: "", percent: 0 });
  const data = job.data;

  let percent = 0;
  if (data?.status === "running") {
    const key = `${data.id}:${data.attempt}`;
    const now = Math.floor((data.progress?.fraction ?? 0) * 100);
    if (highest.current.key !== key) highest.current = { key, percent: 0 };
    highest.current.percent = Math.max(
      highest.current.percent,
      Math.min(now, 99),
    );
    percent = highest.current.percent;
  }
  const onRetry = async () => {
    const next = await job.retry();
    props.onRetried?.(next.job.id);
  };

  return (
    <section
      className={props.className}
      aria-busy={job.isPending || job.isQueued || job.isRunning}
      data-status={job.status}
      data-connection={job.connection}
    >
      {job.connection === "reconnecting" || job.connection === "offline" ? (
        <p role="status">
          {job.connection === "reconnecting" ? "Reconnecting…" : "Offline"}
        </p>
      ) : null}
      {job.service === "recovering" && !job.isTerminal ? (
        <p role="status">
          The image service is recovering; your image keeps its place.
        </p>
      ) : null}
      {job.isPending && !job.loadError ? <p>Loading…</p> : null}
      {job.loadError ? <p role="alert">{job.loadError.message}</p> : null}
      {job.isQueued ? (
        <p>
          {job.position
            ? `Position ${job.position.position} of ${job.position.queueSize} in the queue`
            : "Waiting in the queue"}
          {seconds(job.etaMs) ? `, starts in ${seconds(job.etaMs)}` : ""}
        </p>
      ) : null}
      {job.isRunning ? (
        <div>
          <div
            role="progressbar"
            aria-label="Image progress"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
            style={{ "--imagejobs-progress": `${percent}%` } as CSSProperties}
          >
            {percent}%
          </div>
          <p>
            {data?.progress?.step != null && data.progress.steps != null
              ? `Step ${data.progress.step} of ${data.progress.steps}`
              : "Starting…"}
            {seconds(data?.progress?.etaMs ?? null)
              ? `, ${seconds(data?.progress?.etaMs ?? null)} left`
              : ""}
          </p>
        </div>
      ) : null}
      {job.isSucceeded
        ? data?.result?.images.map((image) => (
            <img
              key={image.key}
              src={image.url}
              width={image.width}
              height={image.height}
              alt={props.alt ?? data.request.prompt}
            />
          ))
        : null}
      {job.isFailed || job.isCancelled ? (
        <div>
          <p role="alert">{job.error?.message}</p>
          <button type="button" onClick={() => void onRetry().catch(() => {})}>
            Try again
          </button>
        </div>
      ) : null}
      {job.isQueued || job.isRunning ? (
        <button type="button" onClick={() => void job.cancel().catch(() => {})}>
          Cancel
        </button>
      ) : null}
    </section>
  );
}
