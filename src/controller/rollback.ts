/**
 * `rollback OBJECT`: deploy the revision that ran before the current one, as a normal recorded
 * deployment (it has its own record, timeline and stability check).
 */
import { FlotillaError } from "../core/problems.ts";
import type { Runner } from "../deploy/runner.ts";
import type { RollingState } from "../deploy/rolling.ts";
import type { DeploySpec } from "../deploy/spec.ts";
import type { Store } from "../store/store.ts";
import type { Deployment } from "../store/types.ts";

export async function rollbackSpec(store: Store, object: string): Promise<{ spec: DeploySpec; from: Deployment }> {
  const page = await store.listDeployments({ object, phase: "Succeeded", limit: 50 });
  const last = page.items.find((d) => d.strategy === "rolling" && d.oldTaskDefinitionArn && d.newTaskDefinitionArn !== d.oldTaskDefinitionArn);
  if (!last) {
    throw new FlotillaError({ code: "FLT-OBJECT-NOT-FOUND", message: `no successful update of ${object} is recorded, so there is no previous revision to roll back to`, hint: "`flotilla history` lists what is recorded" });
  }
  const spec = (last.machineState as RollingState).spec;
  const target = last.oldTaskDefinitionArn!;
  const { taskdef: _ignored, ...rest } = spec;
  return { spec: { ...rest, svcdef: { ...spec.svcdef, taskDefinition: target } }, from: last };
}

export async function rollbackObject(store: Store, runner: Runner, object: string, requestedBy: string): Promise<Deployment> {
  const { spec, from } = await rollbackSpec(store, object);
  const created = await runner.create(spec, { strategy: "rolling", overrides: [{ name: "rollback", setBy: requestedBy, source: "cli", at: Date.now() }] });
  await store.appendEvents(created.id, [{ type: "RollbackRequested", message: `rollback of ${object} to ${from.oldTaskDefinitionArn} (the revision before deployment ${from.id}) requested by ${requestedBy}` }]);
  return runner.run(created);
}
