#!/usr/bin/env bash
# Stops the one-node cluster that slurm-up.sh FOLDER started and removes FOLDER.
set -uo pipefail
dir=${1:?usage: slurm-down.sh FOLDER}
[ -d "$dir" ] || exit 0
if [ -f "$dir/slurm.conf" ]; then SLURM_CONF="$dir/slurm.conf" scancel --full --user root 2>/dev/null; fi
for pidfile in slurmd slurmctld munged; do
  pid=$(cat "$dir/$pidfile.pid" 2>/dev/null) || continue
  kill "$pid" 2>/dev/null
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null
done
rm -rf "$dir"
