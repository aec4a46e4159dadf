#!/usr/bin/env bash
# A private single-node Slurm (munged + slurmctld + slurmd) in one folder, for tests.
# Facts behind it: ../shared/notes/SLURM.md. Source it, then
#   cluster_up DIR [CPUS]   start the daemons; exports SLURM_CONF; waits for an idle node
#   cluster_down DIR        kill the jobs left in it, then stop exactly the daemons
#                           started in DIR, by their PID files
# cluster_up returns 77 with the reason on stderr when this machine cannot run Slurm.

cluster_can_run() {
    [ "$(id -u)" -eq 0 ] || { echo "not root: slurmd must run as root to launch jobs"; return 1; }
    local b
    for b in munged slurmctld slurmd sbatch scontrol sinfo; do
        command -v "$b" >/dev/null || { echo "$b not installed (scripts/deps.sh test)"; return 1; }
    done
}

cluster_up() {
    local dir=$1 cpus=${2:-} why node
    why=$(cluster_can_run) || { echo "$why" >&2; return 77; }
    node=$(hostname -s)
    mkdir -p "$dir"/{munge,state,spool,log,run}
    chmod 700 "$dir"
    chmod 755 "$dir/munge" # munged refuses a socket folder others cannot enter
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge/munge.key"
    munged --force --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/munged.seed" || { echo "munged did not start" >&2; return 1; }

    # The node as slurmd sees it; config_overrides lets it claim more CPUs than it has.
    local line
    line=$(slurmd -C | head -n 1)
    [ -n "$cpus" ] && line=$(sed -E "s/CPUs=[0-9]+/CPUs=$cpus/; s/Boards=[^ ]+ //; \
        s/SocketsPerBoard=[0-9]+/SocketsPerBoard=1/; s/CoresPerSocket=[0-9]+/CoresPerSocket=$cpus/; \
        s/ThreadsPerCore=[0-9]+/ThreadsPerCore=1/" <<< "$line")
    local proctrack=proctrack/pgid
    if mkdir "/sys/fs/cgroup/freezer/aesweep-probe.$$" 2>/dev/null; then
        rmdir "/sys/fs/cgroup/freezer/aesweep-probe.$$"
        proctrack=proctrack/cgroup
        # slurmd leaves its cgroup folder behind: cluster_down removes it if it is new.
        [ -e "/sys/fs/cgroup/freezer/slurm_$node" ] || touch "$dir/run/new-freezer-cgroup"
        cat > "$dir/cgroup.conf" <<CONF
CgroupPlugin=cgroup/v1
CgroupAutomount=no
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
ConstrainSwapSpace=no
CONF
    fi
    cat > "$dir/slurm.conf" <<CONF
ClusterName=aesweeptest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${SLURM_TEST_PORT:-16817}
SlurmdPort=$(( ${SLURM_TEST_PORT:-16817} + 1 ))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=$proctrack
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
SlurmdParameters=config_overrides
SchedulerParameters=sched_interval=1
$line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF=$dir/slurm.conf
    slurmctld -f "$SLURM_CONF" || { echo "slurmctld did not start: $dir/log/slurmctld.log" >&2; return 1; }
    slurmd -f "$SLURM_CONF" || { echo "slurmd did not start: $dir/log/slurmd.log" >&2; return 1; }
    local i
    for i in $(seq 100); do
        [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && return 0
        sleep 0.1
    done
    echo "the node never became idle: $(sinfo 2>&1); see $dir/log" >&2
    return 1
}

cluster_down() {
    local dir=$1 d pid ids
    # Jobs first: their slurmstepd processes outlive slurmd.
    if [ -f "$dir/slurm.conf" ]; then
        ids=$(SLURM_CONF=$dir/slurm.conf squeue -h -o %i 2>/dev/null) || ids=""
        if [ -n "$ids" ]; then
            SLURM_CONF=$dir/slurm.conf scancel --full --signal=KILL $ids 2>/dev/null || true
            SLURM_CONF=$dir/slurm.conf scancel $ids 2>/dev/null || true
            for _ in $(seq 100); do
                [ -z "$(SLURM_CONF=$dir/slurm.conf squeue -h 2>/dev/null)" ] && break
                sleep 0.1
            done
        fi
    fi
    for d in slurmd slurmctld munged; do
        pid=$(cat "$dir/run/$d.pid" 2>/dev/null) || continue
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ -e "$dir/run/new-freezer-cgroup" ]; then
        find "/sys/fs/cgroup/freezer/slurm_$(hostname -s)" -depth -type d -exec rmdir {} + 2>/dev/null || true
    fi
}
