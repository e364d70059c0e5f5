#!/usr/bin/env bash
# Builds the example guests into build/ (GNU as and ld).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
as --64 -o build/hello.o examples/hello.s
ld -m elf_x86_64 -nostdlib -z max-page-size=0x1000 -Ttext=0x100000 -e _start -o build/hello.elf build/hello.o
