# Puts Node 24 LTS first on PATH when the system Node is older than the 22.12 rumkit needs.
#
#   source scripts/use-node24.sh
#
# Node comes from the npm registry (the node-linux-<arch> packages), cached outside the repository,
# so a machine that reaches only package registries still gets a supported Node.
# (Inside `npm run …` scripts this is not needed: the optional dependency node-linux-<arch> puts Node 24
# into node_modules/.bin, which npm puts first on PATH.)

rumkit_node_version=24.21.0

rumkit_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)'
}

if ! rumkit_node_ok; then
  case "$(uname -m)" in
    x86_64) rumkit_node_arch=x64 ;;
    aarch64 | arm64) rumkit_node_arch=arm64 ;;
    *) echo "use-node24: no Node package for $(uname -m); install Node >= 22.12 yourself" >&2; return 1 2>/dev/null || exit 1 ;;
  esac
  rumkit_node_dir="${RUMKIT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rumkit}/node-$rumkit_node_version-$rumkit_node_arch"
  rumkit_node_bin="$rumkit_node_dir/node_modules/node-linux-$rumkit_node_arch/bin"
  if [ ! -x "$rumkit_node_bin/node" ]; then
    mkdir -p "$rumkit_node_dir"
    npm install --prefix "$rumkit_node_dir" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-$rumkit_node_arch@$rumkit_node_version" >&2
  fi
  export PATH="$rumkit_node_bin:$PATH"
  echo "use-node24: using $(node --version) from $rumkit_node_bin" >&2
fi
unset -f rumkit_node_ok
