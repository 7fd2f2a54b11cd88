/** CloudWatch alarm operations on the wire (JSON with query compatibility, or awsQuery). */
import type { AlarmState } from "../../aws/ports.ts";
import type { AlarmFilter } from "../alarms.ts";
import type { Simulator } from "../simulator.ts";
import { page, Reader, type Handler, type Rec } from "./operation.ts";

const read = (sim: Simulator, operation: string, input: Rec) => new Reader(sim, "CloudWatch", operation, input, "InvalidParameterValue");

const STATES = new Set(["OK", "ALARM", "INSUFFICIENT_DATA"]);
const TYPES = new Set(["MetricAlarm", "CompositeAlarm"]);

export const CLOUDWATCH_OPERATIONS: Record<string, Handler> = {
  async DescribeAlarms(sim, input) {
    const r = read(sim, "DescribeAlarms", input);
    const names = r.strings("AlarmNames", 100);
    const prefix = r.str("AlarmNamePrefix");
    if (names?.length && prefix !== undefined) throw sim.error("CloudWatch", "DescribeAlarms", "InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be given together.");
    const types = r.strings("AlarmTypes");
    if (types?.some((t) => !TYPES.has(t))) throw r.fail("AlarmTypes must be MetricAlarm or CompositeAlarm.");
    const state = r.str("StateValue");
    if (state !== undefined && !STATES.has(state)) throw r.fail("StateValue must be one of OK, ALARM, INSUFFICIENT_DATA.");
    const filter: AlarmFilter = {
      ...(names?.length ? { names } : {}),
      ...(prefix !== undefined ? { prefix } : {}),
      ...(types ? { types: types as AlarmFilter["types"] } : {}),
      ...(state !== undefined ? { state: state as AlarmState } : {}),
    };
    const found = await sim.world().cloudwatch.describeAlarms(filter);
    // One page spans both lists, metric alarms first.
    const all = [...found.metric.map((a) => ({ metric: a })), ...found.composite.map((a) => ({ composite: a }))];
    const p = page(all, input, { items: "items", tokenIn: "NextToken", tokenOut: "NextToken", size: "MaxRecords", defaultSize: 50, maxSize: 100 }, (m) => sim.error("CloudWatch", "DescribeAlarms", "InvalidNextToken", m));
    const items = p["items"] as { metric?: Rec; composite?: Rec }[];
    return {
      MetricAlarms: items.flatMap((i) => (i.metric ? [i.metric] : [])),
      CompositeAlarms: items.flatMap((i) => (i.composite ? [i.composite] : [])),
      ...(p["NextToken"] !== undefined ? { NextToken: p["NextToken"] } : {}),
    };
  },
  async PutMetricAlarm(sim, input) {
    await sim.world().cloudwatch.putMetricAlarm(input);
    return undefined;
  },
  async PutCompositeAlarm(sim, input) {
    await sim.world().cloudwatch.putCompositeAlarm(input);
    return undefined;
  },
  async SetAlarmState(sim, input) {
    await sim.world().cloudwatch.setAlarmState(input);
    return undefined;
  },
  async DeleteAlarms(sim, input) {
    const names = read(sim, "DeleteAlarms", input).strings("AlarmNames", 100);
    if (!names?.length) throw sim.error("CloudWatch", "DeleteAlarms", "MissingParameter", "The parameter AlarmNames is required.");
    await sim.world().cloudwatch.deleteAlarms(names);
    return undefined;
  },
};
