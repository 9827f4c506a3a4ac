#!/usr/bin/env bash
# Installs the datasets the engine reads from the system (idempotent; DESIGN §6).
# Fashion-MNIST comes from the Debian package dataset-fashion-mnist and lands in
# /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
# CIFAR-10/100 are not in any registry: download the binary distribution yourself and point
# the dataset config's `dir` at it.
set -euo pipefail

dir=/usr/share/datasets/fashion-mnist
if [ -f "$dir/train-images-idx3-ubyte.gz" ] && [ -f "$dir/t10k-labels-idx1-ubyte.gz" ]; then
  echo "fashion-mnist: present in $dir"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "fashion-mnist: apt-get not found; install the Debian package dataset-fashion-mnist or use {kind:'idx'} with your own files" >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dataset-fashion-mnist
echo "fashion-mnist: installed in $dir"
