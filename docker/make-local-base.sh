#!/usr/bin/env bash
# Builds a local JRE 17 base image for Parasol's images where no image registry is reachable:
# debootstraps a Debian bookworm root file system (minbase variant, plus
# openjdk-17-jre-headless) from a Debian mirror and imports it into Docker.
#
#   docker/make-local-base.sh [--force] [IMAGE]      (default IMAGE: parasol/jre17-local:bookworm)
#
# The root file system is cached as a tarball in $PARASOL_BASE_CACHE (default
# /var/cache/parasol), outside the repository, so a re-run only imports it (seconds);
# --force debootstraps again. Needs root, debootstrap and a running Docker daemon (DOCKER_HOST
# is honoured). Environment: PARASOL_DEBIAN_MIRROR (default http://deb.debian.org/debian).
# Then: docker build --network host --build-arg BASE_IMAGE=parasol/jre17-local:bookworm ...
set -euo pipefail

force=0
if [[ "${1:-}" == "--force" ]]; then
  force=1
  shift
fi
image="${1:-parasol/jre17-local:bookworm}"
cache="${PARASOL_BASE_CACHE:-/var/cache/parasol}"
mirror="${PARASOL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite=bookworm
tarball="$cache/jre17-$suite-minbase-rootfs.tar.gz"

die() {
  echo "make-local-base: error: $*" >&2
  exit 1
}

[[ "$(id -u)" -eq 0 ]] || die "debootstrap needs root"
command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
command -v docker >/dev/null || die "the docker client is not installed"
docker version >/dev/null 2>&1 || die "no Docker daemon answers (DOCKER_HOST=${DOCKER_HOST:-unset})"

mkdir -p "$cache"
if [[ $force -eq 1 || ! -s "$tarball" ]]; then
  work="$(mktemp -d "$cache/rootfs.XXXXXX")"
  # The root file system is owned by root and holds mounted /proc while debootstrap runs: clean
  # up whatever stage a failure leaves behind.
  trap 'umount -R "$work/rootfs/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
  start=$SECONDS
  echo "make-local-base: debootstrapping $suite (minbase + openjdk-17-jre-headless) from $mirror"
  debootstrap --variant=minbase --arch=amd64 --include=openjdk-17-jre-headless \
    "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  # What an image does not need: downloaded packages, package lists, docs, man pages.
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"* \
    "$work/rootfs/usr/share/doc/"* "$work/rootfs/usr/share/man/"* "$work/rootfs/tmp/"*
  # The JVM's launcher finds its libraries through /proc/self/exe: mount /proc for the check.
  mount -t proc proc "$work/rootfs/proc"
  chroot "$work/rootfs" java -version 2>&1 | head -n 1
  chroot "$work/rootfs" java -version >/dev/null 2>&1 \
    || die "java does not run in the new root file system"
  umount "$work/rootfs/proc"
  tar --numeric-owner -C "$work/rootfs" -czf "$work/rootfs.tar.gz" .
  mv "$work/rootfs.tar.gz" "$tarball"
  echo "make-local-base: cached $tarball ($(du -h "$tarball" | cut -f1)) in $((SECONDS - start)) s"
else
  echo "make-local-base: using cached $tarball (--force to debootstrap again)"
fi

start=$SECONDS
docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'CMD ["java", "-version"]' \
  -m "Debian $suite minbase with openjdk-17-jre-headless (docker/make-local-base.sh)" \
  "$tarball" "$image" >/dev/null
echo "make-local-base: imported $image in $((SECONDS - start)) s:" \
  "$(docker run --rm --network none "$image" java -version 2>&1 | head -n 1)"
