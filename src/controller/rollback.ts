/**
 * `rollback OBJECT`: deploy the revision that ran before the object's last successful update, as a
 * normal recorded deployment (its own record, timeline and stability check) with the strategy the
 * object uses: a rolling update, a blue/green deployment with the object's depdef (traffic
 * shifting, alarms and bake as for any other blue/green deployment), or an ECS-managed deployment
 * of the old revision with the svcdef's strategy.
 */
import type { Clock } from "../core/clock.ts";
import { FlotillaError } from "../core/problems.ts";
import type { MachineState, Runner } from "../deploy/runner.ts";
import type { DeploySpec } from "../deploy/spec.ts";
import type { Store } from "../store/store.ts";
import type { Deployment } from "../store/types.ts";

export interface RollbackPlan {
  spec: DeploySpec;
  strategy: "rolling" | "bluegreen" | "ecs-managed";
  /** The successful update being undone. */
  from: Deployment;
  /** The revision deployed again. */
  target: string;
}

export async function rollbackSpec(store: Store, object: string): Promise<RollbackPlan> {
  const page = await store.listDeployments({ object, phase: "Succeeded", limit: 50 });
  // Rainbow versions are never updated in place (they are cut over): only these strategies roll back.
  const last = page.items.find((d): d is typeof d & { strategy: "rolling" | "bluegreen" | "ecs-managed" } => (d.strategy === "rolling" || d.strategy === "bluegreen" || d.strategy === "ecs-managed") && Boolean(d.oldTaskDefinitionArn) && d.newTaskDefinitionArn !== d.oldTaskDefinitionArn);
  if (!last) {
    const latest = await store.latestDeployment(object);
    const rainbow = latest && (latest.strategy === "rainbow" || latest.strategy === "cutover" || latest.strategy === "cleanup");
    throw new FlotillaError({
      code: "FLT-OBJECT-NOT-FOUND",
      message: rainbow ? `${object} deploys rainbow versions, which are never changed in place: there is no previous revision to roll back to` : `no successful update of ${object} is recorded, so there is no previous revision to roll back to`,
      hint: rainbow ? "cut back to the version that ran before: flotilla cutover OBJECT VERSION" : "`flotilla history` lists what is recorded",
    });
  }
  const spec = (last.machineState as MachineState).spec;
  // The object's current deployment settings: those of its newest recorded deployment.
  const latest = await store.latestDeployment(object, last.repository);
  const depdef = (latest?.machineState as MachineState | undefined)?.spec?.depdef ?? spec.depdef;
  const target = last.oldTaskDefinitionArn!;
  const { taskdef: _registeredAgain, ...rest } = spec;
  return { spec: { ...rest, depdef, svcdef: { ...spec.svcdef, taskDefinition: target } }, strategy: last.strategy, from: last, target };
}

export async function rollbackObject(store: Store, runner: Runner, object: string, requestedBy: string, clock: Clock): Promise<Deployment> {
  const { spec, strategy, from, target } = await rollbackSpec(store, object);
  const created = await runner.create(spec, { strategy, overrides: [{ name: "rollback", setBy: requestedBy, source: "cli", at: clock.now() }] });
  await store.appendEvents(created.id, [{ type: "RollbackRequested", message: `rollback of ${object} to ${target} (the revision before deployment ${from.id}) requested by ${requestedBy}` }]);
  return runner.run(created);
}
