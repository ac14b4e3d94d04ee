import { ImageJobCard, useImageJob } from "@imagejobs/react";
import { useEffect, useRef, useState } from "react";
import { Lightbox } from "./lightbox.js";

/** Props of {@link ImageMessage}. */
export interface ImageMessageProps {
  readonly jobId: string;
  readonly prompt: string;
}

/**
 * An assistant message that shows an image job: react's job card, plus
 * what this app adds around it: the image at full size on click.
 */
export function ImageMessage(props: ImageMessageProps) {
  const job = useImageJob(props.jobId);
  const [full, setFull] = useState<{ src: string; alt: string } | null>(null);
  const data = job.data;

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
    <div className="image-message">
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
      {full ? (
        <Lightbox src={full.src} alt={full.alt} onClose={() => setFull(null)} />
      ) : null}
    </div>
  );
}
