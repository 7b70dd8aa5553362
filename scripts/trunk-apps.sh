#!/usr/bin/env bash
# Trunk.toml's post_build hook: builds the console's other apps (frontend/<app>.html, binary
# <app>) into the link app's staging directory, under <app>/, served from /<app>/, so that the one
# `trunk build` that made the link app puts them all into dist/ together (Trunk replaces dist/
# with its staging directory at the end). The list matches tagstream_shared::console::Bundle.
set -euo pipefail
release=()
if [[ "${TRUNK_PROFILE:-}" == "release" ]]; then
  release=(--release)
fi
for app in tag tools templates access activity; do
  trunk --config frontend/Trunk.apps.toml build "${release[@]}" \
    --dist "$TRUNK_STAGING_DIR/$app" --public-url "/$app/" "$PWD/frontend/$app.html"
done
