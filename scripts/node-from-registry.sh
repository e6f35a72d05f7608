# Prints the bin directory of Node <version> from the npm registry (the node-linux-<arch> packages),
# installing it first into a cache outside the repository, so a machine that reaches only package
# registries still gets any Node it needs.
#
#   bin=$(bash scripts/node-from-registry.sh 24.21.0)
set -euo pipefail
version=$1
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-from-registry: no Node package for $(uname -m); install Node >= 22.12 yourself" >&2; exit 1 ;;
esac
dir="${RUMKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rumkit}/node-$version-$arch"
bin="$dir/node_modules/node-linux-$arch/bin"
if [ ! -x "$bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-$arch@$version" >&2
fi
echo "$bin"
