/** `flotilla sim serve` as a real process on a free port, for tests that talk to it over the wire. */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));

export interface SimServeProcess {
  url: string;
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** SIGTERM (or the signal given) and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Environment for an AWS SDK process that should talk to this server. */
  awsEnv(caller?: string): NodeJS.ProcessEnv;
}

const running = new Set<ChildProcess>();

/** Kill every server a test started and did not stop (call from `after`, so a failed test leaves none behind). */
export function killSimServes(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  running.clear();
}

export async function startSimServe(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<SimServeProcess> {
  const child = spawn(process.execPath, [BIN, "sim", "serve", "--listen", "127.0.0.1:0", ...args], {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sim serve did not start: ${stderr}`)), 30_000);
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sim serve exited (${code}) before listening: ${stderr}`));
    });
  });
  return {
    url,
    child,
    output: () => ({ stdout, stderr }),
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    awsEnv: (caller = "test") => ({
      AWS_ENDPOINT_URL: url,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: caller,
      AWS_SECRET_ACCESS_KEY: "simulator",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    }),
  };
}
