/**
 * Turns: async jobs that must not interleave run one after another, in call
 * order. A job's failure is its caller's; the next job runs regardless.
 */

export type Turns = <T>(fn: () => Promise<T>) => Promise<T>;

export function turns(): Turns {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => {});
    return run;
  };
}
