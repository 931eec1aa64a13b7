// Waiting for asynchronous work (a transaction, a timer pass) to show its result, without a fixed
// sleep: the check runs on every turn of the event loop until it passes or the limit ends.

/** Runs `check` until it stops throwing (its value is returned), or rethrows after `limitMs` of real time. */
export async function eventually<T>(check: () => Promise<T> | T, limitMs = 5_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setImmediate(r));
    }
  }
}
