/**
 * What a command needs from its surroundings: where results and logs go, and whether to colour.
 * Results go to stdout, logs and progress to stderr; colour only on a TTY (and never with NO_COLOR).
 */
import os from "node:os";
import { styleText } from "node:util";
import { FlotillaError } from "../core/problems.ts";
import type { GithubChannel } from "./github.ts";

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Colour text for stdout when stdout is a TTY. */
  color: boolean;
  /** True when stderr is a terminal, so live progress may redraw lines. */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Set under `--output github`: our own workflow commands, written past the line neutraliser (github.ts). */
  github?: GithubChannel;
}

export function processIO(): CliIO {
  const tty = Boolean(process.stdout.isTTY) && !process.env["NO_COLOR"] && process.env["TERM"] !== "dumb";
  return {
    out: quietWhenClosed(process.stdout),
    err: quietWhenClosed(process.stderr),
    color: tty,
    interactive: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

/**
 * A reader that stops early (`flotilla status | head -1`) closes the pipe: the rest of the output is
 * dropped quietly and the command ends as it would have, instead of dying on an EPIPE trace.
 */
function quietWhenClosed(stream: NodeJS.WriteStream): (text: string) => void {
  let closed = false;
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE" && e.code !== "ERR_STREAM_DESTROYED") throw e;
    closed = true;
  });
  return (text) => {
    if (!closed) stream.write(text);
  };
}

type Style = Parameters<typeof styleText>[0];
export function paint(io: CliIO, style: Style, text: string): string {
  return io.color ? styleText(style, text, { validateStream: false }) : text;
}

/** Exit codes, documented in docs/cli.md. */
export const EXIT = {
  ok: 0,
  /** Validation errors, or a deployment that failed / rolled back. */
  failed: 1,
  /** Wrong usage or an environment problem (not a repository, unknown revision, ...). */
  usage: 2,
  /** Internal error. */
  internal: 3,
} as const;

/** Who is acting, as recorded on controls, overrides and rollbacks: FLOTILLA_USER, else the login name. */
export function operatorName(io: CliIO): string {
  return io.env["FLOTILLA_USER"] ?? io.env["USER"] ?? os.userInfo().username;
}

/** `--listen host:port` (or a bare port on 127.0.0.1); port 0 picks a free one. */
export function parseListen(flag: string): { host: string; port: number } {
  const cut = flag.lastIndexOf(":");
  const [host, portText] = cut >= 0 ? [flag.slice(0, cut).replace(/^\[(.*)\]$/, "$1"), flag.slice(cut + 1)] : ["127.0.0.1", flag];
  const port = Number(portText);
  if (!host || portText === "" || !Number.isInteger(port) || port < 0 || port > 65535) throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `--listen needs host:port, not ${flag}` });
  return { host, port };
}
