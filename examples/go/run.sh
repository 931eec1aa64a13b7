#!/usr/bin/env bash
# Builds the example with Debian's Go packages and runs it; arguments go to the program
# (-addr host:port, -domain name).
#
# Debian packages Go libraries as sources under /usr/share/gocode, laid out for GOPATH mode, and
# grpc-go 1.33's go.mod names modules Debian does not ship, so a module build cannot resolve
# offline. This script builds in GOPATH mode instead: examples/go becomes the GOPATH source
# folder `taskgate` (through the symlink .gopath/src/taskgate), which is where the protos'
# go_package (taskgate/gen/go/taskgate/...) points. Generate the code first, from the taskgate
# directory: npx buf generate --template examples/go/buf.gen.yaml
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ ! -f $here/gen/go/taskgate/swf/v1/service_grpc.pb.go ]]; then
  echo "run.sh: no generated code in $here/gen; from the taskgate directory run: npx buf generate --template examples/go/buf.gen.yaml" >&2
  exit 2
fi
mkdir -p "$here/.gopath/src" "$here/.gopath/bin"
ln -sfn ../.. "$here/.gopath/src/taskgate"
export GO111MODULE=off GOFLAGS= GOPATH="$here/.gopath:/usr/share/gocode"
cd "$here/.gopath/src/taskgate"
go build -o "$here/.gopath/bin/swf-flow" .
exec "$here/.gopath/bin/swf-flow" "$@"
