// byom build step (Node.js, never served): boot Pyodide once, import the byom core into it, and
// write a memory snapshot that pages restore instead of booting Python themselves.
//
// The snapshot must be the same bytes for the same inputs on any machine (the build is
// reproducible). What would differ is fixed here, for this process only:
//  * entropy: a fixed byte stream (the snapshot then holds fixed seeds — pages reseed `random`
//    after restoring, and os.urandom/uuid4 still ask the browser's crypto at every call);
//  * the clock: one fixed instant;
//  * paths: the script comes from stdin and Node's argv is emptied, so no path of this machine
//    reaches Python's memory.
// Inputs come from the environment: BYOM_SNAP_PYODIDE (folder with pyodide.js), BYOM_SNAP_ZIP
// (the site's Python zip), BYOM_SNAP_IMPORTS (JSON list of modules), BYOM_SNAP_OUT (output).
"use strict";
let seed = 0x2545f491;
function fill(array) {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  for (let i = 0; i < bytes.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    bytes[i] = seed >>> 24;
  }
  return array;
}
require("crypto").randomFillSync = fill;
Object.defineProperty(globalThis, "crypto", {
  value: { getRandomValues: fill, subtle: {} },
  configurable: true,
});
Date.now = function () { return 1700000000000; };
performance.now = function () { return 1000; };

const fs = require("fs");
const env = process.env;
process.argv.length = 1;
const { loadPyodide } = require(env.BYOM_SNAP_PYODIDE + "/pyodide.js");

(async function () {
  const quiet = function () {};
  const pyodide = await loadPyodide({
    indexURL: env.BYOM_SNAP_PYODIDE + "/",
    env: { PYTHONHASHSEED: "0" },
    _makeSnapshot: true,
    stdout: quiet,
    stderr: quiet,
  });
  pyodide.unpackArchive(new Uint8Array(fs.readFileSync(env.BYOM_SNAP_ZIP)), "zip", { extractDir: "/byom_site" });
  // A JSON list of module names is also a Python list literal.
  pyodide.runPython(
    "import gc, importlib, sys\n" +
      "sys.path.insert(0, '/byom_site')\n" +
      "sys.dont_write_bytecode = True\n" +
      "for _name in " + JSON.stringify(JSON.parse(env.BYOM_SNAP_IMPORTS)) + ":\n" +
      "    importlib.import_module(_name)\n" +
      "del _name\n" +
      "gc.collect()\n"
  );
  fs.writeFileSync(env.BYOM_SNAP_OUT, pyodide.makeMemorySnapshot());
})().catch(function (error) {
  process.stderr.write(String(error && error.stack ? error.stack : error).slice(-2000) + "\n");
  process.exit(1);
});
