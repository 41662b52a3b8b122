#!/usr/bin/env bash
# Runs the crypto suite (`swift package benchmark --target CryptoBenchmarks`) and reduces it to a markdown table:
# wall-clock time per seal+open pair (p50 and best sample), allocations per pair, and each as a ratio to raw
# AES-GCM measured in the same run. The full benchmark report goes to standard error; the table to standard output.
set -euo pipefail

PACKAGE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$PACKAGE"
REPORT="$(mktemp -t latchkey-crypto.XXXXXX)"
trap 'rm -f "$REPORT"' EXIT

swift package benchmark --target CryptoBenchmarks --no-progress --time-units nanoseconds >"$REPORT" 2>&1 || {
    cat "$REPORT" >&2
    exit 1
}
awk '/^={3,}$/ { shown = 1 } shown' "$REPORT" >&2

# Rows look like: │ Time (wall clock) (ns) *  │  p0 │ p25 │ p50 │ p75 │ p90 │ p99 │ p100 │ Samples │
awk -F'│' '
    function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
    /^[^│╒╞├╘=]/ && NF == 1 && $0 !~ /^(Host|#|Baseline|CryptoBenchmarks)/ && trim($0) != "" { name = trim($0); order[++n] = name }
    $2 ~ /Time \(wall clock\)/ { p0[name] = trim($3); p50[name] = trim($5) }
    $2 ~ /Malloc \(total\)/ { mallocs[name] = trim($5) }
    END {
        base = ""
        for (i = 1; i <= n; i++) if (order[i] ~ /baseline/) base = order[i]
        if (base == "" || p50[base] == "") { print "no baseline in the benchmark report" > "/dev/stderr"; exit 1 }
        print "| Benchmark | p50 ns | p50 ÷ raw | best ns | best ÷ raw | mallocs |"
        print "| --- | ---: | ---: | ---: | ---: | ---: |"
        for (i = 1; i <= n; i++) {
            b = order[i]
            if (p50[b] == "") continue
            printf "| %s | %d | %.2f | %d | %.2f | %s |\n", b, p50[b], p50[b] / p50[base], p0[b], p0[b] / p0[base], mallocs[b]
        }
    }
' "$REPORT"
