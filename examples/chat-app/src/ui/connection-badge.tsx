import { useConnectionStatus } from "@imagejobs/react";

const LABELS = {
  connecting: "connecting…",
  open: "live",
  reconnecting: "reconnecting…",
  offline: "offline",
} as const;

/** The socket's state: a lost connection is never shown as a failed job. */
export function ConnectionBadge() {
  const { status } = useConnectionStatus();
  return (
    <span className="connection" data-connection={status} role="status">
      {LABELS[status]}
    </span>
  );
}
