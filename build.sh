#!/usr/bin/env bash
# One entry point for people and CI:
#   ./build.sh demo   build and run the quickstart demo
#   ./build.sh test   build and run every test (prints a TRX summary at the end)
# Both first make the machine able to load TorchSharp's native library (idempotent, see build/setup-native.sh).
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

build/setup-native.sh

case "${1:-}" in
  demo)
    shift
    dotnet run -c Release --project Samples/Quickstart -- "$@"
    ;;
  test)
    shift
    rm -rf TestResults
    dotnet test InvertibleML.sln -c Release --results-directory "$PWD/TestResults" --report-trx "$@"
    ;;
  *)
    echo "usage: ./build.sh demo|test [extra arguments]" >&2
    exit 2
    ;;
esac
