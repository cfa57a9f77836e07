// The one piece of state the panels share: who loaded what, the settings, the checked plan, whether a run is
// going, the finished runs. Each panel keeps everything else to itself and watches only the keys it needs.
// `set` replaces values (never mutate one in place: a watcher is told only about keys whose value changed).
export function createStore(initial) {
  let state = { ...initial };
  const watchers = [];
  return {
    get: () => state,
    set(patch) {
      const changed = Object.keys(patch).filter((k) => !Object.is(state[k], patch[k]));
      if (changed.length === 0) return;
      state = { ...state, ...patch };
      for (const { keys, fn } of watchers) if (keys.some((k) => changed.includes(k))) fn(state, changed);
    },
    // fn(state, changedKeys) after each `set` that changes one of `keys`.
    watch(keys, fn) {
      watchers.push({ keys, fn });
    },
  };
}
