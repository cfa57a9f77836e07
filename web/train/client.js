// The page's side of the worker protocol (web/train/worker.js). Requests are calls with ids:
//   page -> worker   {id, type, args}
//   worker -> page   {id, result}  or  {id, error: {field, message, line}}
// so `call` returns a Promise settled by the reply with its id. Events carry no id and arrive whenever the
// worker has one: {event: 'tick' | 'paused' | 'resumed' | 'stopped' | 'done' | 'failed', data}.
export function connect(worker) {
  let nextId = 1;
  let heard = false; // the worker has answered once (so it started)
  let dead = null; // why the worker never started: later calls get it at once
  const pending = new Map();
  const listeners = new Map();
  const emit = (event, data) => { for (const fn of listeners.get(event) ?? []) fn(data); };

  worker.addEventListener('message', ({ data: m }) => {
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
  // An error the worker did not catch. Before its first answer it means the worker never started (its module did
  // not load): nothing will answer, so every call fails with it, now and later.
  worker.addEventListener('error', (e) => {
    const error = { field: 'worker', message: e.message || 'the training worker failed to start', line: null };
    if (!heard) {
      dead = error;
      for (const call of pending.values()) call.reject(error);
      pending.clear();
    }
    emit('worker-error', error);
  });

  return {
    // Resolves with the worker's result; rejects with `{field, message, line}`. `transfer`: buffers to move.
    call(type, args = {}, transfer = []) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, type, args }, transfer);
      });
    },
    // fn(data) for each event of that name.
    on(event, fn) {
      if (!listeners.has(event)) listeners.set(event, []);
      listeners.get(event).push(fn);
    },
  };
}
