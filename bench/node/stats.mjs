// Order statistics, as bench/stats.hpp computes them (nearest rank): a
// shared machine is noisy, so the benchmark reports medians and p99, never
// means of raw samples.

export function percentile(samples, p) {
  if (!samples || samples.length === 0) return NaN;
  const sorted = samples.slice().sort((a, b) => a - b);
  const index = Math.floor((p / 100) * (sorted.length - 1) + 0.5);
  return sorted[Math.min(index, sorted.length - 1)];
}

export const median = (samples) => percentile(samples, 50);
export const p99 = (samples) => percentile(samples, 99);
export const max = (samples) => percentile(samples, 100);

// Per-call means of consecutive batches of `size` calls: how the Lua
// campaign (whose clock counts whole milliseconds) times its evaluates, so
// the peers' per-call samples are reduced the same way for the ratio.
export function batchMeans(samples, size) {
  const out = [];
  for (let i = 0; i + size <= samples.length; i += size) {
    let sum = 0;
    for (let j = i; j < i + size; j++) sum += samples[j];
    out.push(sum / size);
  }
  return out;
}

// "123 (456)" with sensible precision.
export function fmt(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toFixed(d);
}
