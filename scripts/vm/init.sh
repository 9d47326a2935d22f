#!/bin/sh
# /init of the test bed's initramfs (busybox sh, pid 1). It mounts the
# filesystems, loads the stock kernel's modules, runs the host's command in
# /project with its output on the console between markers, dumps dmesg
# between markers of its own, and powers the guest off. The markers carry a
# token chosen by the host for this run (in /vm/env), so that nothing the
# command prints can pass for one.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=dumb
. /vm/env

say() { echo "vm-init: $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm

# Modules of this kernel, in dependency order (only the stock kernel has any).
rel=$(uname -r)
if [ -f "/lib/modules/$rel/load.order" ]; then
  while read -r m; do
    insmod "/lib/modules/$rel/$m.ko" || say "insmod $m failed"
  done < "/lib/modules/$rel/load.order"
fi

# vgem's card node appears asynchronously (devtmpfs): wait up to 5 s.
i=0
while ! ls /dev/dri/card* >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 50 ]; then say "no /dev/dri/card* after 5 s"; break; fi
  sleep 0.1
done

say "kernel $rel, $(nproc) cpus, up $(cut -d' ' -f1 /proc/uptime) s"
echo "@@vm:begin:$VM_TOKEN@@"
cd /project && sh /vm/run.sh </dev/null
status=$?
# The command's last line may lack its newline: the marker starts a line.
echo
echo "@@vm:end:$VM_TOKEN:$status@@"
echo "@@vm:dmesg:$VM_TOKEN@@"
dmesg
echo "@@vm:dmesg-end:$VM_TOKEN@@"
# Power off through ACPI where its interpreter runs (/sys/firmware/acpi: the
# stock kernel). The built kernel has ACPI only for its CPU table (no PCI,
# so the interpreter does not load) and would merely halt: it reboots, which
# qemu's -no-reboot turns into an exit.
if [ -d /sys/firmware/acpi ]; then poweroff -f; fi
reboot -f
