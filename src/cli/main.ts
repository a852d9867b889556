#!/usr/bin/env node
/** The `aipm` binary. */
import { hideBin } from "yargs/helpers";
import { runCli } from "./app.js";
import { processIO } from "./io.js";

const code = await runCli(hideBin(process.argv), processIO());
process.exitCode = code;
