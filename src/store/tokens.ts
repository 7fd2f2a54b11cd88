import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * API tokens are random 256-bit secrets shown once. Only their SHA-256 is stored: a fast hash is
 * enough for high-entropy secrets (a slow KDF protects guessable passwords, which these are not).
 */
export function generateToken(): string {
  return `flt_${randomBytes(32).toString("base64url")}`;
}

/** A dashboard session's secret (the cookie's value). */
export function generateSessionSecret(): string {
  return `fls_${randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Constant-time comparison of a presented token with a stored hash. */
export function tokenMatches(token: string, storedHash: string): boolean {
  const a = Buffer.from(hashToken(token), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}
