/**
 * `flotilla promote|abort|pause|resume OBJECT`: operator controls for the running deployment of an
 * object. They are written to the store, where the process running the deployment (an `apply`, or
 * the controller) picks them up within seconds; the CLI never races it by calling AWS itself.
 * With a server configured (`--server` or `FLOTILLA_SERVER`), they go through its API instead,
 * recorded with the token's name.
 */
import { FlotillaError } from "../core/problems.ts";
import type { ControlAction } from "../store/types.ts";
import { ApiClient, SERVER_OPTION, serverUrl } from "./api-client.ts";
import { EXIT, type CliIO, operatorName } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { addStoreOptions, chosenStore, withStore } from "./context.ts";
import { printJson } from "./output.ts";

const HELP: Record<ControlAction, string> = {
  promote: "skip the remaining waits (and bake) of the object's running deployment",
  abort: "roll the object's running deployment back now",
  pause: "hold a blue/green deployment at its current weight (alarms are still watched)",
  resume: "continue a paused deployment",
};

export const register: RegisterCommand = (program, io, run) => {
  for (const action of Object.keys(HELP) as ControlAction[]) {
    addStoreOptions(program.command(action).description(HELP[action]).argument("<object>", "the deployment object (path prefix)"))
      .option(...SERVER_OPTION)
      .option("-o, --output <format>", "text or json", "text")
      .action((object: string, flags: { store?: string; rehearsal?: boolean; server?: string; output: string }) =>
        run(() => (serverUrl(io, flags.server) ? controlViaApi(io, action, object, flags) : control(io, action, object, flags))),
      );
  }
};

/** The object's name without a definition file suffix (a path to `web_svcdef.json` names `web`). */
function objectName(object: string): string {
  return object.replace(/_(svcdef|taskdef|depdef|input)\.json$/, "");
}

async function controlViaApi(io: CliIO, action: ControlAction, object: string, flags: { server?: string; output: string }): Promise<number> {
  const client = ApiClient.from(io, flags.server);
  const name = objectName(object);
  const [running] = (await client.listDeployments({ object: name, status: "active", limit: 1 })).items;
  if (!running) {
    throw new FlotillaError({ code: "FLT-STORE-NOT-FOUND", message: `${name} has no deployment in progress on ${client.base}`, hint: "`flotilla deployment list --active` shows the deployments in progress" });
  }
  const c = await client.control(running.id, action);
  if (flags.output === "json") printJson(io, { control: c.id, action, deployment: running.id, object: running.object, requestedBy: c.requestedBy });
  else io.out(`${action} requested for deployment ${running.id} of ${running.object} (${running.phase}${running.trafficWeight !== null ? `, ${running.trafficWeight}% on green` : ""}) by ${c.requestedBy}; the running deployment picks it up within seconds\n`);
  return EXIT.ok;
}

async function control(io: CliIO, action: ControlAction, object: string, flags: { store?: string; rehearsal?: boolean; output: string }): Promise<number> {
  return withStore(io, chosenStore(flags), async (store) => {
    const name = objectName(object);
    const [running] = (await store.listDeployments({ object: name, active: true, limit: 1 })).items;
    if (!running) {
      throw new FlotillaError({ code: "FLT-STORE-NOT-FOUND", message: `${name} has no deployment in progress`, hint: "`flotilla status` shows the latest deployment of every object" });
    }
    const by = operatorName(io);
    const c = await store.requestControl(running.id, action, by);
    if (flags.output === "json") printJson(io, { control: c.id, action, deployment: running.id, object: name, requestedBy: by });
    else io.out(`${action} requested for deployment ${running.id} of ${name} (${running.phase}${running.trafficWeight !== null ? `, ${running.trafficWeight}% on green` : ""}); the running deployment picks it up within seconds\n`);
    return EXIT.ok;
  });
}
