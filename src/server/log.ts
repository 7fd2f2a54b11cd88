/**
 * The server's structured log: pino JSON lines, one per event, with levels and the injected clock's
 * time. Two walls keep secrets out of it, whatever a caller passes in:
 *
 * 1. pino's redaction censors the fields that can hold a credential (Authorization and cookie
 *    headers, webhook signatures, `token`, `password`, `secret`, ...) wherever a request or an
 *    object is logged;
 * 2. every finished line goes through the one masker (src/core/mask.ts) before it is written: the
 *    server's own secret values (admin token, webhook secret, credential tokens, any environment
 *    value whose name looks secret) and the text rules (URL passwords, `Bearer …`, secret-named
 *    pairs) are replaced by `****`.
 */
import pino, { type Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import { defaultMasker, type Masker } from "../core/mask.ts";

export type { Logger };

/** Log paths that could hold a credential; censored whatever the level or serializer. */
export const REDACTED_LOG_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-hub-signature"]',
  "headers.authorization",
  "headers.cookie",
  'headers["x-hub-signature-256"]',
  "request.headers.authorization",
  "*.headers.authorization",
  "*.headers.cookie",
  'headers["set-cookie"]',
  "authorization",
  "token",
  "*.token",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "signature",
  "*.signature",
];

export interface LogDestination {
  write(line: string): void;
}

export interface LoggerOptions {
  level?: string;
  destination: LogDestination;
  clock: Clock;
  masker?: Masker;
  /** Secret values to hide wherever they appear (strings shorter than 6 characters are ignored: they would mask half the log). */
  secrets?: readonly string[];
}

export function createLogger(options: LoggerOptions): Logger {
  const masker = (options.masker ?? defaultMasker).with((options.secrets ?? []).filter((s) => s.length >= 6));
  const { clock, destination } = options;
  return pino(
    {
      level: options.level ?? "info",
      base: { pid: process.pid },
      timestamp: () => `,"time":"${new Date(clock.now()).toISOString()}"`,
      redact: { paths: REDACTED_LOG_PATHS, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: (line: string) => destination.write(masker.text(line)) },
  );
}

/**
 * The values `serve` hides from its log: the ones it is configured to hold, and every environment
 * value whose name looks secret (GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, DB_PASSWORD, ...).
 */
export function secretValues(env: NodeJS.ProcessEnv, named: readonly (string | undefined)[], masker: Masker = defaultMasker): string[] {
  const fromEnv = Object.entries(env).filter(([k, v]) => v && masker.looksSecret(k)).map(([, v]) => v!);
  return [...new Set([...named.filter((v): v is string => typeof v === "string" && v !== ""), ...fromEnv])];
}
