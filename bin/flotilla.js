#!/usr/bin/env node
// Entry point. In a source checkout it runs the TypeScript directly (Node >= 22.18 strips types);
// an installed package runs the compiled dist/. On an older Node (20, or 22 before 22.18) it runs
// itself again on the Node 24 that the package depends on (the `node` package), so `flotilla`
// works whatever Node the machine has (README, "Runtime").
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { v8FlagsFor } from "./v8-flags.js";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const pinned = pinnedNode();
  if (!pinned) {
    process.stderr.write(
      `flotilla needs Node.js 22.18 or newer (this is ${process.version}), and its pinned Node 24 (the \`node\` package) is not installed.\n` +
        "Install Flotilla again with install scripts enabled (the `node` package downloads its binary from the registry at install), or run it on Node 22.18 or newer.\n",
    );
    process.exit(2);
  }
  const child = spawn(pinned, [...v8FlagsFor(process.argv.slice(2), [], ""), fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  // Ctrl-C and a closed terminal reach the child directly (same process group): wait for it to
  // stop. SIGTERM is usually sent to this process alone (kill PID, a service manager): pass it on.
  for (const signal of ["SIGINT", "SIGHUP"]) process.on(signal, () => undefined);
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.on("error", (e) => {
    process.stderr.write(`flotilla: cannot start the pinned Node at ${pinned}: ${e.message}\n`);
    process.exit(2);
  });
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else if (v8FlagsFor(process.argv.slice(2)).length > 0 && typeof process.execve === "function") {
  // `serve` runs with its V8 flags (v8-flags.js): the same process, started again with them.
  const flags = v8FlagsFor(process.argv.slice(2));
  process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], process.env);
} else {
  const source = new URL("../src/cli/main.ts", import.meta.url);
  const entry = existsSync(source) ? source : new URL("../dist/cli/main.js", import.meta.url);
  const { main } = await import(entry.href);
  process.exitCode = await main(process.argv.slice(2));
}

/** The `node` package's binary, once its install script has put it there (before, bin/node is a small script). */
function pinnedNode() {
  try {
    const dir = path.dirname(createRequire(import.meta.url).resolve("node/package.json"));
    const bin = path.join(dir, "bin", process.platform === "win32" ? "node.exe" : "node");
    return existsSync(bin) && statSync(bin).size > 1_000_000 ? bin : undefined;
  } catch {
    return undefined;
  }
}
