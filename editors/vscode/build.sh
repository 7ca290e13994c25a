#!/bin/sh
# Build nib.vsix: install the pinned npm packages, compile, package. Needs node 18+ and npm.
set -e
cd "$(dirname "$0")"
npm install --no-audit --no-fund --loglevel=error
npx tsc -p .
npx vsce package --allow-missing-repository -o nib.vsix
