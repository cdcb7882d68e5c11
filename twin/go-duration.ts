/**
 * Go durations, which the proxy (`shutdown_timeout`), the setup component (`--renew-before`,
 * `--cert-duration`) and Compose (`stop_grace_period`) all read with Go's time.ParseDuration.
 */
const DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds, with its error texts. */
export function parseGoDuration(input: string): number {
  const invalid = () => new Error(`time: invalid duration "${input}"`);
  let rest = input;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw invalid();
  let total = 0;
  while (rest !== "") {
    const number = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (number[0] === "" || number[0] === ".") throw invalid();
    rest = rest.slice(number[0].length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (unit === "") throw new Error(`time: missing unit in duration "${input}"`);
    const scale = DURATION_UNITS_MS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit "${unit}" in duration "${input}"`);
    rest = rest.slice(unit.length);
    total += Number(`${number[1] || "0"}.${number[2] || "0"}`) * scale;
  }
  return sign * total;
}
