/**
 * The dashboard in a real browser: playwright-core drives Debian's Chromium against a real
 * `flotilla serve --simulator` process (DemoWorld, the same world `flotilla demo --dashboard` plays
 * in). Given/When/Then, one story: sign in; watch a canary's weight advance live; pause and resume it;
 * abort it and see the traffic return to blue; deploy a commit from its page and promote it; a bad
 * commit shows its problems with file and line; a read-only token sees disabled actions and gets 403
 * on a forced request; sign out. Each view is
 * screenshotted into test-artifacts/dashboard/ (also at a phone's width and in dark mode).
 *
 * Without Chromium the test fails when CI is set (CI installs it: scripts/install-chromium.sh) and
 * otherwise skips, saying why.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { DemoWorld } from "../../src/cli/demo-dashboard.ts";
import type { DeploymentRecord, SampleRecord } from "../../src/store/record.ts";
import { dashboardBuilt } from "../../src/server/web.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { browserSkip, launchChromium } from "../helpers/browser.ts";

// What the functions given to page.evaluate use of the browser (they run there, not in Node).
declare const document: { cookie: string; documentElement: { scrollWidth: number; clientWidth: number }; activeElement: { closest(selector: string): unknown } | null };
declare const window: { stillTheSamePage?: boolean };

const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/dashboard/", import.meta.url));
/** Simulated seconds per real second: fast enough for a test, slow enough for a browser to see each step. */
const SPEED = 20;
const skip = browserSkip();

describe("dashboard in Chromium against flotilla serve --simulator", { skip, timeout: 600_000 }, () => {
  let world: DemoWorld;
  let browser: Browser;
  let operator: BrowserContext;
  let page: Page;
  let readerToken: string;

  before(async () => {
    assert.ok(dashboardBuilt(), "the dashboard is built (npm run build:web)");
    mkdirSync(ARTIFACTS, { recursive: true });
    world = await DemoWorld.create({ speed: SPEED, listen: "127.0.0.1:0", folders: ["dev", "infra"], pollSeconds: 5 });
    // A read-only token, made in the server's store as `flotilla token create` does.
    const store = await openSqliteStore({ path: path.join(world.dir, "flotilla.db") });
    readerToken = (await store.createToken("viewer", "read-only")).token;
    await store.close();
    browser = await launchChromium();
    operator = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "light" });
    page = await operator.newPage();
    await world.settle(await head(world));
  });
  after(async () => {
    await browser?.close();
    await world?.close();
  });

  const shot = async (p: Page, name: string) => {
    await p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  };
  const api = async <T,>(route: string): Promise<T> => (await world.api("GET", route)).body as T;

  it("Given a token, When it is pasted into the sign-in form, Then the overview shows the repository and its last commit", async () => {
    await page.goto(`${world.url}/`);
    await page.getByLabel("API token").waitFor();
    await shot(page, "signin");
    await page.getByLabel("API token").fill(world.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByRole("link", { name: "apps" }).waitFor();
    assert.match(await page.getByText("Signed in as").innerText(), /admin/);
    // The token is nowhere in the browser's storage; the session cookie is httpOnly and strict.
    const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
    assert.ok(!stored.includes(world.token), stored);
    const [cookie] = await operator.cookies();
    assert.equal(cookie?.name, "flotilla_session");
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, "Strict");
    await shot(page, "overview-start");
  });

  it("When a canary deploys, Then its weight advances live on the deployment page, pause and resume hold and release it, and abort sends the traffic back to blue", async () => {
    const depdef = JSON.parse(await world.readFile("dev/web/web_depdef.json")) as Record<string, unknown>;
    // Three steps a few seconds apart (at SPEED), so the page can be seen at each.
    depdef["trafficShiftingConfig"] = { type: "CANARY", percent: 10, waitInterval: 240, steps: [10, 50, 100] };
    const input = JSON.parse(await world.readFile("dev/web/web_input.json")) as Record<string, unknown>;
    const sha = await world.commit("dev/web/web: nginx 1.27.4 in three steps", { "dev/web/web_depdef.json": depdef, "dev/web/web_input.json": { ...input, image: "public.ecr.aws/nginx/nginx:1.27.4" } });
    let d: DeploymentRecord | undefined;
    for (let i = 0; i < 600 && !d; i++) {
      d = (await api<{ items: DeploymentRecord[] }>(`/api/v1/deployments?commit=${sha}`)).items[0];
      if (!d) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(d, "the controller started a deployment of the commit");

    // The overview lists it as active; the link leads to its page.
    await page.goto(`${world.url}/`);
    await page.locator("#active").getByRole("link", { name: "dev/web/web" }).click();
    await page.getByRole("heading", { name: /dev\/web\/web/ }).waitFor();
    assert.match(page.url(), new RegExp(`/deployments/${d.id}$`));
    await page.evaluate(() => (window.stillTheSamePage = true));
    await page.getByText("Live", { exact: true }).waitFor();

    const progress = (text: string) => page.locator("dl.facts .meter-text", { hasText: text });
    await progress("10% on green").waitFor({ timeout: 60_000 });
    await progress("50% on green").waitFor({ timeout: 60_000 });
    assert.equal(await page.evaluate(() => window.stillTheSamePage), true, "the weight moved without reloading the page");
    await page.locator(".chart-pane canvas").first().waitFor();
    await shot(page, "deployment-shifting");

    // With the keyboard: Enter opens an action's confirmation, Escape cancels it, and nothing is sent.
    await page.getByRole("button", { name: "Promote", exact: true }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("dialog").getByText("Promote: skip the remaining waits").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.closest("dialog") !== null), true, "focus moved into the dialog");
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "hidden" });
    assert.deepEqual((await api<{ controls: unknown[] }>(`/api/v1/deployments/${d.id}`)).controls, []);

    // Pause: confirm in the dialog; the deployment says who paused it, and holds at 50%.
    await page.getByRole("button", { name: "Pause", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("Pause: hold traffic at the current weight?").waitFor();
    await dialog.getByRole("button", { name: "Pause" }).click();
    const pausedNote = page.locator("p.note.warn", { hasText: "Paused by admin" });
    await pausedNote.waitFor({ timeout: 30_000 });
    assert.equal((await api<DeploymentRecord>(`/api/v1/deployments/${d.id}`)).trafficWeight, 50);
    await shot(page, "deployment-paused");

    await page.getByRole("button", { name: "Resume", exact: true }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Resume" }).click();
    await pausedNote.waitFor({ state: "detached", timeout: 30_000 });

    // Abort (a dangerous action: its own confirmation), and traffic is back on blue.
    await page.getByRole("button", { name: "Abort", exact: true }).click();
    await page.getByRole("dialog").getByText("Abort: put all traffic back on the old revision now?").waitFor();
    await page.getByRole("dialog").getByRole("button", { name: "Abort" }).click();
    await page.locator(".page-head .badge", { hasText: "Aborted" }).waitFor({ timeout: 60_000 });
    await progress("0% on green").waitFor();
    await page.getByRole("heading", { name: "Why it was aborted" }).waitFor();
    assert.match(await page.locator(".failure-sentence").innerText(), /^Aborted by an operator at \d\d:\d\d:\d\d \(.+ after it began\), with 50% of traffic on green\. Traffic went back to blue\.$/);
    await page.locator("ol.timeline").getByText("RestoringBlue").waitFor();
    await page.locator("ol.markers").getByText("abort by admin").waitFor();
    const samples = (await api<{ items: SampleRecord[] }>(`/api/v1/deployments/${d.id}/samples`)).items;
    const blue = Object.keys(samples.at(-1)!.weights).find((tg) => /dev-web-blue/.test(tg))!;
    assert.equal(samples.at(-1)!.weights[blue], 100, "all traffic is back on blue");
    const blueWeights = samples.map((s) => s.weights[blue]).filter((w, i, all) => w !== undefined && w !== all[i - 1]);
    assert.deepEqual(blueWeights, [100, 90, 50, 100], "blue's weight over time: 100, the canary's 90, 50, then all of it back");
    await page.waitForTimeout(500);
    await shot(page, "deployment");

    // The same page at a phone's width and in dark mode.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: "dark", storageState: await operator.storageState() });
    const small = await phone.newPage();
    await small.goto(page.url());
    await small.getByRole("heading", { name: "Why it was aborted" }).waitFor();
    await small.locator(".chart-pane canvas").first().waitFor();
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `the page fits a phone's width (overflows by ${overflow}px)`);
    await shot(small, "deployment-phone-dark");
    await phone.close();

    // The object's page: its revisions and deployments, and who started each.
    await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "dev/web/web" }).click();
    await page.getByRole("heading", { name: "Revisions" }).waitFor();
    await page.locator("#deployments").getByText(`commit ${sha.slice(0, 7)}`).waitFor();
    // The abort left the old image running while Git has the new one: the plan shows the difference.
    const plan = page.locator("#plan");
    await plan.getByText("Live differs from Git").waitFor({ timeout: 30_000 });
    await plan.locator(".diff-del", { hasText: "nginx:1.27.3" }).waitFor();
    await plan.locator(".diff-add", { hasText: "nginx:1.27.4" }).waitFor();
    await shot(page, "object");

    // Back on the overview, the aborted deployment needs attention.
    await page.getByRole("link", { name: "Overview" }).first().click();
    await page.locator("#attention").getByRole("link", { name: "dev/web/web" }).waitFor();
    await page.locator("#recent").getByText("Aborted").first().waitFor();
    await shot(page, "overview");
  });

  it("When the operator deploys the aborted commit again from its page and promotes it, Then the deployment names who deployed it and finishes with all traffic on green", async () => {
    const [aborted] = (await api<{ items: DeploymentRecord[] }>("/api/v1/deployments?object=dev/web/web&limit=1")).items;
    assert.equal(aborted!.phase, "Aborted");
    await page.goto(`${world.url}/repositories/apps/commits/${aborted!.commitSha}`);
    await page.getByRole("button", { name: "Deploy this commit" }).click();
    const dialog = page.getByRole("dialog");
    // It is the last processed commit: deploying it again needs force (every object of it deploys).
    await dialog.getByLabel(/Force: deploy every object/).check();
    await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
    await page.getByText(/Queued \(position \d+\)/).waitFor({ timeout: 30_000 });
    const again = page.locator("#deployments li", { hasText: "deployed by admin" }).filter({ hasText: "dev/web/web" });
    await again.waitFor({ timeout: 30_000 });
    await again.getByRole("link", { name: "dev/web/web" }).click();
    await page.getByText("commit " + aborted!.commitSha!.slice(0, 7) + ", deployed by admin").waitFor();
    await page.locator("dl.facts .meter-text", { hasText: "10% on green" }).waitFor({ timeout: 60_000 });
    await page.getByRole("button", { name: "Promote", exact: true }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Promote" }).click();
    await page.locator(".page-head .badge", { hasText: "Succeeded" }).waitFor({ timeout: 60_000 });
    await page.locator("dl.facts .meter-text", { hasText: "100% on green" }).waitFor();
    await page.locator("ol.markers").getByText("promote by admin").waitFor();
  });

  it("When a commit has a typo, Then the overview flags it and its page lists the problem with its code, file and line", async () => {
    const depdef = await world.readFile("dev/web/web_depdef.json");
    const input = JSON.parse(await world.readFile("dev/web/web_input.json")) as Record<string, unknown>;
    // A new image (so the object deploys) with a typo in its deployment definition.
    const sha = await world.commit("dev/web/web: nginx 1.27.5, a typo", {
      "dev/web/web_input.json": { ...input, image: "public.ecr.aws/nginx/nginx:1.27.5" },
      "dev/web/web_depdef.json": depdef.replace('"trafficShiftingConfig"', '"trafficShifingConfig"'),
    });
    assert.deepEqual(await world.settle(sha), [], "nothing of an invalid object deploys");
    await page.goto(`${world.url}/`);
    await page.locator("#attention").getByText("invalid commit").waitFor();
    await page.locator("#repositories").getByText("invalid: 1 error").waitFor();
    await shot(page, "overview-attention");
    await page.locator("#repositories").getByRole("link", { name: "apps" }).click();
    await page.getByRole("heading", { name: "Commits" }).waitFor();
    const row = page.getByRole("row", { name: /a typo/ });
    await row.getByText("invalid: 1 error").waitFor();
    await shot(page, "repository");
    await row.getByRole("link").first().click();
    const problems = page.locator("#problems");
    await problems.getByText("FLT-CONFIG-UNKNOWN-KEY").waitFor();
    const line = depdef.split("\n").findIndex((l) => l.includes('"trafficShiftingConfig"')) + 1;
    await problems.getByText(new RegExp(`^dev/web/web_depdef\\.json:${line}(:\\d+)?$`)).waitFor();
    await problems.getByText(/did you mean "trafficShiftingConfig"/).waitFor();
    await page.locator("dl.facts").getByText("invalid: 1 error").waitFor();
    await page.locator("dl.facts").getByText("dev/web/web: nginx 1.27.5, a typo").waitFor();
    await page.locator("dl.facts").getByText("Flotilla Demo <demo@flotilla.invalid>").waitFor();
    await page.locator("#outcomes").getByText("invalid").first().waitFor();
    await shot(page, "commit");
  });

  it("Given a read-only token, Then every action is disabled with the reason, and a forced request is refused with 403", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const viewer = await context.newPage();
    await viewer.goto(`${world.url}/`);
    await viewer.getByLabel("API token").fill(readerToken);
    await viewer.keyboard.press("Enter");
    await viewer.getByRole("heading", { name: "Overview" }).waitFor();
    const [latest] = (await api<{ items: DeploymentRecord[] }>("/api/v1/deployments?object=dev/web/web&limit=1")).items;
    await viewer.goto(`${world.url}/deployments/${latest!.id}`);
    for (const name of ["Pause", "Resume", "Promote", "Abort", "Roll back"]) {
      const button = viewer.getByRole("button", { name, exact: true });
      assert.equal(await button.isDisabled(), true, `${name} is disabled`);
      assert.match(await viewer.locator(`#${await button.getAttribute("aria-describedby")}`).innerText(), /Needs an operator token: viewer is read-only/);
    }
    await shot(viewer, "deployment-read-only");
    // Forcing it from the page, with the session's valid CSRF token: the server says no.
    const forced = await viewer.evaluate(async (id) => {
      const session = (await (await fetch("/api/v1/session")).json()) as { csrfToken: string };
      const res = await fetch(`/api/v1/deployments/${id}/abort`, { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": session.csrfToken }, body: "{}" });
      return { status: res.status, body: (await res.json()) as { code: string } };
    }, latest!.id);
    assert.deepEqual(forced, { status: 403, body: forced.body });
    assert.equal(forced.body.code, "FLT-API-FORBIDDEN");
    await context.close();
  });

  it("When the operator signs out, Then the session is gone: the sign-in form returns and the API answers 401", async () => {
    await page.goto(`${world.url}/`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API token").waitFor();
    await page.getByText("You are signed out.").waitFor();
    assert.deepEqual(await operator.cookies(), []);
    await page.reload();
    await page.getByLabel("API token").waitFor();
    assert.equal(await page.evaluate(async () => (await fetch("/api/v1/deployments")).status), 401);
  });
});

async function head(world: DemoWorld): Promise<string> {
  const { execFileSync } = await import("node:child_process");
  return execFileSync("git", ["rev-parse", "HEAD"], { cwd: world.repo, encoding: "utf8" }).trim();
}
