#!/bin/sh
# make demo: run sluice on the bundled sample capture and policy.
set -eu
BUILD=${1:-build}
echo "demo: not wired yet"
