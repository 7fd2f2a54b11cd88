/** Wraps a port bundle to count every call by `service.operation`: how benchmarks measure AWS calls. */
import type { AwsPorts } from "../src/aws/ports.ts";

export function countingPorts(ports: AwsPorts, calls: Map<string, number>): AwsPorts {
  const wrap = <T extends object>(target: T, prefix: string): T =>
    new Proxy(target, {
      get(t, key, receiver) {
        const v = Reflect.get(t, key, receiver) as unknown;
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          const name = `${prefix}.${String(key)}`;
          calls.set(name, (calls.get(name) ?? 0) + 1);
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  return { ...ports, ecs: wrap(ports.ecs, "ecs"), elbv2: wrap(ports.elbv2, "elbv2"), cloudwatch: wrap(ports.cloudwatch, "cloudwatch") };
}

export const total = (calls: Map<string, number>): number => [...calls.values()].reduce((a, b) => a + b, 0);
