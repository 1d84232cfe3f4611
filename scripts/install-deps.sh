#!/usr/bin/env bash
# allocation — installs every Debian 12 package the build, tests, examples and benchmarks use.
# SPDX-License-Identifier: MIT
# The one package list, shared by the README and CI (.ci/run). Runs as root, or through sudo.
set -euo pipefail

packages=(
    g++ clang libfuzzer-14-dev libclang-rt-14-dev cmake ninja-build pkg-config ca-certificates
    libboost-dev libfmt-dev doctest-dev librapidcheck-dev libbenchmark-dev
    libsqlite3-dev libpqxx-dev libpq-dev libhiredis-dev
    nlohmann-json3-dev
    redis-server postgresql wrk gnuplot-nox
)

if [[ "${1:-}" == "--list" ]]; then
    printf '%s\n' "${packages[@]}"
    exit 0
fi

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update </dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${packages[@]}" </dev/null
