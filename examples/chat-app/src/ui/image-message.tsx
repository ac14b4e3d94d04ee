import { ImageJobCard, useImageJob } from "@imagejobs/react";
import { type CSSProperties, useEffect, useRef, useState } from "react";
import { Lightbox } from "./lightbox.js";

/** Props of {@link ImageMessage}. */
export interface ImageMessageProps {
  readonly jobId: string;
  readonly prompt: string;
}

/**
 * An assistant message that shows an image job: react's job card, plus
 * what this app adds around it: the bar's width as a CSS variable, a
 * retry for errors the card does not offer one for, and full size on click.
 */
export function ImageMessage(props: ImageMessageProps) {
  const job = useImageJob(props.jobId);
  const highest = useRef({ key: "", fraction: 0 });
  const [full, setFull] = useState<{ src: string; alt: string } | null>(null);

  const data = job.data;
  if (data?.status === "running") {
    const key = `${data.id}:${data.attempt}`;
    if (highest.current.key !== key) highest.current = { key, fraction: 0 };
    highest.current.fraction = Math.max(
      highest.current.fraction,
      data.progress?.fraction ?? 0,
    );
  }
  const style = {
    "--progress": `${Math.round(highest.current.fraction * 100)}%`,
  } as CSSProperties;

  // The image is inside the card; a click on it opens it at full size.
  const card = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = card.current;
    if (!element) return;
    const onClick = (event: Event) => {
      const target = event.target;
      if (target instanceof HTMLImageElement) {
        setFull({ src: target.src, alt: target.alt });
      }
    };
    element.addEventListener("click", onClick);
    return () => element.removeEventListener("click", onClick);
  }, []);

  return (
    <div className="image-message" style={style}>
      <p className="prompt">{props.prompt}</p>
      <div ref={card}>
        <ImageJobCard jobId={props.jobId} className="job-card" />
      </div>
      {job.isSucceeded && data?.result?.images[0] ? (
        <a
          className="full-size"
          href={data.result.images[0].url}
          target="_blank"
          rel="noreferrer"
        >
          Open full size
        </a>
      ) : null}
      {job.isFailed && job.error?.retryable === false ? (
        <button
          type="button"
          className="retry"
          onClick={() => void job.retry().catch(() => {})}
        >
          Try again
        </button>
      ) : null}
      {full ? (
        <Lightbox src={full.src} alt={full.alt} onClose={() => setFull(null)} />
      ) : null}
    </div>
  );
}
