/**
 * Chromium for the dashboard's browser tests: playwright-core drives Debian's Chromium (or the one
 * FLOTILLA_CHROMIUM names). Without it the tests fail when CI is set (CI installs it:
 * scripts/install-chromium.sh) and otherwise skip, saying why.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = process.env["FLOTILLA_CHROMIUM"] ?? "/usr/bin/chromium";

/** false when the browser tests can run, else why they are skipped. */
export function browserSkip(): false | string {
  if (existsSync(CHROMIUM)) return false;
  if (process.env["CI"]) throw new Error(`Chromium is not installed at ${CHROMIUM}: the dashboard's browser tests cannot run. CI installs it with scripts/install-chromium.sh (Debian's chromium package).`);
  return `Chromium is not installed at ${CHROMIUM} (apt-get install chromium, or set FLOTILLA_CHROMIUM): the dashboard's browser tests are skipped`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // None of Chromium's own traffic (this machine has no network beyond loopback); playwright gives
    // every launch a fresh, empty profile of its own.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Signs in on the dashboard's form with a token and waits for the overview. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel("API token").waitFor();
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
}
