#!/usr/bin/env bash
# Runs the published-protocol evaluation of the baselines (popularity, sequential rules,
# V-SKNN) on a MovieLens data set, in a release build, and prints the report table; with
# --json PATH it also writes the JSON report. --mode chronological runs the service-style
# evaluation instead (per-user chronological split, per domain and cold-domain slice, with
# the library's defaults). It calls the library entry points `PublishedProtocolEvaluation.run`
# and `ChronologicalEvaluation.run` from a throw-away package in the git-ignored build folder,
# so the package gains no target for it; `medley eval` calls the same functions.
#
# Usage: scripts/eval-published.sh [--data DIR] [--dataset ml-1m] [--json PATH]
#                                  [--knn-gap-seconds N] [--knn-session-length N] [--knn-sample N]
#                                  [--knn-k N] [--target test|validation]
#                                  [--mode published|chronological]
# DIR defaults to data/ (scripts/fetch-movielens.sh fills it). The V-SKNN options override the
# library's defaults; --knn-gap-seconds none makes each user's training sequence one session.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/data"
args=()
while (($#)); do
    case $1 in
        --data) data=$(cd "$2" && pwd); shift 2 ;;
        --mode|--dataset|--json|--knn-gap-seconds|--knn-session-length|--knn-sample|--knn-k|--target) args+=("$1" "$2"); shift 2 ;;
        *) sed -n '10,16p' "$0" >&2; exit 2 ;;
    esac
done
[[ -d $data ]] || { echo "no data in $data: run scripts/fetch-movielens.sh" >&2; exit 1; }

# The driver package lives in the git-ignored build folder, so nothing here is committed.
driver="$root/.build-eval/driver"
mkdir -p "$driver/Sources/eval-published"
cat > "$driver/Package.swift" <<SWIFT
// swift-tools-version: 6.0
import PackageDescription
let package = Package(
    name: "eval-published",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Medley", path: "$root")],
    targets: [.executableTarget(name: "eval-published", dependencies: [.product(name: "MedleyTraining", package: "Medley")])],
    swiftLanguageModes: [.v6]
)
SWIFT
cat > "$driver/Sources/eval-published/main.swift" <<'SWIFT'
import Foundation
import MedleyTraining

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let key = arguments.popFirst(), let value = arguments.popFirst() { options[key] = value }
var configuration = PublishedProtocolEvaluation.Configuration()
if let gap = options["--knn-gap-seconds"] { configuration.sessionKNNGapMilliseconds = Int64(gap).map { $0 * 1000 } }
if let n = options["--knn-session-length"].flatMap(Int.init) { configuration.sessionKNN.currentSessionLength = n }
if let n = options["--knn-sample"].flatMap(Int.init) { configuration.sessionKNN.sampleSize = n }
if let n = options["--knn-k"].flatMap(Int.init) { configuration.sessionKNN.neighbours = n }
if let target = options["--target"].flatMap(LeaveOneOutTarget.init(rawValue:)) { configuration.target = target }
let report: EvaluationReport
if options["--mode"] == "chronological" {
    report = try ChronologicalEvaluation.run(dataDirectory: options["--data"]!, datasetName: options["--dataset"] ?? "ml-1m")
} else {
    report = try PublishedProtocolEvaluation.run(dataDirectory: options["--data"]!, datasetName: options["--dataset"] ?? "ml-1m",
                                                 configuration: configuration)
}
print(report.table(metrics: report.cutoffs.flatMap { ["HR@\($0)", "NDCG@\($0)"] } + (report.cutoffs.count > 1 ? ["MRR@10"] : [])), terminator: "")
if let path = options["--json"] { try report.json().write(to: URL(fileURLWithPath: path)) }
SWIFT
swift build -c release --package-path "$driver" --scratch-path "$root/.build-eval/build" >&2
"$root/.build-eval/build/release/eval-published" --data "$data" ${args[@]+"${args[@]}"}
