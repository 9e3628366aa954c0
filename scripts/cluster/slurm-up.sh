#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for `make test-cluster`: munged, slurmctld and
# slurmd run as root with every file (key, sockets, state, logs, slurm.conf) under one
# folder, so nothing in /etc is touched and `slurm-down.sh FOLDER` removes it all.
#   scripts/cluster/slurm-up.sh FOLDER     then: export SLURM_CONF=FOLDER/slurm.conf
# The node declares this machine's cores and memory. Needs Debian's slurm-wlm and munge.
set -euo pipefail
dir=${1:?usage: slurm-up.sh FOLDER}
mkdir -p "$dir"/{ctld,spool,log}
dir=$(cd "$dir" && pwd)
for cmd in munged slurmctld slurmd sinfo; do
  command -v "$cmd" > /dev/null || { echo "slurm-up: $cmd not found (apt-get install slurm-wlm munge)" >&2; exit 1; }
done

# munge: its own key and socket; --force because it runs as root here.
[ -s "$dir/munge.key" ] || { head -c 1024 /dev/urandom > "$dir/munge.key"; chmod 400 "$dir/munge.key"; }
munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed"

host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > "$dir/slurm.conf" <<CONF
ClusterName=basin-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF

export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  state=$(sinfo -h -N -o '%t' 2>/dev/null | head -n 1 || true)
  case "$state" in idle*|mix*|alloc*) echo "slurm-up: node $host ($cpus CPUs, $mem_mb MB) $state; SLURM_CONF=$SLURM_CONF"; exit 0 ;; esac
  sleep 1
done
echo "slurm-up: node $host did not come up (state '${state:-none}'); logs in $dir/log" >&2
tail -n 5 "$dir"/log/*.log >&2 || true
exit 1
