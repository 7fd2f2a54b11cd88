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
  config: ["core"],
  plan: ["core"],
  store: ["core"],
  sim: ["aws", "core"],
  deploy: ["aws", "config", "core", "store"],
  api: ["core", "store"],
  controller: ["api", "aws", "config", "core", "deploy", "plan", "store"],
  server: ["api", "controller", "core", "store"],
  app: ["api", "aws", "config", "controller", "core", "deploy", "plan", "server", "sim", "store"],
  cli: ["api", "app", "aws", "config", "controller", "core", "deploy", "plan", "server", "sim", "store"],
};
const ROOMS = [...Object.keys(LAYERS), "web"];

/** One no-restricted-imports block per room, forbidding every room it may not import. */
const layering = Object.entries(LAYERS).map(([room, allowed]) => ({
  files: [`src/${room}/**/*.ts`],
  rules: {
    "@typescript-eslint/no-restricted-imports": [
      "error",
      { patterns: ROOMS.filter((r) => r !== room && !allowed.includes(r)).map((r) => ({ group: [`**/${r}/**`], message: `src/${room}/ may not import src/${r}/: dependencies point down (docs/architecture.md)` })) },
    ],
  },
}));

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
  { files: ["bin/*.js", "eslint.config.js", "examples/**/*.mjs"], ...tseslint.configs.disableTypeChecked },
);
