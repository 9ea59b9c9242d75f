#!/usr/bin/env bash
# A throwaway single-node Slurm (Debian's slurmctld, slurmd and munge) for the Slurm executor's test: no
# systemd, run as root, everything under /tmp/rooflaw-slurm.*. Installs the packages when missing.
#   source scripts/slurm.sh start   # exports ROOFLAW_TEST_SLURM=DIR (slurm.conf, the completion log)
#   scripts/slurm.sh stop           # stops the daemons by their own PIDs and removes the files
# Accounting is off (sacct then fails), so finished jobs are read from the job-completion log, as on a
# cluster without slurmdbd; the test's Slurm configuration names it.
set -euo pipefail

slurm_start() {
    if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
        echo "==> installing slurmctld, slurmd, slurm-client and munge (Debian)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "scripts/slurm.sh runs the daemons as root (SlurmUser=root); run it as root" >&2
        return 1
    fi
    # Another controller on the ports would answer in place of this one.
    if (exec 3<>/dev/tcp/127.0.0.1/6817) 2>/dev/null; then
        echo "port 6817 is taken (another slurmctld?): stop it first (scripts/slurm.sh stop stops the last one this script started)" >&2
        return 1
    fi
    local dir
    dir=$(mktemp -d /tmp/rooflaw-slurm.XXXXXX)
    chmod 755 "$dir"
    mkdir -p "$dir"/{state,spool,log,munge}
    # munge: a key owned by munge, its own socket and pid files.
    chown munge:munge "$dir/munge"
    mungekey --create --keyfile "$dir/munge/munge.key" >/dev/null 2>&1 || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
    chown munge:munge "$dir/munge/munge.key"
    chmod 400 "$dir/munge/munge.key"
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- munged --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
        --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" --force
    # The node as slurmd sees it (CPUs, sockets, cores, memory), under the name localhost.
    local node
    node=$(slurmd -C | head -1 | sed -e 's/^NodeName=[^ ]*/NodeName=localhost/' -e 's/ UpTime=.*//')
    cat >"$dir/slurm.conf" <<EOF
ClusterName=rooflaw-test
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=5
MinJobAge=600
ReturnToService=2
MpiDefault=none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
$node State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF="$dir/slurm.conf"
    slurmctld -D -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
    echo $! >"$dir/slurmctld.daemon"
    slurmd -D -N localhost -f "$SLURM_CONF" >"$dir/log/slurmd.out" 2>&1 &
    echo $! >"$dir/slurmd.daemon"
    local i
    for i in $(seq 1 100); do
        if sinfo --noheader --format=%T 2>/dev/null | grep -q '^idle'; then
            break
        fi
        sleep 0.2
    done
    if ! sinfo --noheader --format=%T 2>/dev/null | grep -q '^idle'; then
        echo "Slurm did not come up; its logs are in $dir/log" >&2
        tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
        return 1
    fi
    echo "$dir" >/tmp/rooflaw-slurm.current
    export ROOFLAW_TEST_SLURM="$dir"
    echo "==> Slurm on localhost (SLURM_CONF=$SLURM_CONF)"
}

slurm_stop() {
    local dir f
    dir=$(cat /tmp/rooflaw-slurm.current 2>/dev/null || true)
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    for f in slurmd.daemon slurmctld.daemon munge/munged.pid; do
        [ -f "$dir/$f" ] && kill "$(cat "$dir/$f")" 2>/dev/null || true
    done
    sleep 1
    for f in slurmd.daemon slurmctld.daemon munge/munged.pid; do
        [ -f "$dir/$f" ] && kill -9 "$(cat "$dir/$f")" 2>/dev/null || true
    done
    rm -rf "$dir" /tmp/rooflaw-slurm.current
}

case "${1:-}" in
    start) slurm_start ;;
    stop) slurm_stop ;;
    *) echo "usage: source scripts/slurm.sh start | scripts/slurm.sh stop" >&2; return 2 2>/dev/null || exit 2 ;;
esac
