// core/pki pulls in @peculiar/x509, the slowest module to load; the emulator needs it only for
// certificate uploads and probes, so it loads on first use to keep start-up fast.
type Pki = typeof import("../../core/pki");

let loading: Promise<Pki> | undefined;

export function loadPki(): Promise<Pki> {
  loading ??= import("../../core/pki/index.js");
  return loading;
}
