#!/usr/bin/env node
// Entry point. In a source checkout it runs the TypeScript directly (Node >= 22.18 strips types);
// an installed package runs the compiled dist/.
import { existsSync } from "node:fs";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `flotilla needs Node.js 22.18 or newer (this is ${process.version}).\n` +
      "In a checkout, run it through npm so the pinned Node 24 is used: `npx flotilla ...` or `npm run flotilla -- ...`.\n",
  );
  process.exit(2);
}
const source = new URL("../src/cli/main.ts", import.meta.url);
const entry = existsSync(source) ? source : new URL("../dist/cli/main.js", import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
