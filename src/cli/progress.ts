/** A one-line progress bar on a TTY; on a pipe, a plain line every few seconds (no carriage returns in logs). */

export interface ProgressBar {
  update(label: string, done: number, total: number | undefined, unit: string): void;
  done(): void;
}

export function progressBar(out: NodeJS.WriteStream, width = 30): ProgressBar {
  const tty = out.isTTY === true;
  const t0 = Date.now();
  let last = 0;
  let drawn = false;
  return {
    update(label, done, total, unit) {
      const now = Date.now();
      if (now - last < (tty ? 100 : 5000) && done !== total) return;
      last = now;
      const secs = Math.max((now - t0) / 1000, 0.001);
      const rate = `${Math.round(done / secs).toLocaleString('en-US')} ${unit}/s`;
      let line: string;
      if (total !== undefined && total > 0) {
        const f = Math.min(1, done / total);
        const fill = Math.round(f * width);
        line = `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${Math.floor(f * 100)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}, ${rate}`;
      } else line = `${label} ${done.toLocaleString('en-US')} ${unit}, ${rate}`;
      if (tty) {
        out.write(`\r\x1b[K${line}`);
        drawn = true;
      } else out.write(`${line}\n`);
    },
    done() {
      if (tty && drawn) out.write('\n');
    },
  };
}
