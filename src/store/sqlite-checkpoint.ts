// The SQLite checkpointer: a worker thread with a connection of its own that copies the WAL back
// into the database file (PRAGMA wal_checkpoint(PASSIVE)), so the serving thread never pays for
// it. A checkpoint fsyncs the WAL and the database; done by SQLite's auto-checkpoint inside the
// COMMIT that crossed 1,000 WAL pages, it cost the committing thread about 3/4 of its commit time
// (20,000 small transactions: 1.5 s with it, 0.4 s without). PASSIVE never waits for and never
// blocks the writer: it copies what no reader still needs and the writer restarts the WAL from its
// beginning once everything was copied. Durability does not depend on it: a commit is in the WAL
// (and with --sqlite-sync full, fsynced there) before it is answered.
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

/** What the serving thread passes to the checkpointer. */
export interface CheckpointerData {
  /** The database file. */
  path: string;
}

/** Between checkpoints while the WAL grows, and when it was found empty. */
const busyMs = 20;
const idleMs = 200;

const { path } = workerData as CheckpointerData;
const db = new DatabaseSync(path);
db.exec("PRAGMA busy_timeout = 1000");
let stopped = false;
let timer: NodeJS.Timeout | undefined;

function checkpoint(): void {
  let next = idleMs;
  try {
    const r = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as { busy: number; log: number; checkpointed: number } | undefined;
    if (r && r.log > 0) next = busyMs;
  } catch (e) {
    // A full disk or an I/O error: the serving thread sees it on its own writes; say it once per
    // attempt and try again later (the WAL keeps every commit meanwhile).
    parentPort?.postMessage({ error: (e as Error).message });
    next = idleMs * 5;
  }
  if (!stopped) timer = setTimeout(checkpoint, next);
}

parentPort?.on("message", (m: { stop?: boolean }) => {
  if (!m.stop) return;
  stopped = true;
  clearTimeout(timer);
  db.close();
  parentPort?.postMessage({ stopped: true });
});
checkpoint();
