/** The depdef's alarms before a deployment changes anything (task-set blue/green and ECS-managed alike). */
import type { Alarm } from "../aws/ports.ts";
import { because, type Because } from "./registry.ts";

/**
 * Why the deployment must not start, or undefined: an alarm the depdef names does not exist (a
 * configuration error), or an update would start while one is already in ALARM (its shifts could
 * not be judged). A first deployment has no traffic to judge, so a firing alarm does not stop it.
 */
export function alarmsBeforeStart(alarms: readonly Alarm[], names: readonly string[], update: boolean, region: string): Because | undefined {
  const found = new Set(alarms.map((a) => a.alarmName));
  const missing = names.filter((n) => !found.has(n));
  if (missing.length) return because("AlarmNotFound", { alarms: `alarm${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`, verb: missing.length > 1 ? "do" : "does", region });
  const firing = alarms.filter((a) => a.stateValue === "ALARM");
  if (firing.length && update) return because("AlarmFiringBeforeStart", { alarms: firing.map((a) => a.alarmName).join(", ") });
  return undefined;
}
