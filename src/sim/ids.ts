/** Deterministic ids and ARNs: a seeded generator, so a scenario replays identically. */

/** mulberry32: small, fast, good enough for ids and fault dice. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = "0123456789abcdef";

export class Ids {
  private readonly random: () => number;
  private ip = 0;
  constructor(random: () => number) {
    this.random = random;
  }
  digits(n: number): string {
    let s = String(1 + Math.floor(this.random() * 9));
    while (s.length < n) s += String(Math.floor(this.random() * 10));
    return s;
  }
  hex(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += HEX[Math.floor(this.random() * 16)];
    return s;
  }
  /** `ecs-svc/` and 19 digits, the form ECS uses for deployments and task sets. */
  deploymentId(): string {
    return `ecs-svc/${this.digits(19)}`;
  }
  taskId(): string {
    return this.hex(32);
  }
  privateIp(): string {
    const n = this.ip++;
    return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${(n & 255) + 0}`;
  }
}

/** A stable 16-hex-digit hash of a name, for ELB ARNs the user can predict and write into svcdefs. */
export function nameHash(name: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 16777619) >>> 0;
    h2 = Math.imul(h2 ^ c, 2246822519) >>> 0;
  }
  return (h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0")).slice(0, 16);
}

export function parseDuration(v: number | string): number {
  if (typeof v === "number") return v * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new RangeError(`not a duration: ${v}`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "ms" | "s" | "m" | "h"]);
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m${String(sec).padStart(2, "0")}s` : m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}
