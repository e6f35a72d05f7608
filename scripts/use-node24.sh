# Puts Node 24 LTS first on PATH when the system Node is older than 22.18: the repository's scripts
# (e2e/stack/*.ts, scripts/start.ts) run as TypeScript, which Node strips by default from 22.18 on, and use
# import.meta.main (also 22.18). The packages themselves need only 22.12 (package.json's engines).
#
#   source scripts/use-node24.sh
#
# Node comes from the npm registry (scripts/node-from-registry.sh), cached outside the repository.
# (Inside `npm run …` scripts this is not needed: the optional dependency node-linux-<arch> puts Node 24
# into node_modules/.bin, which npm puts first on PATH.)

rumkit_node_version=24.21.0

rumkit_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 18) ? 0 : 1)'
}

if ! rumkit_node_ok; then
  rumkit_node_bin=$(bash "$(dirname "${BASH_SOURCE[0]}")/node-from-registry.sh" "$rumkit_node_version") || return 1 2>/dev/null || exit 1
  export PATH="$rumkit_node_bin:$PATH"
  echo "use-node24: using $(node --version) from $rumkit_node_bin" >&2
fi
unset -f rumkit_node_ok
