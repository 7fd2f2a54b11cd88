// Typed linting: the rules that catch real bugs in async, I/O-heavy code (floating promises above all).
import tseslint from "typescript-eslint";

/**
 * The rooms of src/ and the rooms each may import (docs/architecture.md). Dependencies point one
 * way, down: an import of any other room is a lint error, type-only imports included. The web
 * dashboard has a rule of its own below (types only, of any room).
 */
export const LAYERS = {
  core: [],
  aws: ["core"],
  git: ["core"],
  config: ["core", "git"],
  plan: ["core"],
  store: ["core"],
  sim: ["aws", "core"],
  deploy: ["aws", "config", "core", "store"],
  api: ["core", "store"],
  controller: ["api", "aws", "config", "core", "deploy", "git", "plan", "store"],
  server: ["api", "controller", "core", "store"],
  app: ["api", "aws", "config", "controller", "core", "deploy", "git", "plan", "server", "sim", "store"],
  cli: ["api", "app", "aws", "config", "controller", "core", "deploy", "git", "plan", "server", "sim", "store"],
};
const ROOMS = [...Object.keys(LAYERS), "web"];

/**
 * The only files that start processes: git runs from src/git/run.ts alone, so every git command
 * gets the same argv discipline and environment handling; the dashboard demo starts `flotilla serve`.
 */
export const PROCESS_STARTERS = ["src/git/run.ts", "src/cli/demo-dashboard.ts"];
const childProcess = { group: ["node:child_process", "child_process"], allowTypeImports: true, message: "start git through src/git/run.ts (the one module that runs git)" };

/** The patterns of the rooms a file of `room` may not import. */
const forbidden = (room) =>
  ROOMS.filter((r) => r !== room && !LAYERS[room].includes(r)).map((r) => ({ group: [`**/${r}/**`], message: `src/${room}/ may not import src/${r}/: dependencies point down (docs/architecture.md)` }));

/** One no-restricted-imports block per room, forbidding every room it may not import (and child processes, but in PROCESS_STARTERS). */
const layering = Object.keys(LAYERS).flatMap((room) => {
  const rule = (patterns) => ({ "@typescript-eslint/no-restricted-imports": ["error", { patterns }] });
  const starters = PROCESS_STARTERS.filter((f) => f.startsWith(`src/${room}/`));
  return [
    { files: [`src/${room}/**/*.ts`], ignores: starters, rules: rule([...forbidden(room), childProcess]) },
    ...(starters.length ? [{ files: starters, rules: rule(forbidden(room)) }] : []),
  ];
});

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "src/web/static/"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        // node:test's describe/it return promises that the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["describe", "it", "test", "suite", "before", "after", "beforeEach", "afterEach"] }] },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  ...layering,
  {
    // The dashboard runs in the browser: it may use the server's types, never its code.
    files: ["src/web/**/*.{ts,tsx}"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { patterns: [{ group: ["node:*", ...Object.keys(LAYERS).map((dir) => `**/${dir}/**`)], allowTypeImports: true, message: "the dashboard may import only the types of the server's modules" }] },
      ],
    },
  },
  {
    // Time comes from the injected clock (src/core/clock.ts, DESIGN §4): nothing else reads the wall
    // clock, so tests and rehearsals run in virtual time. The simulator's wire server paces real
    // requests (its real clock is injectable); the dashboard runs in the browser.
    files: ["src/**/*.ts"],
    ignores: ["src/core/clock.ts", "src/sim/wire/server.ts", "src/web/**"],
    rules: {
      "no-restricted-properties": ["error", { object: "Date", property: "now", message: "use the injected Clock's now() (src/core/clock.ts)" }],
      "no-restricted-syntax": ["error", { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: "use new Date(clock.now()) with the injected Clock (src/core/clock.ts)" }],
    },
  },
  { files: ["bin/*.js", "eslint.config.js", "examples/**/*.mjs"], ...tseslint.configs.disableTypeChecked },
);
