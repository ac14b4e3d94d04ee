import { type FormEvent, useState } from "react";

/** Props of {@link Composer}. */
export interface ComposerProps {
  /** Sends text, or asks for an image of it; rejects when refused. */
  readonly onSend: (
    kind: "text" | "image",
    text: string,
    idempotencyKey: string,
  ) => Promise<void>;
}

/**
 * The message box: Enter sends (`/imagine <prompt>` asks for an image), the
 * image button asks for an image of whatever is typed.
 */
export function Composer(props: ComposerProps) {
  const [text, setText] = useState("");
  const [pending, setPending] = useState(false);

  const send = async (kind: "text" | "image") => {
    const value = text.trim();
    if (value === "" || pending) return;
    setPending(true);
    try {
      await props.onSend(kind, value, crypto.randomUUID());
      setText("");
    } catch {
      // The conversation shows the error; the text stays to fix and resend.
    } finally {
      setPending(false);
    }
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void send("text");
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      <input
        aria-label="Message"
        placeholder="/imagine a lighthouse at dusk, oil painting"
        value={text}
        maxLength={2000}
        onChange={(event) => setText(event.target.value)}
      />
      <button
        type="button"
        className="image-button"
        title="Make an image of this prompt"
        disabled={pending}
        onClick={() => void send("image")}
      >
        Image
      </button>
      <button type="submit" disabled={pending}>
        Send
      </button>
    </form>
  );
}
