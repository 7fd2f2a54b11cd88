/**
 * A request log for AWS ports: every call a test's engine makes, with its arguments, so a test can
 * prove what was (or was not) asked of AWS — e.g. that nothing changed anything for one service.
 */
import type { AwsPorts } from "../../src/aws/ports.ts";

export interface AwsCall {
  /** `ecs.createService`, `elbv2.describeTargetGroups`, ... */
  call: string;
  /** The arguments as JSON. */
  args: string;
}

/** Calls that change something in AWS. */
export const MUTATING = /\.(register|create|update|delete|modify|put|tag|untag|set|stop|continue|deregister)/;

/** `wrap` for the simulated engine: the ports, logging each call into `log` before it is made. */
export function recordCalls(log: AwsCall[]): (ports: AwsPorts) => AwsPorts {
  const record = <T extends object>(port: T, name: string): T =>
    new Proxy(port, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof prop !== "string" || typeof v !== "function") return v;
        return (...args: unknown[]) => {
          log.push({ call: `${name}.${prop}`, args: JSON.stringify(args) });
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return (ports) => ({ ...ports, ecs: record(ports.ecs, "ecs"), elbv2: record(ports.elbv2, "elbv2"), cloudwatch: record(ports.cloudwatch, "cloudwatch") });
}

/** The mutating calls whose arguments mention `text` (a service name, a family). */
export function mutationsMentioning(log: readonly AwsCall[], text: string): AwsCall[] {
  return log.filter((c) => MUTATING.test(c.call) && c.args.includes(text));
}
