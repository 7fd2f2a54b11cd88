/** Run the CLI in-process with captured output. */
import { main } from "../../src/cli/main.ts";
import type { CliIO } from "../../src/cli/io.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd: string = process.cwd()): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    color: false,
    interactive: false,
    env: { ...process.env, ...env },
    cwd,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}
