// The example Connect web app (examples/web, @connectrpc/connect-web) in Debian's Chromium
// (/usr/bin/chromium, headless, driven by puppeteer-core), served from an origin of its own (a
// second port) to a taskgate started with --cors-origins naming it:
// - from the listed origin, over the Connect protocol and over gRPC-Web, each check the page
//   reports passes: a unary call, the Fault detail of a failure, a StreamActivityTasks server
//   stream that takes an SWF workflow to its end (which taskgate's own client then reads closed),
//   and a long poll with a 1 s deadline answered with the empty result before it. A screenshot of
//   the page and its results are written to test-artifacts/browser.png and browser.json
//   (git-ignored);
// - from an origin not listed, the browser blocks every answer and every check fails.
// Also type-checks the app against the DOM types (examples/web/tsconfig.json).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { CloseStatus, ExecutionStatus } from "../../gen/taskgate/swf/v1/types_pb.ts";
import { serveWebApp, type WebAppServer } from "../../examples/web/serve.ts";
import { startTaskgate, type Taskgate } from "../helpers/harness.ts";

const root = join(import.meta.dirname, "../..");
const chromium = "/usr/bin/chromium";
const screenshot = join(root, "test-artifacts", "browser.png");
const reported = join(root, "test-artifacts", "browser.json");

/** One check as the page reports it in #results. */
interface CheckResult {
  protocol: string;
  check: string;
  ok: boolean;
  detail: string;
  ms: number;
}

/** What the page must report, per check, over each protocol (in the page's order). */
const checks: { check: string; detail: RegExp }[] = [
  { check: "unary", detail: /^DescribeDomain web-[a-z-]+: REGISTERED$/ },
  { check: "fault", detail: /^NotFound UnknownResourceFault: Unknown domain: no-such-domain$/ },
  { check: "server stream", detail: /^(web-[a-z-]+-\d+): streamed item-0,item-1,item-2; workflow completed with 3 items$/ },
  { check: "long poll", detail: /^1 s deadline: empty result after (\d+) ms$/ },
];
const protocols = ["connect", "grpc-web"];

describe("Connect web app in Chromium", () => {
  let web: WebAppServer;
  let elsewhere: WebAppServer;
  let tg: Taskgate;
  let browser: Browser | undefined;

  beforeAll(async () => {
    web = await serveWebApp();
    elsewhere = await serveWebApp();
    // The server's real hold time, so the 1 s client deadline is the shorter one.
    tg = await startTaskgate({ longPollSeconds: 60, config: { corsOrigins: [web.origin] } });
    if (existsSync(chromium)) {
      browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"] });
    }
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await tg?.destroy();
    await web?.close();
    await elsewhere?.close();
  });

  /** Opens the app from an origin and returns what it reports once it has run every check. */
  async function runPage(origin: string, shot?: string): Promise<CheckResult[]> {
    if (browser === undefined) throw new Error(`${chromium} is missing: apt-get install chromium (bash .ci/run does)`);
    const page = await browser.newPage();
    try {
      await page.setViewport({ width: 1100, height: 800 });
      await page.goto(`${origin}/?taskgate=${encodeURIComponent(tg.url)}`);
      await page.waitForFunction(`document.body.dataset.done === "true"`, { timeout: 45_000 });
      if (shot !== undefined) {
        mkdirSync(join(shot, ".."), { recursive: true });
        await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
      }
      return JSON.parse((await page.$eval("#results", (e) => e.textContent)) ?? "[]") as CheckResult[];
    } finally {
      await page.close();
    }
  }

  it("from the listed origin: unary, fault detail, server stream and 1 s-deadline long poll pass over Connect and gRPC-Web", async () => {
    const results = await runPage(web.origin, screenshot);
    writeFileSync(reported, JSON.stringify(results, null, 2) + "\n");
    expect(results.map((r) => `${r.protocol} ${r.check}`)).toEqual(protocols.flatMap((p) => checks.map((c) => `${p} ${c.check}`)));
    for (const r of results) {
      const c = checks.find((x) => x.check === r.check)!;
      expect(r.ok, `${r.protocol} ${r.check}: ${r.detail}`).toBe(true);
      const m = c.detail.exec(r.detail);
      expect(m, `${r.protocol} ${r.check}: ${r.detail}`).not.toBeNull();
      if (r.check === "long poll") expect(Number(m![1]), `${r.protocol}: answered before the 1 s deadline`).toBeLessThan(1000);
      if (r.check === "server stream") {
        // taskgate's own account: the execution the page drove is closed, completed.
        const listed = await tg.connect.listClosedWorkflowExecutions({
          domain: `web-${r.protocol}`,
          startTimeFilter: { oldestDate: { seconds: 0n } },
          executionFilter: { workflowId: m![1] },
        });
        expect(listed.executionInfos.map((i) => [i.executionStatus, i.closeStatus])).toEqual([[ExecutionStatus.CLOSED, CloseStatus.COMPLETED]]);
      }
    }
    expect(existsSync(screenshot)).toBe(true);
  }, 90_000);

  it("from an origin not listed: the browser blocks every answer, so every check fails", async () => {
    const results = await runPage(elsewhere.origin);
    expect(results).toHaveLength(protocols.length * checks.length);
    for (const r of results) expect(r.ok, `${r.protocol} ${r.check}: ${r.detail}`).toBe(false);
    expect(results[0].detail).toMatch(/fetch/i);
  }, 90_000);

  it("the app type-checks against the DOM types", () => {
    const tsc = spawnSync(join(root, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", "examples/web/tsconfig.json"], { cwd: root, encoding: "utf8" });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  }, 60_000);
});
