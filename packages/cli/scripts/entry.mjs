#!/usr/bin/env node
// The binary's entry: on Node 22.1+ keep V8's compiled code of the bundle between runs (a no-op on Node 20,
// which has no module.enableCompileCache), then load the program, which is therefore a separate chunk.
import module from "node:module";

module.enableCompileCache?.();
await import("../src/main.ts");
