import { type Agent, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** One HTTP request as the Forge client sends it. */
export interface HttpRequest {
  /** HTTP method. */
  readonly method: "GET" | "POST";
  /** Absolute URL. */
  readonly url: string;
  /** Request headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** JSON text of the body, if any. */
  readonly body?: string;
  /** Aborts the request (deadline or caller). */
  readonly signal?: AbortSignal;
}

/** The answer, fully read. */
export interface HttpResponse {
  /** HTTP status. */
  readonly status: number;
  /** The `content-type` header, or `""`. */
  readonly contentType: string;
  /** The body as text. */
  readonly text: string;
}

/** Sends one request; rejects with a {@link TransportError}. */
export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>;

/** How a request failed below HTTP. */
export type TransportFailure =
  | "refused"
  | "reset"
  | "timeout"
  | "aborted"
  | "network";

/** A failure below HTTP: no status was received. */
export class TransportError extends Error {
  /** What kind of failure. */
  readonly kind: TransportFailure;

  constructor(kind: TransportFailure, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "TransportError";
    this.kind = kind;
  }
}

/** Classifies anything a transport threw. */
export function toTransportError(
  error: unknown,
  signal?: AbortSignal,
): TransportError {
  if (error instanceof TransportError) return error;
  const err = error as { code?: string; name?: string; message?: string };
  const reason = signal?.reason as { name?: string } | undefined;
  const message = err?.message ?? String(error);
  if (err?.name === "TimeoutError" || reason?.name === "TimeoutError") {
    return new TransportError("timeout", "the call's deadline passed", error);
  }
  if (signal?.aborted || err?.name === "AbortError") {
    return new TransportError("aborted", "the call was aborted", error);
  }
  const code =
    err?.code ?? (err as { cause?: { code?: string } })?.cause?.code ?? "";
  if (
    ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"].includes(code)
  ) {
    return new TransportError("refused", `${code}: ${message}`, error);
  }
  if (["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"].includes(code)) {
    return new TransportError("reset", `${code}: ${message}`, error);
  }
  if (code.includes("TIMEOUT") || code === "ETIMEDOUT") {
    return new TransportError("timeout", `${code}: ${message}`, error);
  }
  return new TransportError("network", message, error);
}

/** Options of {@link createNodeTransport}. */
export interface NodeTransportOptions {
  /** An `http.Agent` (or `https.Agent`) for connection reuse or TLS. */
  readonly agent?: Agent;
}

/**
 * The default transport, on `node:http`/`node:https`. It has no hidden
 * timeouts: undici's 300 s headers and body timeouts of Node's `fetch` do
 * not apply, and any socket timeout an agent sets is lifted per request, so
 * only the caller's signal (the per-call deadline) ends a long generation.
 */
export function createNodeTransport(
  options: NodeTransportOptions = {},
): HttpTransport {
  return (request) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const url = new URL(request.url);
      const send = url.protocol === "https:" ? httpsRequest : httpRequest;
      const headers: Record<string, string> = { ...request.headers };
      if (request.body !== undefined) {
        headers["content-length"] = String(Buffer.byteLength(request.body));
      }
      const req = send(url, {
        method: request.method,
        headers,
        ...(options.agent ? { agent: options.agent } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      });
      req.setTimeout(0);
      req.on("socket", (socket) => socket.setTimeout(0));
      req.on("error", (error) =>
        reject(toTransportError(error, request.signal)),
      );
      req.on("response", (res) => {
        const parts: Buffer[] = [];
        res.on("data", (part: Buffer) => parts.push(part));
        res.on("error", (error) =>
          reject(toTransportError(error, request.signal)),
        );
        res.on("aborted", () =>
          reject(new TransportError("reset", "response cut short")),
        );
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"] ?? ""),
            text: Buffer.concat(parts).toString("utf8"),
          }),
        );
      });
      req.end(request.body);
    });
}

/**
 * A transport on a `fetch` function. Node's own `fetch` cuts any call after
 * 300 s (undici's headers and body timeouts): pass a `fetch` bound to an
 * undici dispatcher with those timeouts lifted (`headersTimeout: 0`,
 * `bodyTimeout: 0`), or use {@link createNodeTransport}.
 */
export function createFetchTransport(fetchFn: typeof fetch): HttpTransport {
  return async (request) => {
    try {
      const response = await fetchFn(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        ...(request.signal ? { signal: request.signal } : {}),
      });
      return {
        status: response.status,
        contentType: response.headers.get("content-type") ?? "",
        text: await response.text(),
      };
    } catch (error) {
      throw toTransportError(error, request.signal);
    }
  };
}
