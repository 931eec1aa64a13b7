// Serves the example web app (examples/web) from an origin of its own: index.html at `/` and
// app.ts bundled for the browser by esbuild at `/app.js`, built once at start, offline.
//
//   node_modules/.bin/node examples/web/serve.ts [--port 5173] [--host 127.0.0.1]
//
// then open http://127.0.0.1:5173/?taskgate=http://127.0.0.1:8080 with taskgate started as
// `npm start -- --cors-origins http://127.0.0.1:5173`. Any other path answers 404.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const here = import.meta.dirname;

/** A running web server for the example app. */
export interface WebAppServer {
  /** The page's origin, as browsers send it in `Origin` (http://host:port). */
  origin: string;
  port: number;
  close(): Promise<void>;
}

/** Bundles app.ts and its imports (generated code, @connectrpc/connect-web) into one ES module. */
export async function bundleApp(): Promise<string> {
  const out = await build({
    entryPoints: [join(here, "app.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0].text;
}

/** Builds the app and serves it on `host:port` (port 0: any free port). */
export async function serveWebApp(opts: { host?: string; port?: number } = {}): Promise<WebAppServer> {
  const host = opts.host ?? "127.0.0.1";
  const [html, js] = [readFileSync(join(here, "index.html")), Buffer.from(await bundleApp())];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const file = path === "/" || path === "/index.html" ? { body: html, type: "text/html; charset=utf-8" } : path === "/app.js" ? { body: js, type: "text/javascript; charset=utf-8" } : undefined;
    if (req.method !== "GET" || file === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    origin: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.main) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const web = await serveWebApp({ host: arg("--host"), port: Number(arg("--port") ?? 5173) });
  process.stdout.write(`example web app at ${web.origin}/?taskgate=http://127.0.0.1:8080 (start taskgate with --cors-origins ${web.origin})\n`);
}
