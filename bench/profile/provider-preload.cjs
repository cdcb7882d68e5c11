// Loaded with NODE_OPTIONS=--require into the engine's dynamic-provider process, which the engine
// kills when it is done (so --cpu-prof never gets to write). Writes the CPU profile in chunks
// every 250 ms, and how long each package took to load, into BENCH_PROFILE_DIR.
const fs = require("node:fs");
const path = require("node:path");
const dir = process.env.BENCH_PROFILE_DIR;
if (dir && process.argv.some((arg) => arg.includes("dynamic-provider"))) {
  const inspector = require("node:inspector");
  const session = new inspector.Session();
  session.connect();
  let chunk = 0;
  const start = () => session.post("Profiler.enable", () => session.post("Profiler.setSamplingInterval", { interval: 250 }, () => session.post("Profiler.start")));
  start();
  setInterval(() => {
    session.post("Profiler.stop", (error, result) => {
      if (!error) fs.writeFileSync(path.join(dir, `${process.pid}-${String(chunk++).padStart(4, "0")}.cpuprofile`), JSON.stringify(result.profile));
      start();
    });
  }, 250).unref();

  const Module = require("node:module");
  const load = Module._load;
  const lines = [];
  let depth = 0;
  const started = process.hrtime.bigint();
  Module._load = function (request) {
    const t = process.hrtime.bigint();
    depth++;
    try {
      return load.apply(this, arguments);
    } finally {
      depth--;
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (ms >= 3 && depth <= 4 && !request.startsWith("node:")) {
        const at = Number(t - started) / 1e6;
        lines.push(`${at.toFixed(0).padStart(6)} ms  ${"  ".repeat(depth)}${request} ${ms.toFixed(1)} ms`);
        fs.writeFileSync(path.join(dir, `${process.pid}-require.txt`), lines.join("\n") + "\n");
      }
    }
  };
}
