#!/bin/sh
# Installs the Debian packages the lab and the tests need (idempotent, quiet).
# corosync + pacemaker: the real two-node cluster; crmsh: `crm ra info`; resource-agents: ocf-tester and the
# OCF DTD/RNG; libxml2-utils: xmllint; iproute2/nftables/util-linux: namespaces, veth, CRIU's network lock;
# python3: the lab's workload and client; socat: benchmark reference copies; debootstrap: the containers' root filesystem.
set -eu
PKGS="corosync pacemaker pacemaker-cli-utils crmsh resource-agents libxml2-utils iproute2 nftables util-linux procps python3 socat iputils-arping kmod e2fsprogs debootstrap"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# policy-rc.d keeps package scripts from starting corosync/pacemaker on the host itself
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends $missing >/dev/null
