#!/usr/bin/env bash
# Regenerates the escape goldens from the real Java encoders:
#   release-5.5.0.txt  RocketMQ 5.5.0 jars (fastjson2 2.0.59)
#   release-5.3.3.txt  RocketMQ 5.3.3 namesrv jars (fastjson 1.2.83)
# Usage: protocol/tests/golden/escape/generate.sh [LIB5_DIR LIB533_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
lib5=${1:-$root/.cache/peers/lib5}
lib533=${2:-$root/.cache/peers/libns-5.3.3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gen() { # release main-class lib-dir
    mkdir -p "$tmp/$1"
    javac -encoding UTF-8 -cp "$3/*" -d "$tmp/$1" "$here/EscapeSamples.java" "$here/$2.java"
    # Only the sample lines: RocketMQ's logging prints its status to stdout too.
    java -Dfile.encoding=UTF-8 -cp "$tmp/$1:$3/*" "$2" | grep -E '^[0-9a-f]+ [a-z.]+ [0-9a-f]+$' > "$here/release-$1.txt"
}
gen 5.5.0 Escape55 "$lib5"
gen 5.3.3 Escape53 "$lib533"
wc -l "$here"/release-*.txt
