#!/usr/bin/env bash
# Installs the PyTorch peer of the benchmarks (Debian python3-torch, CPU, ~190 MB of packages).
# Only bench/ uses it; the tests never do. Idempotent.
set -euo pipefail
if python3 -c 'import torch' 2>/dev/null || /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "torch: present"; exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-torch
echo "torch: installed (use /usr/bin/python3)"
