#!/usr/bin/env bash
# The release flow, without publishing: apply the pending changesets (`changeset version`) to a
# scratch copy of HEAD, build it, pack every package, and prove that the tarballs install
# together from files into an empty project (no rxjs, no typed-emitter, `ptftp --version`
# answers the new version). The working tree is left untouched.
#
#   scripts/release-tarballs.sh [OUT_DIR]     # default: ./release
#
# A real release runs `npx changeset version` in the repository, commits the bumped versions
# and changelogs, then `npx changeset publish` (README.md, "Installing").
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$repo/release}" && cd "${1:-$repo/release}" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "release: a copy of HEAD in $scratch"
git -C "$repo" archive HEAD | tar -x -C "$scratch"
# The installed tools (changesets, tsup); workspace links are relative, so they point into the copy.
cp -a "$repo/node_modules" "$scratch/"
for d in "$repo"/packages/*/node_modules; do [ -d "$d" ] && cp -a "$d" "$scratch/packages/$(basename "$(dirname "$d")")/"; done

cd "$scratch"
npx changeset version
npm install --package-lock-only --ignore-scripts --no-audit --no-fund >/dev/null
npm run build >/dev/null
rm -f "$out"/*.tgz
for p in protocol dhcp-options security phone resolver redis-cache server cli; do
  npm pack --silent --pack-destination "$out" -w "packages/$p" >/dev/null
done
ls "$out"

echo "release: installing the tarballs together from files"
app=$(mktemp -d)
trap 'rm -rf "$scratch" "$app"' EXIT
cd "$app"
npm init -y >/dev/null
npm install --no-audit --no-fund "$out"/*.tgz >/dev/null
version=$(node -p "require('$scratch/packages/cli/package.json').version")
[ "$(npx --no-install ptftp --version)" = "$version" ] || { echo "ptftp --version is not $version" >&2; exit 1; }
node -e "require('@ptftp/server'); import('@ptftp/protocol').then(() => console.log('release: CommonJS and ESM load'))"
for unwanted in rxjs typed-emitter; do
  if [ -e "node_modules/$unwanted" ]; then echo "release: $unwanted was installed" >&2; exit 1; fi
done
for t in "$out"/*.tgz; do
  tar -tzf "$t" | grep -x 'package/LICENSE' >/dev/null || { echo "release: $t has no LICENSE" >&2; exit 1; }
done
echo "release: ptftp $version; $(ls "$out"/*.tgz | wc -l) tarballs in $out install together"
