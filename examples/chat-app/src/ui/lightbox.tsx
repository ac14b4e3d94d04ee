import { useEffect } from "react";

/** Props of {@link Lightbox}. */
export interface LightboxProps {
  readonly src: string;
  readonly alt: string;
  readonly onClose: () => void;
}

/** An image at full size over the page; a click or Escape closes it. */
export function Lightbox(props: LightboxProps) {
  const { onClose } = props;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  return (
    <div
      className="lightbox"
      role="dialog"
      aria-label="Full size image"
      onClick={onClose}
      onKeyDown={undefined}
    >
      <img src={props.src} alt={props.alt} />
    </div>
  );
}
