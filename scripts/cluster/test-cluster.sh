#!/usr/bin/env bash
# `make test-cluster`: the pipeline on a real (one-node) Slurm cluster on this machine.
#  1. starts munged, slurmctld and slurmd (scripts/cluster/slurm-up.sh);
#  2. inside one allocation, runs a small study through `make CLUSTER=slurm`: pre-training,
#     ensemble members and a plane in 4 shard steps, merged;
#  3. computes the same plane locally in one step and compares the files byte for byte, and
#     checks that a member trained under Slurm has the bits of one trained locally;
#  4. kills a training step with kill -9 mid-way: slurm-step retries it, it resumes from its
#     resume checkpoint and ends with the bits of an uninterrupted run;
#  5. stops the cluster (also on failure).
# Prints `N passed, N failed` last; exits non-zero if any check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.build/release/basin}
[ -x "$BIN" ] || { echo "test-cluster: $BIN not built (make build)" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
work=$(mktemp -d /tmp/basin-cluster.XXXXXX)
slurm=$work/slurm
cleanup() { scripts/cluster/slurm-down.sh "$slurm"; rm -rf "$work"; }
trap cleanup EXIT
passed=0 failed=0
check() { # check NAME COMMAND...: one line per check
  if "${@:2}"; then echo "ok: $1"; passed=$((passed + 1)); else echo "FAILED: $1"; failed=$((failed + 1)); fi
}
params_of() { "$BIN" inspect --json "$1" 2>&1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["params_sha256"])' 2>/dev/null; }
same_params() { local a b; a=$(params_of "$1") && b=$(params_of "$2") && [ -n "$a" ] && [ "$a" = "$b" ]; }
seconds() { python3 -c 'import time; print(f"{time.time():.1f}")'; }

scripts/cluster/slurm-up.sh "$slurm" || exit 1
export SLURM_CONF=$slurm/slurm.conf
cpus=$(nproc)

# A small study on the default task: 2 pre-trainings, 2 members per method, one 5x5 plane.
runs=$work/runs
study=(PROFILE=demo RUNS="$runs" BIN="$BIN" PT_N=2 PT_PER_CLASS=100 PT_EPOCHS=1 FT_PER_CLASS=10 FT_EPOCHS=4 N=2
       PLANE_GRID=5 BN_IMAGES=100 EVAL_IMAGES=200 JOB_THREADS=1)
plane=$runs/planes/de.h5

echo "== the study under Slurm: $cpus tasks in one allocation, the plane in 4 shard steps"
t0=$(seconds)
salloc --quiet --ntasks="$cpus" --cpus-per-task=1 --no-kill \
  make --no-print-directory -j"$cpus" "${study[@]}" CLUSTER=slurm GRID_SHARDS=4 "$runs/global-de/member-2.h5" \
  "$runs/local-de/member-2.h5" > "$work/slurm-study.log" 2>&1
check "study steps ran under Slurm (make exit 0)" test $? -eq 0 || tail -n 30 "$work/slurm-study.log"
t1=$(seconds)
salloc --quiet --ntasks="$cpus" --cpus-per-task=1 --no-kill \
  make --no-print-directory -j"$cpus" "${study[@]}" CLUSTER=slurm GRID_SHARDS=4 "$plane" > "$work/slurm-plane.log" 2>&1
check "plane in 4 shard steps under Slurm, merged (make exit 0)" test $? -eq 0 || tail -n 30 "$work/slurm-plane.log"
t2=$(seconds)
check "one log per step in RUNS/logs" test "$(ls "$runs"/logs/*.log 2>/dev/null | wc -l)" -ge 8
check "each shard ran as a Slurm step" grep -q "planes-de.shard-3.h5" <(ls "$runs/logs")

echo "== the same plane locally, one step"
mv "$runs/planes" "$work/planes-slurm"
t3=$(seconds)
make --no-print-directory "${study[@]}" "$plane" > "$work/local-plane.log" 2>&1
check "local plane (make exit 0)" test $? -eq 0 || tail -n 30 "$work/local-plane.log"
t4=$(seconds)
check "sharded plane from Slurm is byte-identical to the local one" cmp "$work/planes-slurm/de.h5" "$plane"

echo "== a member trained under Slurm has the bits of one trained locally"
mkdir -p "$work/local-member"
"$BIN" ensemble local-de --from "$runs/pretrained/pt-0.h5" -n 2 --member 2 --classes 2,4,6,7,9 --per-class 10 \
  --data-seed 0 --epochs 4 --lr 0.02 --batch-size 32 --seed 0 --threads 1 --quiet --dataset /usr/share/datasets/fashion-mnist \
  --out-dir "$work/local-member" > "$work/local-member.log" 2>&1
check "Slurm member 2 == local member 2 (params_sha256)" same_params "$runs/local-de/member-2.h5" "$work/local-member/member-2.h5"

echo "== kill -9 of a training step mid-way: retried, resumed, same bits"
train=(ensemble local-de --from "$runs/pretrained/pt-0.h5" -n 3 --member 3 --classes 2,4,6,7,9 --per-class 20
       --data-seed 0 --epochs 12 --lr 0.02 --batch-size 32 --seed 0 --threads 1 --quiet --resume --checkpoint-every 3
       --dataset /usr/share/datasets/fashion-mnist)
for d in killed whole; do mkdir -p "$work/$d"; cp "$runs/local-de/member-1.h5" "$work/$d/"; done
"$BIN" "${train[@]}" --out-dir "$work/whole" > /dev/null 2>&1
SLURM_STEP_RETRY_DELAY=1 salloc --quiet --ntasks=1 --cpus-per-task=1 --no-kill \
  scripts/cluster/slurm-step --cpus 1 --retries 2 --name kill-test --log "$work/kill-test.log" -- \
  "$BIN" "${train[@]}" --out-dir "$work/killed" > /dev/null 2> "$work/kill-test.err" &
step=$!
killed=no
for _ in $(seq 600); do
  if [ -e "$work/killed/member-3.h5.resume.h5" ]; then
    # The basin process itself (the step's command), not salloc or slurm-step around it.
    pkill -9 -f -- "^$BIN ensemble .*--out-dir $work/killed" && killed=yes
    break
  fi
  sleep 0.1
done
wait "$step"; rc=$?
check "the step was killed with a resume checkpoint on disk" test "$killed" = yes
check "slurm-step retried the killed step to success (exit 0)" test "$rc" -eq 0
check "two attempts in the step's log" test "$(grep -c 'attempt 2/3' "$work/kill-test.log")" -eq 1
check "killed-and-resumed member == uninterrupted member (params_sha256)" \
  same_params "$work/killed/member-3.h5" "$work/whole/member-3.h5"
check "no resume file left" test ! -e "$work/killed/member-3.h5.resume.h5"

printf 'wall: study checkpoints under Slurm %.1f s; plane 4 shards under Slurm %.1f s; plane locally 1 step %.1f s\n' \
  "$(python3 -c "print($t1 - $t0)")" "$(python3 -c "print($t2 - $t1)")" "$(python3 -c "print($t4 - $t3)")"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
