// The run in progress, kept in IndexedDB at each snapshot, so a reload or a closed tab does not lose it: the
// snapshot file (trainable tensors, AdamW's moments, the run's place; train/snapshot.rs), the plan, the dataset's
// bytes, the model's name, the curves so far. One record: the page trains one run at a time.
const DB = 'lora-playground';
const STORE = 'runs';
const KEY = 'current';

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function transact(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req?.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error('the save was aborted (storage full?)'));
    });
  } finally {
    db.close();
  }
}

// Resolves with the saved run or null; never rejects (a browser without IndexedDB simply keeps nothing).
export async function readSaved() {
  try {
    return (await transact('readonly', (s) => s.get(KEY))) ?? null;
  } catch {
    return null;
  }
}

export const writeSaved = (record) => transact('readwrite', (s) => s.put(record, KEY));

export async function discardSaved() {
  try {
    await transact('readwrite', (s) => s.delete(KEY));
  } catch {
    // nothing was kept
  }
}
