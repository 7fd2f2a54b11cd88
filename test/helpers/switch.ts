/**
 * A test "process" inside one test process: its store and AWS calls go through a switch. Killed,
 * its calls never answer (a dead process sends nothing more); stalled, they wait until it is let go
 * (a process paused by the OS). The AWS mutations it sent are recorded with the virtual time.
 */
import type { AwsPorts, AwsPortsFactory } from "../../src/aws/ports.ts";

const MUTATING = /^(register|create|update|delete|modify|set)/i;

/** A process's connection to the world: calls pass, hang forever (killed) or wait (stalled). */
export class Switch {
  private mode: "on" | "killed" | "stalled" = "on";
  private waiting: (() => void)[] = [];
  /** AWS mutations this process sent, with the virtual time. */
  readonly mutations: { at: number; op: string }[] = [];
  private readonly clock: { now(): number };
  constructor(clock: { now(): number }) {
    this.clock = clock;
  }
  kill(): void {
    this.mode = "killed";
  }
  stall(): void {
    this.mode = "stalled";
  }
  letGo(): void {
    this.mode = "on";
    for (const w of this.waiting.splice(0)) w();
  }
  private async gate(): Promise<void> {
    if (this.mode === "killed") return new Promise<void>(() => undefined);
    if (this.mode === "stalled") await new Promise<void>((resolve) => this.waiting.push(resolve));
    if ((this.mode as string) === "killed") return new Promise<void>(() => undefined);
  }
  wrap<T extends object>(target: T, record?: string): T {
    return new Proxy(target, {
      get: (t, key) => {
        const value: unknown = Reflect.get(t, key, t);
        if (typeof value !== "function") return value;
        return async (...args: unknown[]) => {
          await this.gate();
          if (record && typeof key === "string" && MUTATING.test(key)) this.mutations.push({ at: this.clock.now(), op: `${record}.${key}` });
          return (value as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  }
  ports(factory: AwsPortsFactory): AwsPortsFactory {
    return (region) => {
      const p = factory(region);
      return { ecs: this.wrap(p.ecs, "ecs"), elbv2: this.wrap(p.elbv2, "elbv2"), cloudwatch: this.wrap(p.cloudwatch, "cloudwatch") } as AwsPorts;
    };
  }
}
