// The Go example client (examples/go, grpc-go) against a taskgate started here, as its README
// says to run it: code generated from proto/ with examples/go/buf.gen.yaml (protoc-gen-go,
// protoc-gen-go-grpc), built by examples/go/run.sh with Debian's Go packages in GOPATH mode,
// offline. The code is generated into a temporary copy of the example on every run, so it can
// never drift from proto/ (nothing generated is committed).
//
// Checked: every step of the program's output in order (registration, a 1 s-deadline long poll
// answered with the empty result before the deadline, the Fault detail of a failure, the SWF
// flow with the activity received on StreamActivityTasks), and, through taskgate's own client,
// the execution closed as the program says.
//
// Needs the Debian packages .ci/run installs (golang-go, protoc-gen-go, protoc-gen-go-grpc,
// golang-google-grpc-dev, golang-github-golang-protobuf-1-5-dev); fails naming them when missing.
// The Go build cache lives in the system's temp folder (taskgate-go-cache), so only the first run
// compiles grpc-go (about 10 s).
import { describe, it } from "vitest";
import { copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bufGenerate, exampleSuite, expectSwfFlow, root, run, type Tool } from "../helpers/example-client.ts";

/** What must be on this machine, and the Debian package that brings it. */
const tools: Tool[] = [
  { path: "/usr/bin/go", pkg: "golang-go" },
  { path: "/usr/bin/protoc-gen-go", pkg: "protoc-gen-go" },
  { path: "/usr/bin/protoc-gen-go-grpc", pkg: "protoc-gen-go-grpc" },
  { path: "/usr/share/gocode/src/google.golang.org/grpc/server.go", pkg: "golang-google-grpc-dev" },
  { path: "/usr/share/gocode/src/github.com/golang/protobuf/internal", pkg: "golang-github-golang-protobuf-1-5-dev" },
];

describe("Go example client (grpc-go)", () => {
  const fx = exampleSuite(tools, "go");

  it("runs the whole SWF flow: registration, a 1 s-deadline poll answered empty, the Fault detail, decision, streamed activity, completion", async () => {
    const { tg, work } = fx;
    // Generate as the README says, into a copy of the example (-o prefixes the template's out).
    bufGenerate("examples/go/buf.gen.yaml", work);
    const example = join(work, "examples", "go");
    mkdirSync(example, { recursive: true });
    for (const f of ["main.go", "run.sh"]) copyFileSync(join(root, "examples", "go", f), join(example, f));

    const domain = `go-${process.pid}`;
    const env = { ...process.env, GOCACHE: join(tmpdir(), "taskgate-go-cache") };
    const out = await run("bash", [join(example, "run.sh"), "-addr", `127.0.0.1:${tg.port}`, "-domain", domain], env, 170_000);
    await expectSwfFlow(tg, out, { domain, faultCode: "NotFound", identity: "go-worker" });
  }, 180_000);
});
