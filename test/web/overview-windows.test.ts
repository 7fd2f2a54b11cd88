/**
 * The dashboard's overview and sync windows, in Chromium against a `flotilla serve --simulator`
 * process whose configuration has a deny window over dev/: the repository's first commit waits and
 * the overview says so with the window's words; Deploy now, confirmed, releases it (the override
 * recorded with the signed-in token's name), it is processed, and the overview stops listing it.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { DemoWorld } from "../../src/cli/demo-dashboard.ts";
import { SystemClock } from "../../src/core/clock.ts";
import type { ActivityRecord, WaitingCommitRecord } from "../../src/store/record.ts";
import { dashboardBuilt } from "../../src/server/web.ts";
import { browserSkip, launchChromium, signIn } from "../helpers/browser.ts";

const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/dashboard/", import.meta.url));

describe("the overview's commits held by a sync window, in Chromium", { skip: browserSkip(), timeout: 600_000 }, () => {
  let world: DemoWorld;
  let browser: Browser;
  let page: Page;

  before(async () => {
    assert.ok(dashboardBuilt(), "the dashboard is built (npm run build:web)");
    mkdirSync(ARTIFACTS, { recursive: true });
    // Every day from midnight for 25 hours: always open.
    const freeze = { name: "dev-freeze", kind: "deny", schedule: "0 0 * * *", duration: "25h", objects: ["dev/"] };
    world = await DemoWorld.create({ speed: 20, listen: "127.0.0.1:0", folders: ["dev"], pollSeconds: 5, config: { syncWindows: [freeze] } });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "light" })).newPage();
  });
  after(async () => {
    await browser?.close();
    await world?.close();
  });

  it("Given the first commit held by a deny window, Then the overview lists it with the window; When Deploy now is confirmed, Then it is processed with the override by the operator and leaves the list", async () => {
    // A real server in real time: the wall clock, through the one class that reads it.
    const clock = new SystemClock();
    let waiting: WaitingCommitRecord[] = [];
    for (const deadline = clock.now() + 60_000; waiting.length === 0; await clock.sleep(250)) {
      assert.ok(clock.now() < deadline, "the first commit did not wait within a minute");
      waiting = ((await world.api("GET", "/api/v1/waiting-commits")).body as { items: WaitingCommitRecord[] }).items;
    }
    const sha = waiting[0]!.sha;

    await signIn(page, world.url, world.token);
    const item = page.locator("li.waiting-commit");
    await item.getByText(/deny window dev-freeze is open/).waitFor({ timeout: 30_000 });
    assert.match(await item.innerText(), new RegExp(`commit waiting\\s+apps ${sha.slice(0, 7)}`));
    await page.screenshot({ path: path.join(ARTIFACTS, "overview-waiting-commit.png"), fullPage: true });

    await item.getByRole("button", { name: "Deploy now" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("Recorded under your token's name, admin.").waitFor();
    await dialog.getByRole("button", { name: "Deploy now" }).click();
    await page.getByText("Released: it deploys now, recorded as an override.").waitFor({ timeout: 30_000 });

    // The services already run as the commit says: it is processed, nothing needs to start.
    assert.deepEqual(await world.settle(sha), []);
    const activity = ((await world.api("GET", "/api/v1/activity?repository=apps")).body as { items: ActivityRecord[] }).items;
    const override = activity.find((a) => a.type === "window-override");
    assert.deepEqual([override?.sha, override?.data?.["setBy"], override?.data?.["source"]], [sha, "admin", "api"]);
    await item.waitFor({ state: "detached", timeout: 30_000 });
  });
});
