/**
 * ELB listener rule conditions as data: how to read a condition's field and values whether it
 * comes from ELBv2's answer (`Field`, `HostHeaderConfig.Values`, ...) or a hand-written scenario
 * (`field`, `values`). Shared by the rainbow naming rules (config) and the simulator's routing.
 */
export type RuleCondition = Record<string, unknown>;

export function conditionField(c: RuleCondition): string | undefined {
  const f = c["Field"] ?? c["field"];
  return typeof f === "string" ? f : undefined;
}

/** A condition's values, from its typed config (`HostHeaderConfig.Values`, …) or the legacy `Values`. */
export function conditionValues(c: RuleCondition): string[] {
  const typed = ["HostHeaderConfig", "PathPatternConfig", "HttpHeaderConfig", "HttpRequestMethodConfig", "SourceIpConfig"].map((k) => c[k] as { Values?: unknown } | undefined).find((x) => x !== undefined);
  const values = typed?.Values ?? c["Values"] ?? c["values"];
  return Array.isArray(values) ? values.filter((v): v is string => typeof v === "string") : [];
}
