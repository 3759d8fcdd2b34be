#!/bin/sh
# Generates the migrations of both dialects from the schemas; arguments (e.g. --name add_x) go to both.
set -e
sh scripts/node.sh node_modules/drizzle-kit/bin.cjs generate --config config/drizzle/sqlite.ts "$@"
sh scripts/node.sh node_modules/drizzle-kit/bin.cjs generate --config config/drizzle/postgres.ts "$@"
