// Number formatting for figures: grouped integers, binary byte units with the exact count kept beside.

export function grouped(n) {
  return Number(n).toLocaleString('en-US');
}

export function percent(p, digits = 4) {
  return `${Number(p).toFixed(digits)}%`;
}

// Seconds as m:ss (a run's time left, a run's length).
export function clock(s) {
  if (!Number.isFinite(s)) return '-';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s % 60)).padStart(2, '0')}`;
}

export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u += 1; }
  return u === 0 ? `${n} B` : `${v.toFixed(2)} ${units[u]}`;
}

// Short axis labels: 1.2M, 340K.
export function compact(n) {
  const v = Number(n);
  if (v >= 1e9) return `${(v / 1e9).toFixed(v >= 1e10 ? 0 : 1)}B`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(v >= 1e7 ? 0 : 1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(v >= 1e4 ? 0 : 1)}K`;
  return String(v);
}

// [0,1,2,3,7] -> "0-3, 7"
export function ranges(list) {
  const out = [];
  for (let i = 0; i < list.length; i++) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j] + 1) j++;
    out.push(i === j ? `${list[i]}` : `${list[i]}-${list[j]}`);
    i = j;
  }
  return out.join(', ');
}
