#!/bin/sh
# Written by `lgtm-smoke payloads` (lgtm_smoke/payloads.py): do not edit.
# Prints mimir-remote-write.bin with its sample stamped at $1 (Unix ms; default now).
# The sample's timestamp is the 6 varint bytes at byte 99, inside a snappy literal;
# raw snappy has no checksum, so overwriting them gives a valid body.
set -eu
body="$(dirname "$0")/mimir-remote-write.bin"
ms=${1:-$(date +%s%3N)}
case $ms in *[!0-9]* | "") echo "mimir-remote-write.sh: '$ms' is not a time in Unix milliseconds" >&2; exit 2;; esac
if [ "$ms" -lt 34359738368 ] || [ "$ms" -ge 4398046511104 ]; then
  echo "mimir-remote-write.sh: $ms ms is not a time between 1971 and 2109" >&2; exit 2
fi
head -c 99 "$body"
i=0
while [ $i -lt 5 ]; do  # 7 bits at a time, low first, the continuation bit set
  printf "\\$(printf %o $(( (ms >> (7 * i)) & 127 | 128 )))"
  i=$((i + 1))
done
printf "\\$(printf %o $(( ms >> 35 )))"
tail -c +106 "$body"
