#!/usr/bin/env bash
# Debian packages that `make image-check` needs: debootstrap (the stand-in base image),
# buildah (builds the Dockerfile), podman and runc (run the image). Needs root.
set -euo pipefail

if [ "$(id -u)" != "0" ]; then
  echo "image-check: needs root (debootstrap, buildah and podman as root)" >&2
  exit 2
fi
declare -A package_of=([debootstrap]=debootstrap [buildah]=buildah [podman]=podman [runc]=runc)
missing=()
for tool in "${!package_of[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${package_of[$tool]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "image-check: installing ${missing[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "image-check: $(buildah --version | cut -d' ' -f1-3), $(podman --version), $(runc --version | head -n1)"
