// The Python example client (examples/python, grpcio) against a taskgate started here, as its
// README says to run it: code generated from proto/ with examples/python/buf.gen.yaml (protoc's
// built-in Python generator and grpc_python_plugin, driven by buf), run by Debian's
// /usr/bin/python3 with python3-grpcio and python3-protobuf. The code is generated into a
// temporary folder on every run (put first on PYTHONPATH), so it can never drift from proto/
// (nothing generated is committed).
//
// Checked: every step of the program's output in order (registration, a 1 s-deadline long poll
// answered with the empty result before the deadline, the Fault detail of a failure read from
// grpc-status-details-bin, the SWF flow with the activity received on StreamActivityTasks), and,
// through taskgate's own client, the execution closed as the program says.
//
// Needs the Debian packages .ci/run installs (python3-grpcio, python3-protobuf,
// protobuf-compiler, protobuf-compiler-grpc); fails naming them when missing.
import { describe, it } from "vitest";
import { join } from "node:path";
import { bufGenerate, exampleSuite, expectSwfFlow, root, run, type Tool } from "../helpers/example-client.ts";

/** What must be on this machine, and the Debian package that brings it. */
const tools: Tool[] = [
  { path: "/usr/bin/python3", pkg: "python3" },
  { path: "/usr/lib/python3/dist-packages/grpc/__init__.py", pkg: "python3-grpcio" },
  { path: "/usr/lib/python3/dist-packages/google/protobuf/__init__.py", pkg: "python3-protobuf" },
  { path: "/usr/bin/protoc", pkg: "protobuf-compiler" },
  { path: "/usr/bin/grpc_python_plugin", pkg: "protobuf-compiler-grpc" },
];

describe("Python example client (grpcio)", () => {
  const fx = exampleSuite(tools, "python");

  it("runs the whole SWF flow: registration, a 1 s-deadline poll answered empty, the Fault detail, decision, streamed activity, completion", async () => {
    const { tg, work } = fx;
    // Generate as the README says, into a temporary folder (-o prefixes the template's out).
    bufGenerate("examples/python/buf.gen.yaml", work);

    const domain = `python-${process.pid}`;
    // Debian's interpreter by its path (its dist-packages hold grpcio), not whatever python3 PATH finds.
    const env = { ...process.env, PYTHONPATH: join(work, "examples", "python", "gen"), PYTHONDONTWRITEBYTECODE: "1" };
    const script = join(root, "examples", "python", "swf_flow.py");
    const out = await run("/usr/bin/python3", [script, "--addr", `127.0.0.1:${tg.port}`, "--domain", domain], env, 110_000);
    await expectSwfFlow(tg, out, { domain, faultCode: "NOT_FOUND", identity: "python-worker" });
  }, 120_000);
});
