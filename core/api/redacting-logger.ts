import { format } from "node:util";
import type { SecretRedactor } from "./redact";

type LogFunction = (message: string, ...rest: unknown[]) => void;

/** The SDK's logger, with every line passed through the redactor before it reaches stderr. */
export function redactingLogger(redactor: SecretRedactor): { error: LogFunction; warn: LogFunction; info: LogFunction; debug: LogFunction } {
  const line = (message: string, rest: unknown[]) => redactor.redact(format(message, ...rest));
  return {
    error: (message, ...rest) => console.error(line(message, rest)),
    warn: (message, ...rest) => console.error(line(message, rest)),
    info: (message, ...rest) => console.error(line(message, rest)),
    debug: (message, ...rest) => console.error(line(message, rest)),
  };
}
