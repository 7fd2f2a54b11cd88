/** Types of v8-flags.js, for the benchmarks and tests written in TypeScript. */
export declare const SERVE_V8_FLAGS: readonly string[];
export declare function v8FlagsFor(args: readonly string[], execArgv?: readonly string[], nodeOptions?: string): readonly string[];
