#!/usr/bin/env bash
# Records the libraries' public API changes from the PublicApiAnalyzers' diagnostics: a new public symbol (RS0016) is
# added to PublicAPI.Unshipped.txt, a removed one (RS0017) is added there as a *REMOVED* line. Review the diff: it is
# the API change. (At a release, Unshipped moves into Shipped.)
set -euo pipefail
cd "$(dirname "$0")/.."
for project in Invertible.Torch Invertible.ML; do
  log=$(dotnet build "$project/$project.csproj" -c Release --no-incremental 2>&1 || true)
  unshipped="$project/PublicAPI.Unshipped.txt"
  {
    cat "$unshipped"
    grep -oP "error RS0016: Symbol '\K.*(?=' is not part of the declared public API)" <<<"$log" || true
    grep -oP "error RS0017: Symbol '\K.*(?=' is part of the declared API, but)" <<<"$log" | sed 's/^/*REMOVED*/' || true
  } | { read -r header; echo "$header"; sort -u; } > "$unshipped.new"
  mv "$unshipped.new" "$unshipped"
done
