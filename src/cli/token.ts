/**
 * `flotilla token create|list|rotate|revoke`: API tokens for `flotilla serve`, written to the server's
 * store (the same `--store` it runs with). A token is shown once, at creation or rotation; the store
 * keeps only its hash.
 */
import { FlotillaError, isFlotillaError } from "../core/problems.ts";
import type { Store } from "../store/store.ts";
import { EXIT, paint, type CliIO } from "./io.ts";
import type { RegisterCommand } from "./main.ts";
import { withStore } from "./context.ts";
import { printJson } from "./output.ts";

const STORE_OPTION = ["--store <location>", "the server's store: SQLite path or postgres:// URL (default: FLOTILLA_STORE, else .flotilla/flotilla.db)"] as const;

export const register: RegisterCommand = (program, io, run) => {
  const token = program.command("token").description("API tokens for flotilla serve (stored hashed)");
  token
    .command("create")
    .description("create a token and print it once")
    .argument("<name>", "who or what uses it (recorded on every change it makes)")
    .option("--role <role>", "read-only or operator", "read-only")
    .option(...STORE_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((name: string, flags: { role: string; store?: string; output: string }) => run(() => withStore(io, flags.store, (s) => create(io, s, name, flags))));
  token
    .command("list")
    .description("token names, roles and when they were last used (never the tokens)")
    .option(...STORE_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((flags: { store?: string; output: string }) => run(() => withStore(io, flags.store, (s) => list(io, s, flags.output))));
  token
    .command("rotate")
    .description("give a token a new value and print it once; the old value stops working at once")
    .argument("<name>", "the token's name (its role stays)")
    .option(...STORE_OPTION)
    .option("-o, --output <format>", "text or json", "text")
    .action((name: string, flags: { store?: string; output: string }) => run(() => withStore(io, flags.store, (s) => rotate(io, s, name, flags.output))));
  token
    .command("revoke")
    .description("revoke a token by name")
    .argument("<name>", "the token's name")
    .option(...STORE_OPTION)
    .action((name: string, flags: { store?: string }) => run(() => withStore(io, flags.store, (s) => revoke(io, s, name))));
};


async function create(io: CliIO, store: Store, name: string, flags: { role: string; output: string }): Promise<number> {
  if (flags.role !== "read-only" && flags.role !== "operator") throw new FlotillaError({ code: "FLT-CLI-USAGE", message: `--role must be read-only or operator, not ${flags.role}` });
  const { token, record } = await store.createToken(name, flags.role);
  if (flags.output === "json") printJson(io, { name: record.name, role: record.role, token });
  else io.out(`${token}\n${paint(io, "dim", `token ${record.name} (${record.role}); it is shown only now — give it to its user as FLOTILLA_TOKEN`)}\n`);
  return EXIT.ok;
}

async function list(io: CliIO, store: Store, output: string): Promise<number> {
  const tokens = await store.listTokens();
  if (output === "json") printJson(io, { tokens: tokens.map((t) => ({ name: t.name, role: t.role, createdAt: new Date(t.createdAt).toISOString(), lastUsedAt: t.lastUsedAt ? new Date(t.lastUsedAt).toISOString() : null })) });
  else if (tokens.length === 0) io.out("no tokens\n");
  else for (const t of tokens) io.out(`${t.name.padEnd(24)} ${t.role.padEnd(10)} ${t.lastUsedAt ? `last used ${new Date(t.lastUsedAt).toISOString()}` : "never used"}\n`);
  return EXIT.ok;
}

async function rotate(io: CliIO, store: Store, name: string, output: string): Promise<number> {
  const { token, record } = await store.rotateToken(name).catch((e: unknown) => {
    if (isFlotillaError(e) && e.code === "FLT-STORE-NOT-FOUND") throw new FlotillaError({ code: "FLT-STORE-NOT-FOUND", message: `no token named ${name}`, hint: "`flotilla token list` shows the names" });
    throw e;
  });
  if (output === "json") printJson(io, { name: record.name, role: record.role, token });
  else io.out(`${token}\n${paint(io, "dim", `token ${record.name} (${record.role}) rotated; the old value no longer works. It is shown only now.${name === "admin" ? " The admin token is set again from FLOTILLA_ADMIN_TOKEN at the server's next start." : ""}`)}\n`);
  return EXIT.ok;
}

async function revoke(io: CliIO, store: Store, name: string): Promise<number> {
  if (!(await store.revokeToken(name))) throw new FlotillaError({ code: "FLT-STORE-NOT-FOUND", message: `no token named ${name}`, hint: "`flotilla token list` shows the names" });
  io.out(`token ${name} revoked\n`);
  return EXIT.ok;
}
