/**
 * The closed catalog of error codes. Every failure a user or an operator
 * can meet maps to exactly one of these.
 */
export const ERROR_CODES = [
  "INVALID_REQUEST",
  "UNAUTHENTICATED",
  "NOT_FOUND",
  "QUOTA_EXCEEDED",
  "RATE_LIMITED",
  "QUEUE_FULL",
  "IDEMPOTENCY_CONFLICT",
  "QUEUE_TIMEOUT",
  "RUN_TIMEOUT",
  "STALLED",
  "WORKER_LOST",
  "GPU_UNAVAILABLE",
  "GPU_OUT_OF_MEMORY",
  "GPU_REJECTED",
  "GPU_ERROR",
  "CANCELLED",
  "SLOW_CONSUMER",
  "INTERNAL",
] as const;

/** One of the {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** What the catalog knows about one code. */
export interface ErrorCodeInfo {
  /** The message a chat user sees, in plain words. */
  readonly userMessage: string;
  /** Whether trying the same thing again later can succeed. */
  readonly retryable: boolean;
}

/** The default user messages and retryable flags, one per code. */
export const ERROR_CATALOG: Readonly<Record<ErrorCode, ErrorCodeInfo>> = {
  INVALID_REQUEST: {
    userMessage:
      "Some of the image settings are not valid. Please check them and try again.",
    retryable: false,
  },
  UNAUTHENTICATED: {
    userMessage: "Please sign in again to create images.",
    retryable: false,
  },
  NOT_FOUND: {
    userMessage:
      "We could not find that. It may have been removed, or the link may be wrong.",
    retryable: false,
  },
  QUOTA_EXCEEDED: {
    userMessage:
      "You already have the most image requests allowed waiting. Please wait for one to finish, then try again.",
    retryable: true,
  },
  RATE_LIMITED: {
    userMessage:
      "You are sending image requests too quickly. Please wait a moment and try again.",
    retryable: true,
  },
  QUEUE_FULL: {
    userMessage:
      "The image service is very busy right now. Please try again in a few minutes.",
    retryable: true,
  },
  IDEMPOTENCY_CONFLICT: {
    userMessage: "This request was already sent with different settings.",
    retryable: false,
  },
  QUEUE_TIMEOUT: {
    userMessage:
      "Your image waited too long in the queue and was not started. Please try again.",
    retryable: true,
  },
  RUN_TIMEOUT: {
    userMessage:
      "Your image took too long to make and was stopped. Please try again, perhaps with a smaller size or fewer steps.",
    retryable: true,
  },
  STALLED: {
    userMessage:
      "The image stopped making progress and was stopped. Please try again.",
    retryable: true,
  },
  WORKER_LOST: {
    userMessage:
      "The image service lost your image while making it. Please try again.",
    retryable: true,
  },
  GPU_UNAVAILABLE: {
    userMessage:
      "The image service is unavailable right now. Please try again in a minute.",
    retryable: true,
  },
  GPU_OUT_OF_MEMORY: {
    userMessage:
      "The image was too large for the image server's memory. Try a smaller size or fewer images at once.",
    retryable: false,
  },
  GPU_REJECTED: {
    userMessage:
      "The image server did not accept these settings. Please change them and try again.",
    retryable: false,
  },
  GPU_ERROR: {
    userMessage:
      "Something went wrong while making your image. Please try again.",
    retryable: true,
  },
  CANCELLED: {
    userMessage: "The image request was cancelled.",
    retryable: true,
  },
  SLOW_CONSUMER: {
    userMessage: "The connection fell behind and was reset. Reconnecting…",
    retryable: true,
  },
  INTERNAL: {
    userMessage: "Something went wrong on our side. Please try again.",
    retryable: true,
  },
};

/** One field's problem in an invalid request. */
export interface FieldIssue {
  /** Dotted path of the field, such as `width` or `extra.sampler`. */
  readonly field: string;
  /** What is wrong with it, in plain words. */
  readonly message: string;
}

/** The part of an error that may be shown to a user or sent to a client. */
export interface PublicError {
  /** The stable code. */
  readonly code: ErrorCode;
  /** A message a chat user understands. */
  readonly message: string;
  /** Whether trying again later can succeed. */
  readonly retryable: boolean;
  /** How long to wait before trying again, in milliseconds, when known. */
  readonly retryAfterMs?: number;
  /** Each field's problem, for INVALID_REQUEST. */
  readonly fields?: readonly FieldIssue[];
}

/** Options of an {@link ImageJobError}. */
export interface ImageJobErrorOptions {
  /** Replaces the catalog's user message for this one error. */
  readonly userMessage?: string;
  /** Replaces the catalog's retryable flag. */
  readonly retryable?: boolean;
  /** How long to wait before trying again, in milliseconds. */
  readonly retryAfterMs?: number;
  /** What an operator needs to know; never reaches the user. */
  readonly detail?: string;
  /** Each field's problem, for INVALID_REQUEST. */
  readonly fields?: readonly FieldIssue[];
  /** The error that caused this one. */
  readonly cause?: unknown;
  /**
   * For GPU failures: whether this failure says the server itself is
   * unhealthy (counted by the circuit breaker). Out of memory and rejected
   * parameters never are.
   */
  readonly serverFault?: boolean;
  /**
   * For GPU failures: the outcome of the call is unknown (a proxy's 504, a
   * cut connection); the job may still be running on the server.
   */
  readonly outcomeUnknown?: boolean;
}

const MARKER = Symbol.for("imagejobs.error");

/**
 * The one error class of imagejobs. Its `message` is for operators (the
 * detail); `userMessage` is what a chat user sees.
 */
export class ImageJobError extends Error {
  /** The stable code. */
  readonly code: ErrorCode;
  /** A message a chat user understands. */
  readonly userMessage: string;
  /** Whether trying again later can succeed. */
  readonly retryable: boolean;
  /** How long to wait before trying again, in milliseconds, when known. */
  readonly retryAfterMs: number | undefined;
  /** What an operator needs to know; never reaches the user. */
  readonly detail: string | undefined;
  /** Each field's problem, for INVALID_REQUEST. */
  readonly fields: readonly FieldIssue[];
  /** See {@link ImageJobErrorOptions.serverFault}. */
  readonly serverFault: boolean;
  /** See {@link ImageJobErrorOptions.outcomeUnknown}. */
  readonly outcomeUnknown: boolean;

  constructor(code: ErrorCode, options: ImageJobErrorOptions = {}) {
    const info = ERROR_CATALOG[code];
    super(options.detail ?? `${code}: ${info.userMessage}`, {
      cause: options.cause,
    });
    this.name = "ImageJobError";
    Object.defineProperty(this, MARKER, { value: true });
    this.code = code;
    this.userMessage = options.userMessage ?? info.userMessage;
    this.retryable = options.retryable ?? info.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.detail = options.detail;
    this.fields = options.fields ?? [];
    this.serverFault = options.serverFault ?? false;
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }

  /** True for an ImageJobError, even one from another copy of this package. */
  static isInstance(value: unknown): value is ImageJobError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as Record<symbol, unknown>)[MARKER] === true
    );
  }

  /** Turns anything thrown into an ImageJobError (INTERNAL if unknown). */
  static from(value: unknown): ImageJobError {
    if (ImageJobError.isInstance(value)) return value;
    const detail = value instanceof Error ? value.message : String(value);
    return new ImageJobError("INTERNAL", { detail, cause: value });
  }

  /** The user-safe part: no detail, no cause. */
  toPublic(): PublicError {
    return {
      code: this.code,
      message: this.userMessage,
      retryable: this.retryable,
      ...(this.retryAfterMs === undefined
        ? {}
        : { retryAfterMs: this.retryAfterMs }),
      ...(this.fields.length > 0 ? { fields: this.fields } : {}),
    };
  }
}

/** Per-code replacements of user messages, for translation or tone. */
export type UserMessages = Partial<Record<ErrorCode, string>>;

/**
 * The error a job ends with: the user-safe part, with the message replaced
 * when `messages` has one for the code, and the operator detail kept apart.
 */
export function toJobError(
  error: ImageJobError,
  messages: UserMessages = {},
): PublicError & { readonly detail?: string } {
  const replaced = messages[error.code];
  return {
    ...error.toPublic(),
    ...(replaced === undefined ? {} : { message: replaced }),
    ...(error.detail === undefined ? {} : { detail: error.detail }),
  };
}

/** True when `code` is one of the catalog's codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return (
    typeof code === "string" &&
    (ERROR_CODES as readonly string[]).includes(code)
  );
}

/**
 * Reads an error that came over the wire. A code this version does not know
 * is treated as INTERNAL, keeping the server's message.
 */
export function readPublicError(value: {
  code: string;
  message: string;
  retryable?: boolean;
  retryAfterMs?: number;
}): PublicError {
  const code = isErrorCode(value.code) ? value.code : "INTERNAL";
  return {
    code,
    message: value.message,
    retryable: value.retryable ?? ERROR_CATALOG[code].retryable,
    ...(value.retryAfterMs === undefined
      ? {}
      : { retryAfterMs: value.retryAfterMs }),
  };
}
