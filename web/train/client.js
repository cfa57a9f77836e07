// The page's side of the worker protocol (web/train/worker.js). Requests are calls with ids:
//   page -> worker   {id, type, args}
//   worker -> page   {id, result}  or  {id, error: {kind, field, message, line}} (kind: crate/src/error.rs)
// so `call` returns a Promise settled by the reply with its id. Events carry no id and arrive whenever the
// worker has one: {event: 'tick' | 'snapshot' | 'paused' | 'unpaused' | 'stopped' | 'done' | 'failed' | 'trapped',
// data}.
//
// Set-up calls (device, model, dataset) go through `setup`, which remembers how to make them again: after a trap
// `respawn` starts a fresh worker and replays them (the model from the browser's cache, the dataset from a copy),
// so the run can carry on there from its last snapshot (web/train/recovery.js).
export function connect(makeWorker) {
  let worker = null;
  let nextId = 1;
  let heard = false; // the current worker has answered once (so it started)
  let dead = null; // why the worker never started: later calls get it at once
  const pending = new Map();
  const listeners = new Map();
  const journal = new Map(); // kind -> {type, make}: the set-up calls to replay, in the order first made
  const emit = (event, data) => { for (const fn of listeners.get(event) ?? []) fn(data); };

  function attach(w) {
    w.addEventListener('message', ({ data: m }) => {
      if (w !== worker) return; // a replaced worker's last words
      heard = true;
      if (m.id === undefined) {
        emit(m.event, m.data);
        return;
      }
      const call = pending.get(m.id);
      if (!call) return;
      pending.delete(m.id);
      if (m.error) call.reject(m.error);
      else call.resolve(m.result);
    });
    // An error the worker did not catch. Before its first answer it means the worker never started (its module
    // did not load): nothing will answer, so every call fails with it, now and later.
    w.addEventListener('error', (e) => {
      if (w !== worker) return;
      const error = { field: 'worker', message: e.message || 'the training worker failed to start', line: null };
      if (!heard) {
        dead = error;
        for (const call of pending.values()) call.reject(error);
        pending.clear();
      }
      emit('worker-error', error);
    });
  }

  function call(type, args = {}, transfer = []) {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, type, args }, transfer);
    });
  }

  worker = makeWorker();
  attach(worker);

  return {
    // Resolves with the worker's result; rejects with `{field, message, line}`. `transfer`: buffers to move.
    call,
    // A set-up call of `kind` ('device', 'model', 'data'): `make()` resolves with {args, transfer} and is called
    // again on each respawn; the latest successful call of each kind is the one replayed.
    async setup(kind, type, make) {
      const { args, transfer = [] } = await make();
      const result = await call(type, args, transfer);
      journal.set(kind, { type, make });
      return result;
    },
    // A fresh worker in place of a trapped one, with the set-up calls made again in order; calls still waiting
    // on the old worker are rejected.
    async respawn() {
      const old = worker;
      worker = makeWorker();
      old.terminate();
      heard = false;
      dead = null;
      const error = { field: 'trap', message: 'the trainer crashed and was restarted', line: null };
      for (const c of pending.values()) c.reject(error);
      pending.clear();
      attach(worker);
      for (const { type, make } of journal.values()) {
        const { args, transfer = [] } = await make();
        await call(type, args, transfer);
      }
    },
    // fn(data) for each event of that name.
    on(event, fn) {
      if (!listeners.has(event)) listeners.set(event, []);
      listeners.get(event).push(fn);
    },
  };
}
