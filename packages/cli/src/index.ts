/**
 * `@capkit/cli` as a library: the exit codes the `capkit` command returns, for scripts that run it. Importing
 * the package never runs the command; the executable is `bin` (./dist/capkit.cjs) only.
 */
export { EXIT } from "./shared/output.js";
