// The entry point (`npm start`): configuration from flags and environment, the app, the server,
// and the signals that stop them.
//
// SIGHUP re-reads the principals file (--auth-file) and the TLS certificate and key (--tls-cert,
// --tls-key) without dropping connections; a file that fails keeps what is in force.
//
// Exit codes: 0 after a clean shutdown or --help; 1 when the app or the server cannot start, or a
// second signal arrives during shutdown; 2 for a bad flag or variable.
import type { Logger } from "pino";
import { createApp } from "./app.ts";
import { ConfigError, HelpRequested, describeDatabase, parseConfig, usage, type Config } from "./server/config.ts";
import { child, createLogger } from "./server/logger.ts";
import { startServer } from "./server/server.ts";

function readConfig(): Config {
  try {
    return parseConfig(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof HelpRequested) {
      process.stdout.write(usage);
      process.exit(0);
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`taskgate: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

async function main(config: Config, root: Logger): Promise<void> {
  const logger = child(root, "main");
  // A rejection nobody handled is a bug to log, not a reason to drop every open poll by crashing.
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));

  const app = await createApp(config, root);
  let server;
  try {
    server = await startServer({ config, logger: root, services: app.services, ready: () => app.ready(), onShutdown: () => app.shutdown() });
  } catch (e) {
    await app.shutdown().catch(() => undefined);
    await app.close().catch(() => undefined);
    throw e;
  }
  const running = server;
  logger.info({ database: describeDatabase(config.database), longPollSeconds: config.longPollSeconds }, `taskgate listening on ${running.url}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting without waiting");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    void (async () => {
      try {
        await running.close();
        await app.close();
        logger.info("stopped");
        process.exit(0);
      } catch (err) {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      }
    })();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // SIGHUP re-reads the principals file and the TLS pair; open connections and requests carry on.
  process.on("SIGHUP", () => {
    running.reloadCredentials();
    running.reloadTls();
  });
}

const config = readConfig();
const logger = createLogger(config.logLevel);
main(config, logger).catch((err: unknown) => {
  child(logger, "main").fatal({ err }, "taskgate could not start");
  // The one line a person reads first, whatever the log level.
  process.stderr.write(`taskgate: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
