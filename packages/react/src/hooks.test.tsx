import {
  createImageJobs,
  createInProcessSockets,
  RealtimeGateway,
} from "@imagejobs/core";
import { ImageJobClient } from "@imagejobs/core/client";
import { ScriptedGpuBackend } from "@imagejobs/core/testing";
import {
  act,
  cleanup,
  fireEvent,
  render,
  renderHook,
  screen,
  waitFor,
} from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, expect, it } from "vitest";
import {
  ImageJobCard,
  ImageJobsProvider,
  useConnectionStatus,
  useImageJob,
  useSubmitImageJob,
} from "./index.js";

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  cleanup();
  for (const stop of stops.splice(0).reverse()) await stop();
});

function setup() {
  const backend = new ScriptedGpuBackend();
  const jobs = createImageJobs({
    backends: [backend],
    sweepIntervalMs: 0,
    progressIntervalMs: 0,
    pollMs: 10,
  });
  jobs.start();
  const gateway = new RealtimeGateway({
    service: jobs.service,
    events: jobs.context.events,
    pingIntervalMs: 0,
  });
  const sockets = createInProcessSockets(gateway, {
    user: () => ({ id: "alice" }),
  });
  const client = new ImageJobClient({
    url: "in-process",
    WebSocket: sockets.WebSocket,
    backoff: { initialDelayMs: 5, maxDelayMs: 20 },
  });
  stops.push(async () => {
    client.close();
    gateway.close();
    await jobs.close();
  });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <ImageJobsProvider client={client}>{children}</ImageJobsProvider>
  );
  const submit = () =>
    jobs.service.submit(
      { id: "alice" },
      { conversationId: "c1", request: { prompt: "a red fox", steps: 10 } },
    );
  return { backend, jobs, gateway, sockets, client, wrapper, submit };
}

it("S17 a lost connection shows reconnecting, the job still running, then succeeded", async () => {
  const { backend, sockets, client, wrapper, submit } = setup();
  const { job } = await submit();
  const { result } = renderHook(
    () => ({ job: useImageJob(job.id), connection: useConnectionStatus() }),
    { wrapper },
  );
  const run = await backend.run(0);
  run.step(4);
  await waitFor(() => expect(result.current.job.data?.progress?.step).toBe(4));

  const seen: string[] = [];
  const stop = client.subscribe(() => {
    const state = client.getSnapshot();
    const line = `${state.connection}/${state.jobs[job.id]?.job.status}`;
    if (seen.at(-1) !== line) seen.push(line);
  });
  await act(async () => sockets.dropAll());
  await waitFor(() => expect(result.current.connection.isOpen).toBe(true));
  expect(seen.slice(0, 2)).toEqual(["reconnecting/running", "open/running"]);
  run.step(6);
  run.succeed();
  await waitFor(() => expect(result.current.job.status).toBe("succeeded"));
  stop();
  expect(result.current.connection.status).toBe("open");
  expect(result.current.job.data?.result?.images).toHaveLength(1);
  expect(seen.some((line) => line.endsWith("/failed"))).toBe(false);
});

it("S18 disconnecting is not cancelling; cancel stops only that job", async () => {
  const { backend, jobs, client, wrapper, submit } = setup();
  const first = (await submit()).job;
  const second = (await submit()).job;
  const { result, unmount } = renderHook(() => useImageJob(first.id), {
    wrapper,
  });
  const run = await backend.run(0);
  run.step(2);
  await waitFor(() => expect(result.current.isRunning).toBe(true));
  unmount();
  client.close();
  await waitFor(() => expect(client.getSnapshot().connection).toBe("offline"));
  expect(run.interrupted).toBe(false);
  expect((await jobs.service.get({ id: "alice" }, first.id)).job.status).toBe(
    "running",
  );

  client.connect();
  const again = renderHook(() => useImageJob(second.id), { wrapper });
  await waitFor(() => expect(again.result.current.isQueued).toBe(true));
  await act(() => again.result.current.cancel());
  await waitFor(() => expect(again.result.current.isCancelled).toBe(true));
  expect(run.interrupted).toBe(false);
  expect((await jobs.service.get({ id: "alice" }, first.id)).job.status).toBe(
    "running",
  );
});

it("S19 leave mid-render and come back: the image is there", async () => {
  const { backend, wrapper, submit } = setup();
  const { job } = await submit();
  const view = render(<ImageJobCard jobId={job.id} />, { wrapper });
  const run = await backend.run(0);
  run.step(5);
  await waitFor(() =>
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe(
      "50",
    ),
  );
  view.unmount();
  run.step(3);
  run.succeed();

  render(<ImageJobCard jobId={job.id} />, { wrapper });
  const image = await screen.findByRole("img");
  expect(image.getAttribute("alt")).toBe("a red fox");
  expect(screen.queryByRole("progressbar")).toBeNull();
});

it("a double click submits one job", async () => {
  const { jobs, wrapper } = setup();
  const { result } = renderHook(() => useSubmitImageJob(), { wrapper });
  const input = {
    conversationId: "c2",
    request: { prompt: "two clicks", steps: 10 },
  };
  const [a, b] = await act(() =>
    Promise.all([
      result.current.mutateAsync(input),
      result.current.mutateAsync(input),
    ]),
  );
  expect(a.job.id).toBe(b.job.id);
  const listed = await jobs.service.list(
    { id: "alice" },
    { conversationId: "c2" },
  );
  expect(listed).toHaveLength(1);
  await waitFor(() => expect(result.current.isSuccess).toBe(true));
});

it("the card shows the position while queued, a progress bar that never goes back, and retry on failure", async () => {
  const { backend, wrapper, submit } = setup();
  const ahead = (await submit()).job;
  const { job } = await submit();
  render(<ImageJobCard jobId={job.id} />, { wrapper });
  await screen.findByText(/Position 1 of 1 in the queue/);
  const first = await backend.run(0);
  expect(first.input.request.prompt).toBe(ahead.request.prompt);
  first.succeed();
  const run = await backend.run(1);
  run.step(7);
  await waitFor(() =>
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe(
      "70",
    ),
  );
  run.step(3);
  run.fail(new Error("boom"));
  const alert = await screen.findByRole("alert");
  expect(alert.textContent).toMatch(/went wrong/);
  fireEvent.click(screen.getByRole("button", { name: "Try again" }));
  await waitFor(() => expect(backend.runs).toHaveLength(3));
});

it("runs on the React its test project asks for", async () => {
  const { version } = await import("react");
  const { version: dom } = await import("react-dom");
  const major = process.env.EXPECT_REACT ?? "19";
  expect(version.split(".")[0]).toBe(major);
  expect(dom.split(".")[0]).toBe(major);
});
