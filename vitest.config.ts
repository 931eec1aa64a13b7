// vitest: every test file under test/, each in its own forked process (node:sqlite, sockets and
// signals behave as in production), with room for end-to-end tests that wait on long polls.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
