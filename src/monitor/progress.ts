/**
 * A one-line progress bar for long catch-ups. Redrawn in place on a TTY at
 * most 10 times a second; silent when stderr is a pipe or a file (logs and
 * CI output stay readable).
 */

export interface Progress {
  update(done: number, total: number): void;
  end(): void;
}

export function progressBar(stream: NodeJS.WriteStream = process.stderr, label = 'verified'): Progress {
  if (!stream.isTTY) return { update() {}, end() {} };
  const t0 = performance.now();
  let last = 0;
  let drawn = false;
  const draw = (done: number, total: number) => {
    const cols = Math.max(10, Math.min(30, (stream.columns ?? 80) - 60));
    const frac = total > 0 ? done / total : 1;
    const filled = Math.round(frac * cols);
    const rate = done / Math.max(0.001, (performance.now() - t0) / 1000);
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(cols - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${label} ${fmt(done)}/${fmt(total)} entries, ${fmt(rate)}/s \x1b[K`);
    drawn = true;
  };
  return {
    update(done, total) {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done, total);
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}
