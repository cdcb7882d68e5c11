// Loaded with NODE_OPTIONS=--require into every process the engine starts; in the dynamic-provider
// process it records the process's own CPU time into BENCH_PROVIDER_CPU_DIR, every 50 ms and at
// exit (the engine may kill the process, so the last tick is what remains: at most 50 ms stale,
// when the provider is idle anyway).
const dir = process.env.BENCH_PROVIDER_CPU_DIR;
if (dir && process.argv.some((arg) => arg.includes("dynamic-provider"))) {
  const fs = require("node:fs");
  const file = require("node:path").join(dir, `${process.pid}.json`);
  const record = () => {
    try {
      fs.writeFileSync(file, JSON.stringify(process.cpuUsage()));
    } catch {
      // The bench removed the directory between operations: nothing left to record for.
    }
  };
  setInterval(record, 50).unref();
  process.on("exit", record);
}
