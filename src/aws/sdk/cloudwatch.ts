/** CloudWatchPort over @aws-sdk/client-cloudwatch: metric and composite alarms, batched by 100 names. */
import { DescribeAlarmsCommand, type CloudWatchClient, type MetricAlarm } from "@aws-sdk/client-cloudwatch";
import type { Clock } from "../../core/clock.ts";
import { Batcher } from "../batcher.ts";
import type { Alarm, CloudWatchPort } from "../ports.ts";
import { allPages, type Caller } from "./call.ts";

/** A metric alarm's period, or its metric math's shortest (Period is absent for metric math alarms). */
function periodOf(a: MetricAlarm): { period?: number } {
  if (a.Period !== undefined) return { period: a.Period };
  const periods = (a.Metrics ?? []).map((m) => m.MetricStat?.Period ?? m.Period).filter((p): p is number => p !== undefined);
  return periods.length ? { period: Math.min(...periods) } : {};
}

export class SdkCloudWatch implements CloudWatchPort {
  private readonly batcher: Batcher<Alarm>;
  constructor(client: CloudWatchClient, call: Caller, batching: { clock?: Clock; windowMs?: number } = {}) {
    this.batcher = new Batcher<Alarm>({
      ...batching,
      maxBatch: 100,
      fetch: (_region, names) =>
        allPages(
          (NextToken) =>
            call("DescribeAlarms", () => client.send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ["MetricAlarm", "CompositeAlarm"], NextToken }))),
          (p): Alarm[] => [
            ...(p.MetricAlarms ?? []).map(
              (a): Alarm => ({
                alarmName: a.AlarmName ?? "",
                alarmArn: a.AlarmArn ?? "",
                type: "metric",
                stateValue: (a.StateValue ?? "INSUFFICIENT_DATA"),
                stateReason: a.StateReason ?? "",
                stateUpdatedAt: a.StateUpdatedTimestamp?.getTime() ?? 0,
                actionsEnabled: a.ActionsEnabled ?? true,
                ...(a.MetricName ? { metricName: a.MetricName } : {}),
                ...(a.Namespace ? { namespace: a.Namespace } : {}),
                ...periodOf(a),
              }),
            ),
            ...(p.CompositeAlarms ?? []).map(
              (a): Alarm => ({
                alarmName: a.AlarmName ?? "",
                alarmArn: a.AlarmArn ?? "",
                type: "composite",
                stateValue: (a.StateValue ?? "INSUFFICIENT_DATA"),
                stateReason: a.StateReason ?? "",
                stateUpdatedAt: a.StateUpdatedTimestamp?.getTime() ?? 0,
                actionsEnabled: a.ActionsEnabled ?? true,
                ...(a.AlarmRule ? { alarmRule: a.AlarmRule } : {}),
              }),
            ),
          ],
          (p) => p.NextToken,
        ),
      matches: (a, name) => a.alarmName === name,
    });
  }

  describeAlarms(alarmNames: readonly string[]): Promise<Alarm[]> {
    if (alarmNames.length === 0) return Promise.resolve([]);
    // One key: alarms are per account and Region, and one client serves one Region.
    return this.batcher.load("", alarmNames);
  }
}
