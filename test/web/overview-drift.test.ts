/**
 * The dashboard's drift list, in Chromium, against real processes: `flotilla sim serve` (the AWS
 * endpoint) and `flotilla serve` talking to it through the AWS SDK (AWS_ENDPOINT_URL). A service's
 * desiredCount and its task definition (another database password) are changed by hand with SDK
 * calls to the simulator; a drift check asked for through the API finds it, and the overview lists
 * the object as drifted with the reasons and, opened, the diffs of the service and the task
 * definition — the password masked, neither value anywhere on the page.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as ecs from "@aws-sdk/client-ecs";
import type { Browser, Page } from "playwright-core";
import { dashboardBuilt } from "../../src/server/web.ts";
import type { DriftRecordJson } from "../../src/store/record.ts";
import { browserSkip, launchChromium, signIn } from "../helpers/browser.ts";
import { Fleet } from "../helpers/replicas.ts";
import { killServes, type ServeProcess } from "../helpers/serve.ts";
import { killSimServes } from "../helpers/sim-serve.ts";

const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/dashboard/", import.meta.url));
const GIT_SECRET = "git-s3cret-value-1234";
const HAND_SECRET = "hand-s3cret-value-5678";

/** The web service as Git has it: two tasks, a database password in the task's environment. */
function web(password: string): Record<string, object> {
  const healthCheck = { command: ["CMD-SHELL", "exit 0"], interval: 5, timeout: 2, retries: 1, startPeriod: 0 };
  return {
    "apps/web/web_svcdef.json": { cluster: "apps", serviceName: "web", desiredCount: 2, launchType: "EC2", deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 } },
    "apps/web/web_taskdef.json": { family: "web", containerDefinitions: [{ name: "app", image: "nginx:1", memory: 256, essential: true, healthCheck, environment: [{ name: "DB_PASSWORD", value: password }] }] },
    "apps/web/web_depdef.json": { stabilityCheck: { pollInterval: 1, timeout: 600 } },
  };
}

describe("the overview's drift list, in Chromium, against flotilla serve on flotilla sim serve", { skip: browserSkip(), timeout: 600_000 }, () => {
  let fleet: Fleet;
  let serve: ServeProcess;
  let token: string;
  let browser: Browser;
  let page: Page;

  before(async () => {
    assert.ok(dashboardBuilt(), "the dashboard is built (npm run build:web)");
    mkdirSync(ARTIFACTS, { recursive: true });
    fleet = await Fleet.start({ store: "sqlite", speed: 20, bluegreen: [], rolling: [], ttl: 30, heartbeat: 10 });
    token = (await fleet.store.createToken("admin", "operator")).token;
    fleet.remotes[0]!.push(web(GIT_SECRET), "web");
    await fleet.register();
    serve = await fleet.startReplica("web-1");
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "light" })).newPage();
  });
  after(async () => {
    await browser?.close();
    await fleet?.close().catch(() => undefined);
    killServes();
    killSimServes();
  });

  it("Given web deployed from Git, When its desiredCount and task definition are changed with SDK calls and drift is checked, Then the overview lists it as drifted with its diffs, the password masked", async () => {
    await fleet.until("web deployed", async () => ((await fleet.deployments()).some((d) => d.object === "apps/web/web" && d.phase === "Succeeded") ? true : undefined));

    // By hand, as someone with the console or the CLI would: 5 tasks, and a revision with another password.
    const client = new ecs.ECSClient({ region: "us-east-1", endpoint: fleet.sim.url, credentials: { accessKeyId: "someone", secretAccessKey: "x" } });
    const td = await client.send(new ecs.RegisterTaskDefinitionCommand({ family: "web", containerDefinitions: [{ name: "app", image: "nginx:1", memory: 256, essential: true, environment: [{ name: "DB_PASSWORD", value: HAND_SECRET }] }] }));
    await client.send(new ecs.UpdateServiceCommand({ cluster: "apps", service: "web", desiredCount: 5, taskDefinition: td.taskDefinition!.taskDefinitionArn! }));

    const checked = await fetch(`${serve.url}/api/v1/drift/check`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ repository: "apps0" }) });
    assert.equal(checked.status, 200);
    const body = await checked.text();
    const [d] = (JSON.parse(body) as { items: DriftRecordJson[] }).items;
    assert.equal(d?.status, "drifted", body);
    assert.ok(!body.includes(GIT_SECRET) && !body.includes(HAND_SECRET), "the API's answer is masked");

    await signIn(page, serve.url, token);
    const item = page.locator("li.drifted", { hasText: "apps/web/web" });
    await item.waitFor({ timeout: 30_000 });
    const listed = await item.innerText();
    assert.match(listed, /^drifted\s+apps\/web\/web\s+\(apps0, found/);
    assert.match(listed, /desiredCount/);
    await item.getByText("diff", { exact: true }).click();
    const service = item.locator("figure.diff", { hasText: "Service" });
    const taskDefinition = item.locator("figure.diff", { hasText: "Task definition" });
    assert.match(await service.innerText(), /-\s+"desiredCount": 5,?\n[\s\S]*\+\s+"desiredCount": 2/);
    assert.match(await taskDefinition.innerText(), /DB_PASSWORD/);
    assert.match(await taskDefinition.innerText(), /\*\*\*\*/);
    const everything = await page.content();
    assert.ok(!everything.includes(GIT_SECRET) && !everything.includes(HAND_SECRET), "no password on the page");
    await page.screenshot({ path: path.join(ARTIFACTS, "overview-drift.png"), fullPage: true });
  });
});
