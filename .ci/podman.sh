#!/usr/bin/env bash
# Make podman usable for the container tests on a Debian 12 CI machine without a Docker engine and
# without registry access. Source it: it exports CONTAINERS_CONF and CONTAINERS_STORAGE_CONF.
#   - installs podman, runc and debootstrap with apt when missing;
#   - runc instead of crun (crun fails on hybrid cgroup layouts), explicit ulimits (podman's default
#     nofile exceeds the hard limit root may set here);
#   - builds the local base image localhost/python-base:bookworm (minbase + python3, venv, pip) with
#     debootstrap when it is missing, since nothing can be pulled.
# Idempotent; about 90 s the first time on a fresh machine.
_kedro_mlops_podman() {
  local root=${PODMAN_SANDBOX_DIR:-/tmp/podman-sandbox} mirror
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null || return 1
  fi
  mkdir -p "$root/cfg" || return 1
  cat >"$root/cfg/storage.conf" <<EOC
[storage]
driver = "overlay"
graphroot = "$root/storage"
runroot = "$root/runroot"
EOC
  cat >"$root/cfg/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOC
  export CONTAINERS_STORAGE_CONF="$root/cfg/storage.conf" CONTAINERS_CONF="$root/cfg/containers.conf"
  if ! podman image exists localhost/python-base:bookworm; then
    mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
    rm -rf "$root/rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
      bookworm "$root/rootfs" "${mirror:-http://deb.debian.org/debian}" >"$root/debootstrap.log" 2>&1 \
      || { tail -5 "$root/debootstrap.log"; return 1; }
    rm -rf "$root"/rootfs/var/cache/apt/archives/*.deb "$root"/rootfs/var/lib/apt/lists/*
    tar --numeric-owner -C "$root/rootfs" -c . | podman import -q --change 'ENV LANG=C.UTF-8' \
      --change 'CMD ["python3"]' - localhost/python-base:bookworm >/dev/null || return 1
    rm -rf "$root/rootfs"
  fi
  echo "podman ready: $(podman --version), base image localhost/python-base:bookworm"
}
_kedro_mlops_podman
