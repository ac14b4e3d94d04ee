/**
 * The page `browser.test.ts` bundles and opens in real Chromium: the core
 * client store behind the React hooks and the job card, with what the store
 * received kept on `window.imagejobsTrace` for the test to check.
 * Not part of the package's API (not exported, not published).
 */
import { ImageJobClient } from "@imagejobs/core/client";
import { createRoot } from "react-dom/client";
import { ImageJobCard } from "./image-job-card.js";
import { ImageJobsProvider } from "./image-jobs-provider.js";
import { useConnectionStatus } from "./use-connection-status.js";
import { useConversationImageJobs } from "./use-conversation-image-jobs.js";

/** What the page saw, for the test to read with `page.evaluate`. */
export interface BrowserTrace {
  /** Every job frame received, across sockets: `jobId:version`, in order. */
  readonly jobFrames: string[];
  /** The `resync` flag of every snapshot received, in order. */
  readonly resyncs: boolean[];
  /** `connection/status` of the conversation's newest job, on each change. */
  readonly timeline: string[];
  /** Progress fractions of running jobs the store held, on each change. */
  readonly progress: number[];
}

const params = new URLSearchParams(location.search);
const conversationId = params.get("conversation") ?? "c1";
const trace: BrowserTrace = {
  jobFrames: [],
  resyncs: [],
  timeline: [],
  progress: [],
};
(window as unknown as { imagejobsTrace: BrowserTrace }).imagejobsTrace = trace;

/** The browser's WebSocket, recording each frame before the store reads it. */
class RecordingWebSocket extends WebSocket {
  constructor(url: string) {
    super(url);
    this.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data));
      if (frame.type === "job") {
        trace.jobFrames.push(`${frame.job.id}:${frame.job.version}`);
      } else if (frame.type === "snapshot") {
        trace.resyncs.push(frame.resync);
      }
    });
  }
}

const client = new ImageJobClient({
  url: `ws://${location.host}/ws?user=${params.get("user") ?? "alice"}`,
  WebSocket: RecordingWebSocket,
  backoff: { initialDelayMs: 50, maxDelayMs: 200 },
});
client.subscribe(() => {
  const state = client.getSnapshot();
  const jobs = client.getConversationJobs(conversationId);
  const newest = jobs.at(-1)?.job;
  const line = `${state.connection}/${newest?.status ?? "none"}`;
  if (trace.timeline.at(-1) !== line) trace.timeline.push(line);
  for (const { job } of jobs) {
    if (job.status === "running" && job.progress) {
      trace.progress.push(job.progress.fraction);
    }
  }
});

function Conversation() {
  const connection = useConnectionStatus();
  const jobs = useConversationImageJobs(conversationId);
  return (
    <main>
      <p data-testid="connection">{connection.status}</p>
      <p data-testid="loaded">{jobs.status}</p>
      {jobs.data.map(({ job }) => (
        <ImageJobCard key={job.id} jobId={job.id} />
      ))}
    </main>
  );
}

createRoot(document.getElementById("root")!).render(
  <ImageJobsProvider client={client}>
    <Conversation />
  </ImageJobsProvider>,
);
