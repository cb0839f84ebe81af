#!/usr/bin/env node
// The `tern` command (package.json "bin"): `npx tern --name … --data-dir …` runs a
// member like `etcd --name … --data-dir …`, from the compiled build/ (see launch.mjs).
import { launch } from './launch.mjs';

await launch('net/bin/tern', process.argv.slice(2));
