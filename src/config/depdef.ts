/**
 * The deployment definition (`_depdef.json`): its schema, DESIGN.md's defaults, and the legacy
 * keys older Gitmoxi repositories still carry (accepted with a deprecation warning, so existing
 * repositories work unchanged). Unknown keys are errors.
 */
import { z } from "zod";
import type { Problem } from "../core/problems.ts";
import { didYouMean } from "../core/suggest.ts";
import type { JsonDocument, JsonObject, PathSegment } from "./json-document.ts";
import { checkNotificationTarget } from "./notification-target.ts";
import { rainbowSchema } from "./rainbow.ts";

const seconds = z.number().int().min(0);
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export const TRAFFIC_SHIFTING_TYPES = ["CANARY", "LINEAR", "ALL_AT_ONCE"] as const;
export const NOTIFICATION_EVENTS = ["started", "succeeded", "failed", "rolledBack", "aborted"] as const;

const notification = z.strictObject({
  /** Checked by checkNotificationTarget (coded problems); whether it may be called is the server's policy. */
  url: z.string().min(1),
  events: z.array(z.enum(NOTIFICATION_EVENTS)).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** A Jinja template for the request body; the default is a JSON summary of the deployment. */
  template: z.string().optional(),
});

const capacityProviderStrategyItem = z.strictObject({
  capacityProvider: z.string().min(1),
  weight: z.number().int().min(0).max(1000).optional(),
  base: z.number().int().min(0).max(100000).optional(),
});

export const depdefSchema = z.strictObject({
  environment: z
    .strictObject({
      region: z.string().regex(REGION, "must be an AWS region such as us-east-1").optional(),
      account: z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id").optional(),
    })
    .prefault({}),
  trafficShiftingConfig: z
    .strictObject({
      type: z.enum(TRAFFIC_SHIFTING_TYPES).default("CANARY"),
      percent: z.number().int().min(1, "must be between 1 and 100").max(100, "must be between 1 and 100").default(20),
      waitInterval: seconds.default(60),
      /** Flotilla: an explicit list of cumulative percentages, e.g. [5, 25, 50, 100]; overrides type/percent. */
      steps: z.array(z.number().int().min(1).max(100)).min(1).optional(),
      /** Legacy Gitmoxi: a stability check before the first shift. */
      preShiftStabilityCheck: z.strictObject({ pollInterval: seconds.optional(), timeout: seconds.optional() }).optional(),
    })
    .prefault({}),
  targetGroupArnPairs: z.array(z.tuple([z.string().min(1), z.string().min(1)])).default([]),
  alarms: z
    .strictObject({
      alarmNames: z.array(z.string().min(1)).default([]),
      /** Legacy Gitmoxi keys: alarms are always checked when named; rollback on alarm is always on. */
      enable: z.boolean().optional(),
      rollback: z.boolean().optional(),
    })
    .prefault({}),
  deleteNewUponTrafficShiftFailure: z.boolean().default(true),
  stabilityCheck: z
    .strictObject({
      pollInterval: z.number().int().min(1).default(30),
      timeout: z.number().int().min(1).default(300),
      timeoutPerTask: seconds.default(0),
    })
    .prefault({}),
  gmDeploymentCircuitBreaker: z
    .strictObject({
      failureThreshold: seconds.default(5),
      failureThresholdPercent: z.number().min(0).max(100).default(0),
      rollback: z.boolean().default(true),
      /** Legacy Gitmoxi keys, superseded by stabilityCheck. */
      pollInterval: seconds.optional(),
      timeout: seconds.optional(),
    })
    .prefault({}),
  deleteNewUponFailure: z.boolean().default(true),
  /** Flotilla: seconds to keep watching alarms at 100% before the old tasks are removed. */
  bakeTime: seconds.default(0),
  /** Flotilla: webhooks called on deployment events. */
  notifications: z.array(notification).default([]),
  /** Flotilla: redeploy the object from Git when what runs drifts from it (absent: the server's drift.selfHeal decides). */
  selfHeal: z.boolean().optional(),
  /** Gitmoxi: the capacity provider strategy to fall back to when the primary one cannot place tasks. */
  fallbackCapacityProviderStrategy: z.array(capacityProviderStrategyItem).min(1).optional(),
  /** Flotilla: rainbow deployments, a service and URL per version (config/rainbow.ts). */
  rainbow: rainbowSchema.optional(),
  // Legacy Gitmoxi keys (deprecated):
  targetGroupArns: z.array(z.string().min(1)).length(2, "must list exactly two target group ARNs").optional(),
  deleteOldUponSuccess: z.boolean().optional(),
  trafficShiftingEnabled: z.boolean().optional(),
});

export type DepDef = z.output<typeof depdefSchema>;

const DEPRECATED: Record<string, string> = {
  "$.targetGroupArns": 'use "targetGroupArnPairs": [["<blue>", "<green>"]]',
  "$.deleteOldUponSuccess": "old tasks are always removed after a successful deployment; remove this key",
  "$.trafficShiftingEnabled": 'traffic shifting follows "trafficShiftingConfig"; remove this key',
  "$.alarms.enable": "named alarms are always checked; remove this key",
  "$.alarms.rollback": "an alarm always rolls the deployment back; remove this key",
  "$.gmDeploymentCircuitBreaker.pollInterval": 'use "stabilityCheck.pollInterval"',
  "$.gmDeploymentCircuitBreaker.timeout": 'use "stabilityCheck.timeout"',
  "$.trafficShiftingConfig.preShiftStabilityCheck": 'green is always stabilised before shifting, using "stabilityCheck"',
};

export interface DepDefResult {
  depdef: DepDef;
  problems: Problem[];
  /** False when the file did not match the schema and `depdef` holds only defaults. */
  valid: boolean;
}

/** Validate and fill defaults. `doc` is undefined when the object has no depdef file. */
export function parseDepDef(value: JsonObject | undefined, doc: JsonDocument | undefined): DepDefResult {
  const problems: Problem[] = [];
  if (doc && Array.isArray(value?.["notifications"])) {
    value["notifications"].forEach((target, i) => {
      if (target && typeof target === "object" && !Array.isArray(target)) {
        for (const issue of checkNotificationTarget(target)) problems.push(doc.problemAt(["notifications", i, ...issue.path], { code: issue.code, severity: issue.severity, message: issue.message }));
      }
    });
  }
  const parsed = depdefSchema.safeParse(value ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...issueToProblems(issue, doc!));
    // Fall back to defaults so later checks can still run on the rest of the object.
    return { depdef: depdefSchema.parse({}), problems, valid: false };
  }
  if (problems.some((p) => p.severity === "error")) {
    // A target that can never be called makes the file invalid, like any other schema error.
    return { depdef: depdefSchema.parse({}), problems, valid: false };
  }
  const depdef = parsed.data;
  if (doc && value) {
    for (const [path, advice] of Object.entries(DEPRECATED)) {
      const segments = path.slice(2).split(".");
      if (getPath(value, segments) !== undefined) {
        problems.push(doc.problemAt(segments, { code: "FLT-DEPDEF-DEPRECATED", severity: "warning", message: `"${segments.at(-1)}" is a legacy Gitmoxi key`, hint: advice }, true));
      }
    }
  }
  // Translate the legacy flat pair.
  if (depdef.targetGroupArns && depdef.targetGroupArnPairs.length === 0) {
    depdef.targetGroupArnPairs = [[depdef.targetGroupArns[0]!, depdef.targetGroupArns[1]!]];
  }
  if (depdef.trafficShiftingConfig.steps && doc) {
    const steps = depdef.trafficShiftingConfig.steps;
    const bad = steps.findIndex((s, i) => i > 0 && s <= steps[i - 1]!);
    if (bad >= 0 || steps.at(-1) !== 100) {
      problems.push(
        doc.problemAt(["trafficShiftingConfig", "steps", ...(bad >= 0 ? [bad] : [])], {
          code: "FLT-DEPDEF-SHIFTING",
          severity: "error",
          message: bad >= 0 ? `steps must increase strictly: ${steps[bad]} follows ${steps[bad - 1]}` : `the last step must be 100, not ${steps.at(-1)}`,
        }),
      );
    }
  }
  return { depdef, problems, valid: true };
}

/** The cumulative traffic percentages a blue/green deployment moves through, ending at 100. */
export function trafficSteps(cfg: DepDef["trafficShiftingConfig"]): number[] {
  if (cfg.steps) return [...cfg.steps];
  if (cfg.type === "ALL_AT_ONCE" || cfg.percent >= 100) return [100];
  if (cfg.type === "CANARY") return [cfg.percent, 100];
  const steps: number[] = [];
  for (let p = cfg.percent; p < 100; p += cfg.percent) steps.push(p);
  steps.push(100);
  return steps;
}

function getPath(v: unknown, segments: string[]): unknown {
  return segments.reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), v);
}

function issueToProblems(issue: z.core.$ZodIssue, doc: JsonDocument): Problem[] {
  const path = issue.path.filter((p): p is PathSegment => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    const known = knownKeys(path);
    return issue.keys.map((key) => {
      const guess = didYouMean(key, known);
      return doc.problemAt(
        [...path, key],
        {
          code: "FLT-CONFIG-UNKNOWN-KEY",
          severity: "error",
          message: `unknown key "${key}" in the deployment definition`,
          hint: guess ? `did you mean "${guess}"?` : `valid keys here: ${known.join(", ")}`,
        },
        true,
      );
    });
  }
  const name = String(path.findLast((p) => typeof p === "string") ?? "value");
  let code: Problem["code"] = "FLT-CONFIG-TYPE";
  let message = `${name}: ${issue.message}`;
  if (issue.code === "invalid_value") {
    code = "FLT-CONFIG-ENUM";
    message = `${name} must be one of ${issue.values.map((v) => String(v)).join(", ")}`;
  } else if (issue.code === "too_small" || issue.code === "too_big" || issue.code === "invalid_format") {
    code = "FLT-CONFIG-RANGE";
    if (issue.code !== "invalid_format" && issue.origin === "array") {
      const bound = issue.code === "too_small" ? `at least ${String(issue.minimum)}` : `at most ${String(issue.maximum)}`;
      message = typeof path.at(-1) === "number" && path.includes("targetGroupArnPairs") ? "a target group pair must be [blue ARN, green ARN]" : `${name} must list ${bound} item(s)`;
    }
  } else if (issue.code === "invalid_type") {
    message = `${name} must be ${article(issue.expected)}`;
  }
  return [doc.problemAt(path, { code, severity: "error", message })];
}

function article(expected: string): string {
  if (expected === "int") return "an integer";
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** The keys the schema allows at a path, for did-you-mean. */
function knownKeys(path: PathSegment[]): string[] {
  let s: z.ZodType = depdefSchema;
  for (const seg of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(seg)] ?? s;
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
  }
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else return s;
  }
}

/** Flotilla's circuit-breaker threshold at a desired count, and how it was reached. */
export interface BreakerThreshold {
  /** Failed new tasks that fail the deployment; 0 when the breaker is off. */
  threshold: number;
  /** From `failureThreshold`, when it counts (> 0). */
  absolute?: number;
  /** `ceil(failureThresholdPercent% × desired)`, when the percent counts (> 0). */
  fromPercent?: number;
  /** e.g. "min(5, 10) = 5 at desired 20". */
  explained: string;
}

/**
 * DESIGN §2, as Gitmoxi documents it: min(failureThreshold, ceil(failureThresholdPercent% × desired)),
 * counting only the settings that are above 0; both 0 turns Flotilla's breaker off. Inside the
 * block `failureThreshold` defaults to 5, so a percent alone is capped at 5.
 */
export function breakerThreshold(depdef: DepDef, desired: number): BreakerThreshold {
  const cb = depdef.gmDeploymentCircuitBreaker;
  const absolute = cb.failureThreshold > 0 ? cb.failureThreshold : undefined;
  // Percent × count first, then /100: 7% of 100 is 7, not ceil(0.07 × 100 = 7.000000000000001) = 8.
  const fromPercent = cb.failureThresholdPercent > 0 ? Math.max(1, Math.ceil((cb.failureThresholdPercent * desired) / 100)) : undefined;
  const at = Number.isFinite(desired) ? ` at desired ${desired}` : "";
  if (absolute !== undefined && fromPercent !== undefined) {
    const threshold = Math.min(absolute, fromPercent);
    return { threshold, absolute, fromPercent, explained: `min(${absolute}, ${fromPercent}) = ${threshold}${at}` };
  }
  if (absolute !== undefined) return { threshold: absolute, absolute, explained: `failureThreshold ${absolute}` };
  if (fromPercent !== undefined) return { threshold: fromPercent, fromPercent, explained: `ceil(${cb.failureThresholdPercent}% × ${desired}) = ${fromPercent}` };
  return { threshold: 0, explained: "off (failureThreshold and failureThresholdPercent are both 0)" };
}
