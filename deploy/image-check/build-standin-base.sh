#!/usr/bin/env bash
# A stand-in for the official python:3.11 slim image, built here from Debian packages,
# because no container registry is reachable from these machines.
#
# It offers what the Dockerfile relies on from its base: `python` (3.11, with `venv` and
# pip through ensurepip) on PATH, `groupadd`/`useradd`, /bin/sh, and the system CA
# bundle. Debian bookworm ships Python 3.11, like python:3.11-slim-bookworm.
#
#   build-standin-base.sh IMAGE_NAME
set -euo pipefail

image=${1:?usage: build-standin-base.sh IMAGE_NAME}
suite=bookworm

# The Debian mirror this machine's apt already uses (deb822 or one-line format).
mirror=$( { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources || true
            grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true; } \
          | awk '{print $2}' | grep -v -e security | head -n1 || true)
if [ -z "$mirror" ]; then
  echo "image-check: no Debian mirror found in /etc/apt/sources.list*" >&2
  exit 2
fi

rootfs=$(mktemp -d /var/tmp/ldn-cds-standin.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "image-check: debootstrap $suite (minbase + python3, python3-venv, python-is-python3, ca-certificates)"
debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
  "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -n 30 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin

tar -C "$rootfs" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  --quiet - "$image" >/dev/null
echo "image-check: stand-in base $image: $(podman run --rm --runtime runc --network none --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 "$image" python --version)"
