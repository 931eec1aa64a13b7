// A helper process of the bench's idle-poll measurement: holds `count` PollForActivityTask long
// polls on the AWS JSON route, each on its own HTTP/1.1 connection (as separate AWS SDK workers
// would), so that the bench's own process stays within its open-file limit. Started with an IPC
// channel:
//   node bench/hold-polls.ts <url> <domain> <taskList> <count>
// It sends {sent} once every request is written, answers "status" with {sent, failed, answered},
// and on "stop" aborts every poll and exits.
import http from "node:http";

const [url, domain, taskList, countArg] = process.argv.slice(2);
const count = Number(countArg);
const u = new URL(url);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const ac = new AbortController();
const body = JSON.stringify({ domain, taskList: { name: taskList } });
let sent = 0;
let failed = 0;
let answered = 0;
let firstError: string | undefined;

for (let i = 0; i < count; i++) {
  const req = http.request(
    {
      host: u.hostname,
      port: u.port,
      method: "POST",
      path: "/",
      agent,
      signal: ac.signal,
      headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "SimpleWorkflowService.PollForActivityTask", "content-length": Buffer.byteLength(body) },
    },
    (res) => {
      res.resume();
      res.on("end", () => answered++);
    },
  );
  req.on("error", (e) => {
    if (ac.signal.aborted) return;
    failed++;
    firstError ??= String(e);
  });
  req.end(body, () => sent++);
  // Let the event loop breathe every 500 connections (connects complete in between).
  if (i % 500 === 499) await new Promise((r) => setImmediate(r));
}
const until = Date.now() + 60_000;
while (sent + failed < count && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
process.send!({ sent, failed });

process.on("message", (m) => {
  if (m === "status") process.send!({ sent, failed, answered, firstError });
  if (m === "stop") {
    ac.abort();
    setTimeout(() => process.exit(0), 200);
  }
});
process.on("disconnect", () => process.exit(0));
