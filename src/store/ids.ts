import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; // Crockford base32, as ULID uses

/**
 * Monotonic ULIDs: 10 characters of time, 16 of randomness. Ids sort by creation time, and
 * within one millisecond of one process they still sort in creation order (the random part is
 * incremented), which keeps "newest first" and cursors exact under a frozen test clock.
 */
export function ulidFactory(): (now: number) => string {
  let lastTime = -1;
  let lastRandom: number[] = [];
  return (now: number): string => {
    if (now <= lastTime) {
      lastRandom = increment(lastRandom);
      now = lastTime;
    } else {
      lastTime = now;
      lastRandom = Array.from(randomBytes(16), (b) => b % 32);
    }
    return encodeTime(now) + lastRandom.map((d) => ALPHABET[d]).join("");
  };
}

function encodeTime(ms: number): string {
  let out = "";
  let t = Math.floor(ms);
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function increment(digits: number[]): number[] {
  const out = [...digits];
  for (let i = out.length - 1; i >= 0; i--) {
    const d = out[i]!;
    if (d < 31) {
      out[i] = d + 1;
      return out;
    }
    out[i] = 0;
  }
  throw new Error("ULID random part overflowed within one millisecond");
}
