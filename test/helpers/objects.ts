/** Minimal valid definition files, to vary one thing at a time. */
export const TG_BLUE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app-blue/0123456789abcdef";
export const TG_GREEN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app-green/fedcba9876543210";

export function svcdef(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cluster: "apps",
    serviceName: name,
    desiredCount: 2,
    launchType: "EC2",
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    ...extra,
  };
}

export function taskdef(family: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    family,
    containerDefinitions: [{ name: "app", image: "nginx@sha256:" + "a".repeat(64), memory: 256, essential: true, portMappings: [{ containerPort: 80 }] }],
    ...extra,
  };
}

/** A complete rolling object under `prefix` (e.g. `dev/web/web`). */
export function rollingObject(prefix: string, service: string, extra: { svc?: Record<string, unknown>; task?: Record<string, unknown> } = {}): Record<string, object> {
  return { [`${prefix}_svcdef.json`]: svcdef(service, extra.svc), [`${prefix}_taskdef.json`]: taskdef(service, extra.task) };
}
