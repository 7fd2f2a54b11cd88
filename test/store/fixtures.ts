/** Shared pieces of the store tests: a hand-driven clock and deployment inputs. */
import type { NewDeployment } from "../../src/store/index.ts";

export class TestClock {
  t: number;
  constructor(start = Date.UTC(2026, 10, 23, 12, 0, 0)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

let serial = 0;

/** A rolling deployment of a service of its own unless fields say otherwise. */
export function newDeployment(fields: Partial<NewDeployment> = {}): NewDeployment {
  serial += 1;
  return {
    object: `dev/svc${serial}/svc${serial}`,
    repository: "infra",
    branch: "main",
    commitSha: "a".repeat(40),
    strategy: "rolling",
    region: "us-east-1",
    cluster: "dev",
    service: `svc${serial}`,
    ...fields,
  };
}
