// V8 flags for `flotilla serve`, a process that runs for weeks. V8 sizes its young generation
// from the machine's memory: on a 24 GiB machine it grows to 128 MiB under a controller's load,
// most of the controller's resident memory (its live heap is a few KiB per tracked service).
// Capped at 16 MiB semi-spaces, garbage is collected a little more often and the process stays
// small (README, "Performance"). Set the flag yourself (NODE_OPTIONS) to choose another size.
export const SERVE_V8_FLAGS = ["--max-semi-space-size=16"];

/** The flags `flotilla ARGS` should add: none unless it serves and the size was not chosen already. */
export function v8FlagsFor(args, execArgv = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? "") {
  if (args[0] !== "serve") return [];
  const chosen = [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => a.startsWith("--max-semi-space-size"));
  return chosen ? [] : SERVE_V8_FLAGS;
}
