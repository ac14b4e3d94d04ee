/** A log method in pino's shape: fields first, then the message. */
export type LogMethod = (
  fields: Record<string, unknown>,
  message: string,
) => void;

/** A logger in pino's shape. A pino instance fits as it is. */
export interface Logger {
  /** Detail for debugging. */
  debug: LogMethod;
  /** Normal operation worth recording. */
  info: LogMethod;
  /** Something went wrong and was handled. */
  warn: LogMethod;
  /** Something went wrong and was not. */
  error: LogMethod;
}

const ignore: LogMethod = () => {};

/** The default logger: says nothing. */
export const silentLogger: Logger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
};
