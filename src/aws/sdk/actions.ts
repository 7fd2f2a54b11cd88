/**
 * ELBv2 actions between the SDK's shape (PascalCase) and the ports' (camelCase). Pure: it imports
 * only types, so the simulator's wire front door can use it without loading the SDK client.
 */
import type { Action as SdkAction } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Action } from "../ports.ts";

export function fromSdkAction(a: SdkAction): Action {
  const { Type, Order, TargetGroupArn, ForwardConfig, ...other } = a;
  const fc = ForwardConfig;
  return {
    type: Type ?? "forward",
    ...(Order !== undefined ? { order: Order } : {}),
    ...(TargetGroupArn ? { targetGroupArn: TargetGroupArn } : {}),
    ...(fc
      ? {
          forwardConfig: {
            targetGroups: (fc.TargetGroups ?? []).map((t) => ({ targetGroupArn: t.TargetGroupArn ?? "", weight: t.Weight ?? 1 })),
            ...(fc.TargetGroupStickinessConfig
              ? {
                  stickiness: {
                    enabled: fc.TargetGroupStickinessConfig.Enabled ?? false,
                    ...(fc.TargetGroupStickinessConfig.DurationSeconds !== undefined ? { durationSeconds: fc.TargetGroupStickinessConfig.DurationSeconds } : {}),
                  },
                }
              : {}),
          },
        }
      : {}),
    ...(Object.keys(other).length > 0 ? { other: other } : {}),
  };
}

export function toSdkAction(a: Action): SdkAction {
  const fc = a.forwardConfig;
  return {
    ...(a.other as Partial<SdkAction> | undefined),
    Type: a.type as SdkAction["Type"],
    ...(a.order !== undefined ? { Order: a.order } : {}),
    ...(a.targetGroupArn ? { TargetGroupArn: a.targetGroupArn } : {}),
    ...(fc
      ? {
          ForwardConfig: {
            TargetGroups: fc.targetGroups.map((t) => ({ TargetGroupArn: t.targetGroupArn, Weight: t.weight })),
            ...(fc.stickiness ? { TargetGroupStickinessConfig: { Enabled: fc.stickiness.enabled, DurationSeconds: fc.stickiness.durationSeconds } } : {}),
          },
        }
      : {}),
  };
}
