// The trainer's wasm may not be there yet: tools/serve.sh serves the calculator as soon as its small wasm is built
// and builds the trainer (burn compiled to WebAssembly: 30-45 minutes on a cold 2-core machine) in the background.
// Until it lands the page says so, what it waits for and where the build log is, and checks again every few seconds;
// then the page goes on by itself, without a restart of anything.
const GLUE = new URL('../pkg-train/lora_playground.js', import.meta.url);
const EVERY_MS = 5000;

// A GET, not a HEAD: the offline copy (sw.js) answers GETs when the network is gone.
async function built() {
  try {
    return (await fetch(GLUE, { cache: 'no-store' })).ok;
  } catch {
    return true; // no answer at all: offline without a copy, which the worker's own error will explain
  }
}

export async function untilTrainerBuilt(note) {
  if (await built()) return;
  note.hidden = false;
  note.textContent = 'The trainer (burn compiled to WebAssembly, web/pkg-train/) is still being built on the machine ' +
    'serving this page: the first build takes 30-45 minutes on two cores (tools/serve.sh logs it to ' +
    'runs/trainer-build.log). The calculator works already. This page starts by itself when the trainer is ready.';
  while (!(await built())) await new Promise((r) => setTimeout(r, EVERY_MS));
  note.hidden = true;
}
