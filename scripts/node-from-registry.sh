# Prints the bin directory of Node <version> from the npm registry (the node-linux-<arch> packages),
# installing it first into a cache outside the repository, so a machine that reaches only package
# registries still gets any Node it needs.
#
#   bin=$(bash scripts/node-from-registry.sh 24.21.0)
#
# npm checks the tarball against the registry's integrity hash. The install goes into a directory of its own and
# is renamed into place once its node reports the version asked for: an install killed halfway, or one that
# another run is still writing, is never taken for a Node (a partial binary is executable long before it is whole).
set -euo pipefail
version=$1
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-from-registry: no Node package for $(uname -m); install Node >= 22.12 yourself" >&2; exit 1 ;;
esac
home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
cache=$(realpath -m "${RUMKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$home/.cache}/rumkit}")
dir="$cache/node-$version-$arch"
bin="$dir/node_modules/node-linux-$arch/bin"
works() { [ "$("$1/node" --version 2>/dev/null)" = "v$version" ]; }
if ! works "$bin"; then
  mkdir -p "$cache"
  scratch=$(mktemp -d "$cache/.node-$version-$arch.XXXXXX")
  chmod 755 "$scratch"
  trap 'rm -rf "$scratch"' EXIT
  npm install --prefix "$scratch" --no-save --no-audit --no-fund --loglevel=error "node-linux-$arch@$version" >&2
  works "$scratch/node_modules/node-linux-$arch/bin" || {
    echo "node-from-registry: the node of node-linux-$arch@$version does not run here" >&2
    exit 1
  }
  # A broken earlier install goes; one that another run finished meanwhile stays, and this one is dropped.
  if [ -e "$dir" ] && ! works "$bin"; then rm -rf "$dir"; fi
  mv -T "$scratch" "$dir" 2>/dev/null || works "$bin"
fi
echo "$bin"
