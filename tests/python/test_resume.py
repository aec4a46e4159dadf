"""Never lose work (SPEC §2, §5, §6; issue 5), checked with real processes.

A small random search (tests/python/jobs/resume_small.json: 6 trials x 2 folds,
about half a second a task) runs under `mpirun -np 3 --oversubscribe` (rank 0
coordinates, two workers). It is killed with SIGKILL at several instants,
stopped with SIGUSR1, SIGTERM and a double SIGINT, its files are truncated, its
job is changed, its disk fills up; each time a rerun into the same folder must
end with a results.h5 identical to the uninterrupted run's but for `seconds`
and `rank` (tests/mpi/compare.py), without retraining a task that was durable.

The figures (tasks retrained per kill, time from signal to exit, cost of a
durable task file) are printed (pytest -s) and written to
$TEST_TMP/resume_figures.txt.

Run with /usr/bin/python3 -m pytest. Environment: AESWEEP (the binary),
FASHION_DIR (the IDX folder), TEST_TMP (scratch folder), AESWEEP_SRC (the
source tree, for the job file and compare.py).
"""
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import threading
import time
from pathlib import Path

import h5py
import pytest

from jobsets import set_args

SRC = Path(os.environ.get("AESWEEP_SRC", Path(__file__).resolve().parents[2]))
AESWEEP = os.environ.get("AESWEEP", "/work/main/build/aesweep")
DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"
FASHION_DIR = os.environ.get("FASHION_DIR", DEBIAN_FASHION)
TEST_TMP = Path(os.environ.get("TEST_TMP", "/tmp/aesweep_test"))
TMP = TEST_TMP / "resume"
FIGURES_FILE = TEST_TMP / "resume_figures.txt"
JOB = SRC / "tests" / "python" / "jobs" / "resume_small.json"
COMPARE = SRC / "tests" / "mpi" / "compare.py"
MPIRUN = shutil.which("mpirun")
# Open MPI refuses root without the first two; CI containers run as root.
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1")
RANKS = 3
WORKERS = RANKS - 1
SETS = [] if os.path.realpath(FASHION_DIR) == DEBIAN_FASHION else [f"data.path={FASHION_DIR}"]

_spec = json.loads(JOB.read_text())
FOLDS = _spec["search"]["folds"]
TOTAL = _spec["search"]["trials"] * FOLDS  # tasks of the search

PROGRESS = re.compile(r"^(?:\r\x1b\[K)?\[(\d+)/(\d+)\]", re.M)
RESUMING = re.compile(r"aesweep: resuming: (\d+) finished tasks? on disk, (\d+) incomplete "
                      r"files? removed")
TRAINED = re.compile(r"(\d+) tasks? trained, (\d+) kept from their files; a task file took "
                     r"([0-9.]+) ms to write and sync on average")
TASK_NAME = re.compile(r"^t\d{6}_f\d{2}\.h5$")

pytestmark = [
    pytest.mark.skipif(MPIRUN is None, reason="no mpirun on PATH"),
    pytest.mark.skipif(not (Path(FASHION_DIR) / "train-images-idx3-ubyte.gz").is_file()
                       and not (Path(FASHION_DIR) / "train-images-idx3-ubyte").is_file(),
                       reason=f"no Fashion-MNIST under {FASHION_DIR}"),
]

FIGURES = {"write_ms": []}


# ---- processes ------------------------------------------------------------------------


def run_cmd(out, *extra, job=JOB):
    return [MPIRUN, "-np", str(RANKS), "--oversubscribe", AESWEEP, "run", str(job), "--out",
            str(out), *set_args(SETS), *map(str, extra)]


def session_pids(sid):
    """Live processes of a session (mpirun started with start_new_session: its pid)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # state ppid pgrp session ...
        if int(fields[3]) == sid and fields[0] not in "ZX":
            pids.append(int(d))
    return pids


class Live:
    """mpirun running `aesweep run` in a session of its own; stderr (stdout merged)
    collected by a thread, with the arrival time of every line."""

    def __init__(self, out, *extra, prefix=(), job=JOB):
        self.out = Path(out)
        self.lines = []
        self.t0 = time.monotonic()
        self.p = subprocess.Popen([*prefix, *run_cmd(out, *extra, job=job)], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  env=ENV, start_new_session=True)
        self.sid = self.p.pid
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stderr if self.p.stderr else self.p.stdout:
            self.lines.append((time.monotonic(), line))

    @property
    def stderr(self):
        return "".join(line for _, line in list(self.lines))

    def done(self):
        """Tasks finished so far, by the last progress line."""
        counts = [int(m.group(1)) for m in PROGRESS.finditer(self.stderr)]
        return max(counts, default=0)

    def wait_for(self, what, pred, timeout=120):
        deadline = time.monotonic() + timeout
        while not pred():
            if self.p.poll() is not None:
                self.reader.join(5)
                if pred():
                    return
                pytest.fail(f"mpirun exited ({self.p.returncode}) before {what}:\n{self.stderr}")
            if time.monotonic() > deadline:
                self.kill9()
                pytest.fail(f"no {what} within {timeout} s:\n{self.stderr}")
            time.sleep(0.005)

    def kill9(self):
        """SIGKILL to every process of the run at once: mpirun and the ranks. (Open MPI
        4.1 gives every rank a process group of its own, so killpg(mpirun's group)
        would kill mpirun alone and leave the ranks running: the whole session is
        the job.)"""
        for _ in range(200):
            pids = session_pids(self.sid)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
        self.p.wait(30)
        self.reader.join(10)

    def wait(self, timeout=180):
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            pytest.fail(f"mpirun still running after {timeout} s:\n{self.stderr}")
        self.reader.join(10)
        return rc

    def wait_gone(self, timeout=15):
        """Until no rank of the run is left (mpirun may exit before its ranks)."""
        deadline = time.monotonic() + timeout
        while session_pids(self.sid):
            if time.monotonic() > deadline:
                left = session_pids(self.sid)
                self.kill9()
                pytest.fail(f"ranks {left} still alive {timeout} s after mpirun:\n{self.stderr}")
            time.sleep(0.02)


class Finished:
    def __init__(self, rc, stderr, seconds):
        self.rc, self.stderr, self.seconds = rc, stderr, seconds


def run_to_end(out, *extra, prefix=(), timeout=180, job=JOB):
    live = Live(out, *extra, prefix=prefix, job=job)
    try:
        rc = live.wait(timeout)
        live.wait_gone()
    finally:
        live.kill9()
    return Finished(rc, live.stderr, time.monotonic() - live.t0)


# ---- files ----------------------------------------------------------------------------


class Summary:
    """What a run says about its resume: tasks found on disk, incomplete files
    removed, tasks trained, tasks kept, mean ms to write and sync a task file."""

    def __init__(self, stderr):
        m = RESUMING.search(stderr)
        self.found, self.discarded = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        m = TRAINED.search(stderr)
        self.trained, self.kept = (int(m.group(1)), int(m.group(2))) if m else (0, None)
        self.write_ms = float(m.group(3)) if m else None
        if self.write_ms is not None:
            FIGURES["write_ms"].append((self.trained, self.write_ms))

    def __repr__(self):
        return (f"found {self.found}, discarded {self.discarded}, trained {self.trained}, "
                f"kept {self.kept}, {self.write_ms} ms/file")


def fanned_out(out, trial, fold, folds=FOLDS, ext="h5"):
    """Where the README's layout puts a task's file: OUT/tasks/AAA/BBB/ by its task
    number i = trial * folds + fold (AAA = i // 10**6, BBB = i // 1000 % 1000)."""
    i = trial * folds + fold
    return (Path(out) / "tasks" / f"{i // 10**6 % 1000:03d}" / f"{i // 1000 % 1000:03d}" /
            f"t{trial:06d}_f{fold:02d}.{ext}")


def task_files(out, folds=FOLDS):
    """The task files under out, each checked to be where the layout puts it."""
    d = Path(out) / "tasks"
    found = sorted(p for p in d.rglob("*") if TASK_NAME.match(p.name)) if d.is_dir() else []
    for p in found:
        trial, fold = int(p.name[1:7]), int(p.name[9:11])
        assert p == fanned_out(out, trial, fold, folds), f"{p} is not in its folder"
    return found


def temp_files(out):
    return sorted(p for p in Path(out).rglob("*") if ".tmp." in p.name)


def check_task_file(path):
    """A durable task file opens with h5py and holds a whole task."""
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "aesweep-model", path
        assert "model" in f and "layer_00" in f["model"], path
        assert f["curve"].shape[1] == 3, path
        assert len(f.attrs["job_sha256"]) == 64, path


def durable_files(out):
    """The task files in out, each checked whole and readable."""
    on_disk = task_files(out)
    for p in on_disk:
        check_task_file(p)
    return on_disk


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tree_digest(folder):
    return {p.relative_to(folder): digest(p) for p in sorted(Path(folder).rglob("*"))
            if p.is_file()}


def identical(reference, out):
    """compare.py: the results files are bit-identical but for seconds and rank."""
    r = subprocess.run(["/usr/bin/python3", str(COMPARE), str(reference),
                        str(Path(out) / "results.h5")], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, f"not identical to the uninterrupted run:\n{r.stdout}{r.stderr}"


def status_of(out):
    with h5py.File(Path(out) / "results.h5", "r") as f:
        return f.attrs["status"]


def resume_identical(reference, out, *extra, found=None):
    """Reruns the job into out; it must complete as the uninterrupted run did, and
    (found given) take exactly that many finished tasks from disk."""
    r = run_to_end(out, *extra)
    assert r.rc == 0, f"resume failed ({r.rc}):\n{r.stderr}"
    s = Summary(r.stderr)
    if found is not None:
        assert s.found == found, f"{s}; {found} task files were on disk\n{r.stderr}"
    identical(reference, out)
    assert status_of(out) == "complete"
    assert not temp_files(out), f"temporary files left after a complete run: {temp_files(out)}"
    # Every task is trained or kept, never both; what was on disk is not retrained.
    assert s.trained == TOTAL - s.found, f"{s}\n{r.stderr}"
    if s.trained:
        assert s.kept == s.found, f"{s}\n{r.stderr}"
    return r, s


def figure(line):
    print(f"\n[figure] {line}", flush=True)
    FIGURES.setdefault("lines", []).append(line)


# ---- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def figures_file():
    yield
    lines = list(FIGURES.get("lines", []))
    if FIGURES["write_ms"]:
        total = sum(n for n, _ in FIGURES["write_ms"])
        mean = sum(n * ms for n, ms in FIGURES["write_ms"]) / total
        lines.append(f"durable task file (write + fsync + rename + folder fsync): {mean:.1f} ms "
                     f"per task on average over {total} trained tasks in "
                     f"{len(FIGURES['write_ms'])} runs")
    if lines:
        TEST_TMP.mkdir(parents=True, exist_ok=True)
        FIGURES_FILE.write_text("\n".join(lines) + "\n")
        print("\n" + "\n".join(lines))


@pytest.fixture(scope="module")
def reference():
    """The uninterrupted run: OUT/results.h5, and its bytes' digest."""
    shutil.rmtree(TMP, ignore_errors=True)
    TMP.mkdir(parents=True)
    out = TMP / "reference"
    r = run_to_end(out)
    assert r.rc == 0, f"uninterrupted run failed ({r.rc}):\n{r.stderr}"
    assert status_of(out) == "complete"
    assert len(task_files(out)) == TOTAL and (out / "tasks" / "best.h5").is_file()
    s = Summary(r.stderr)
    assert s.trained == TOTAL and s.found == 0, s
    figure(f"uninterrupted run: {TOTAL} tasks in {r.seconds:.1f} s under mpirun -np {RANKS}; "
           f"a task file took {s.write_ms} ms to write and sync")
    path = out / "results.h5"
    before = digest(path)
    yield path
    # Nothing any later test did touched a finished run's files in another folder.
    assert digest(path) == before, "the reference results.h5 changed"


# ---- kill -9 ----------------------------------------------------------------------------


@pytest.mark.parametrize("instant", ["start", "some", "most", "refit"])
def test_kill9_then_resume_is_identical(reference, instant):
    """SIGKILL to mpirun and every rank at once, then the same command again."""
    out = TMP / f"kill9_{instant}"
    live = Live(out)
    try:
        if instant == "start":  # the search has begun: results.h5 is there, 0 tasks done
            live.wait_for("the start line", lambda: "aesweep run:" in live.stderr)
        elif instant == "some":
            live.wait_for("4 tasks", lambda: live.done() >= 4)
        elif instant == "most":
            live.wait_for(f"{TOTAL - WORKERS} tasks", lambda: live.done() >= TOTAL - WORKERS)
        else:  # the last task is in: rank 0 has handed out the refit
            live.wait_for("the last task", lambda: live.done() >= TOTAL)
        seen = live.done()
    finally:
        live.kill9()
    assert live.p.returncode == -signal.SIGKILL, live.stderr
    on_disk = durable_files(out)
    temps = temp_files(out)
    assert len(on_disk) >= seen, "a task reported done is not on disk"
    if instant == "refit":
        assert "best:" not in live.stderr and not (out / "tasks" / "best.h5").exists(), \
            "the kill came after the refit"
        assert len(on_disk) == TOTAL

    r, s = resume_identical(reference, out, found=len(on_disk))
    assert s.discarded == len([p for p in temps if "tasks" in p.relative_to(out).parts]), \
        (s, temps)
    # Retrained = tasks that were being trained at the kill, lost with it. While
    # tasks remain, each worker trains exactly one: at most WORKERS of them.
    in_flight = min(WORKERS, TOTAL - len(on_disk))
    assert s.trained <= TOTAL - seen
    if instant == "most":
        assert s.trained <= WORKERS, s
    if instant == "refit":
        assert s.trained == 0 and "best:" in r.stderr, r.stderr
        in_flight = 1  # the refit
    figure(f"kill -9 at '{instant}': {seen} progress lines seen, {len(on_disk)} task files "
           f"durable, {len(temps)} temporary files; the resume trained {s.trained} "
           f"(never started + at most {in_flight} in flight lost"
           f"{', the refit' if instant == 'refit' else ''}), kept {s.found}; "
           f"{r.seconds:.1f} s")


# ---- signals ----------------------------------------------------------------------------


def watch_while_running(out, seen):
    """The file a run holds open (under HDF5's lock) can be watched meanwhile: with
    `aesweep info`, and with h5py when it leaves the lock alone. Rows reach the file in
    batches flushed at least every second: every result whose progress line was seen
    shows up within a second or so (30 s allowed, for a loaded machine)."""
    deadline = time.monotonic() + 30
    while True:
        r = subprocess.run([AESWEEP, "info", out / "results.h5"], env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        m = re.search(r"^folds: +(\d+) done", r.stdout, re.M)
        if (r.returncode == 0 and m and int(m.group(1)) >= seen) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^status: +running$", r.stdout, re.M), r.stdout
    assert int(m.group(1)) >= seen, r.stdout
    with h5py.File(out / "results.h5", "r", locking=False) as f:
        assert f.attrs["status"] == "running"
        assert len(f["folds"]) >= seen


def test_sigusr1_exits_3_interrupted_then_resumes(reference):
    out = TMP / "usr1"
    live = Live(out)
    try:
        live.wait_for("4 tasks", lambda: live.done() >= 4)
        seen = live.done()
        watch_while_running(out, seen)
        t = time.monotonic()
        live.p.send_signal(signal.SIGUSR1)
        rc = live.wait(60)
        dt = time.monotonic() - t
        live.wait_gone()
    finally:
        live.kill9()
    assert rc == 3, f"SIGUSR1: exit {rc}, not 3:\n{live.stderr}"
    assert dt < 10, f"{dt:.1f} s from SIGUSR1 to exit"
    assert "interrupted" in live.stderr
    assert status_of(out) == "interrupted"
    on_disk = durable_files(out)
    assert len(on_disk) >= seen and len(on_disk) < TOTAL
    with h5py.File(out / "results.h5", "r") as f:  # what was done is in results.h5 too
        assert len(f["folds"]) >= seen
    r, s = resume_identical(reference, out, "--resume", found=len(on_disk))
    figure(f"SIGUSR1 to mpirun after {seen} tasks: exit 3 after {dt:.2f} s; "
           f"{len(on_disk)} tasks durable; the resume trained {s.trained}")


def test_sigterm_damages_nothing_then_resumes(reference):
    """mpirun passes SIGTERM to the ranks, exits 1 and kills them a second later."""
    out = TMP / "term"
    live = Live(out)
    try:
        live.wait_for("4 tasks", lambda: live.done() >= 4)
        seen = live.done()
        t = time.monotonic()
        live.p.send_signal(signal.SIGTERM)
        rc = live.wait(60)
        dt = time.monotonic() - t
        live.wait_gone()
        gone = time.monotonic() - t
    finally:
        live.kill9()
    assert rc != 0, live.stderr
    on_disk = durable_files(out)
    assert len(on_disk) >= seen
    try:
        state = f"results.h5 readable, status {status_of(out)}"
    except OSError as exc:  # allowed: it is rebuilt from the task files
        state = f"results.h5 unreadable ({exc})"
    r, s = resume_identical(reference, out, found=len(on_disk))
    figure(f"SIGTERM to mpirun after {seen} tasks: mpirun exit {rc} after {dt:.2f} s, ranks "
           f"gone after {gone:.2f} s; {state}; {len(on_disk)} tasks durable; the resume "
           f"trained {s.trained}")


def test_second_sigint_leaves_at_once_then_resumes(reference):
    """Two SIGINTs straight to every rank (an impatient ^C): out at once, nothing damaged."""
    out = TMP / "int2"
    live = Live(out)
    try:
        live.wait_for("4 tasks", lambda: live.done() >= 4)
        ranks = [pid for pid in session_pids(live.sid) if pid != live.p.pid]
        assert len(ranks) == RANKS, ranks
        for pid in ranks:
            os.kill(pid, signal.SIGINT)
        time.sleep(0.05)
        t = time.monotonic()
        for pid in ranks:
            os.kill(pid, signal.SIGINT)
        while set(ranks) & set(session_pids(live.sid)) and time.monotonic() - t < 30:
            time.sleep(0.005)
        ranks_gone = time.monotonic() - t
        # Open MPI's mpirun, whose ranks died of a signal it did not send, has been
        # seen (once, on a loaded machine) to hang after printing its abort notice.
        # In a terminal the ^C reaches mpirun too; here it gets it only if it is
        # still there after 20 s, and must then go.
        try:
            rc = live.p.wait(20)
            nudged = ""
        except subprocess.TimeoutExpired:
            live.p.send_signal(signal.SIGINT)
            rc = live.wait(30)
            nudged = "; mpirun needed a SIGINT of its own to exit"
        live.wait_gone()
        dt = time.monotonic() - t
    finally:
        live.kill9()
    assert rc != 0, live.stderr
    assert ranks_gone < 1, f"{ranks_gone:.2f} s from the second SIGINT until the ranks left"
    on_disk = durable_files(out)
    r, s = resume_identical(reference, out, found=len(on_disk))
    figure(f"second SIGINT to every rank: ranks gone after {ranks_gone:.3f} s, mpirun exit {rc} "
           f"after {dt:.2f} s{nudged}; {len(on_disk)} tasks durable; the resume trained "
           f"{s.trained}")


def test_kill9_mpirun_alone_then_resume(reference):
    """`kill -9 <mpirun pid>` (or killpg of its group): Open MPI 4.1 puts every rank
    in a process group of its own, so the ranks outlive mpirun for a moment. They
    must go by themselves, and a rerun resumes as after any kill."""
    out = TMP / "kill9_mpirun"
    live = Live(out)
    try:
        live.wait_for("4 tasks", lambda: live.done() >= 4)
        seen = live.done()
        os.killpg(live.p.pid, signal.SIGKILL)
        t = time.monotonic()
        live.p.wait(30)
        live.wait_gone(timeout=30)
        orphans = time.monotonic() - t
    finally:
        live.kill9()
    on_disk = durable_files(out)
    assert len(on_disk) >= seen
    r, s = resume_identical(reference, out, found=len(on_disk))
    figure(f"kill -9 of mpirun's process group alone after {seen} tasks: the ranks left "
           f"{orphans:.2f} s later, {len(on_disk)} task files durable; the resume trained "
           f"{s.trained}")


# ---- checkpoints inside a task (issue 17) -------------------------------------------------
#
# tests/python/jobs/resume_checkpoint.json: 2 trials of 8 epochs (dropout, input noise,
# a cosine schedule: every random stream and the schedule's position matter), one
# checkpoint per epoch. The run is frozen (SIGSTOP to every process) while a task's
# checkpoint is on disk, then killed; the rerun must go on from that checkpoint's epoch
# and end with the uninterrupted run's results.h5.

CKPT_JOB = SRC / "tests" / "python" / "jobs" / "resume_checkpoint.json"
CKPT_TOTAL = json.loads(CKPT_JOB.read_text())["search"]["trials"]
CKPT_NAME = re.compile(r"^t(\d{6})_f(\d{2})\.ckpt$")
FROM_CKPT = re.compile(r"trial (\d+) fold (\d+) ok \(from its checkpoint at epoch (\d+)\)")
CHECKPOINTS = re.compile(r"(\d+) checkpoints? written \(([0-9.]+) MB each, ([0-9.]+) ms to write "
                         r"and sync on average\); (\d+) tasks? went on from a checkpoint")


@pytest.fixture(scope="module")
def ckpt_reference():
    out = TMP / "ckpt_reference"
    shutil.rmtree(out, ignore_errors=True)
    r = run_to_end(out, job=CKPT_JOB)
    assert r.rc == 0, f"uninterrupted run failed ({r.rc}):\n{r.stderr}"
    m = CHECKPOINTS.search(r.stderr)
    assert m, r.stderr
    # one per epoch of each task (patience 0: every task runs all 8), none kept
    assert int(m.group(1)) == 8 * CKPT_TOTAL and int(m.group(4)) == 0, r.stderr
    assert not list((out / "tasks").rglob("*.ckpt")), "checkpoints left after a complete run"
    figure(f"checkpoint of the 784-256-16 job: {m.group(2)} MB, {m.group(3)} ms to write and "
           f"sync on average")
    return out / "results.h5"


def signal_all(live, sig):
    for pid in session_pids(live.sid):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def frozen_with_checkpoints(live, timeout=120):
    """Freezes the run at a moment when some task's checkpoint is on disk and its task
    file is not (the task is running); returns {(trial, fold): epoch} of those
    checkpoints, read from their headers (the epoch is the int32 at byte 100)."""
    deadline = time.monotonic() + timeout
    tasks = Path(live.out) / "tasks"
    while time.monotonic() < deadline:
        live.wait_for("a checkpoint", lambda: tasks.is_dir() and any(
            CKPT_NAME.match(p.name) for p in tasks.rglob("*.ckpt")), timeout=timeout)
        signal_all(live, signal.SIGSTOP)
        time.sleep(0.1)  # every process has stopped
        found = {}
        for p in tasks.rglob("*.ckpt"):
            m = CKPT_NAME.match(p.name)
            if m and not p.with_suffix(".h5").exists():
                data = p.read_bytes()
                found[(int(m.group(1)), int(m.group(2)))] = (p, struct.unpack_from("<i", data, 100)[0])
        if found:
            return found
        signal_all(live, signal.SIGCONT)  # the task ended in between: try the next
    pytest.fail(f"never caught a running task's checkpoint:\n{live.stderr}")


def killed_with_checkpoints(out):
    shutil.rmtree(out, ignore_errors=True)
    live = Live(out, job=CKPT_JOB)
    try:
        found = frozen_with_checkpoints(live)
    finally:
        live.kill9()
    assert all(1 <= epoch <= 8 for _, epoch in found.values()), found
    return found


def resume_checkpointed(reference, out):
    r = run_to_end(out, job=CKPT_JOB)
    assert r.rc == 0, f"resume failed ({r.rc}):\n{r.stderr}"
    identical(reference, out)
    assert not list((Path(out) / "tasks").rglob("*.ckpt")), "checkpoints left after the resume"
    assert not temp_files(out), temp_files(out)
    return r


def test_kill9_resumes_running_tasks_from_their_checkpoints(ckpt_reference):
    out = TMP / "ckpt_kill9"
    found = killed_with_checkpoints(out)
    r = resume_checkpointed(ckpt_reference, out)
    went_on = {(int(t), int(f)): int(ep) for t, f, ep in FROM_CKPT.findall(r.stderr)}
    want = {task: epoch for task, (_, epoch) in found.items()}
    assert went_on == want, f"on disk {found}, went on from {went_on}:\n{r.stderr}"
    m = CHECKPOINTS.search(r.stderr)
    assert m and int(m.group(4)) == len(found), r.stderr
    figure(f"kill -9 with checkpoints at {sorted(want.items())}: the resume went on from "
           f"them; results.h5 identical")


@pytest.mark.parametrize("damage", ["flipped", "truncated", "other_task", "epoch"])
def test_damaged_checkpoint_is_not_loaded(ckpt_reference, damage):
    """A checkpoint that is not this task's whole checkpoint trains from epoch 0, says
    why, and the results are still the uninterrupted run's."""
    out = TMP / f"ckpt_{damage}"
    found = killed_with_checkpoints(out)
    for (trial, fold), (path, _) in found.items():
        data = bytearray(path.read_bytes())
        if damage == "flipped":
            data[len(data) // 2] ^= 0x10
        elif damage == "truncated":
            del data[-1000:]
        elif damage == "other_task":  # the header says trial + 1
            struct.pack_into("<i", data, 88, trial + 1)
        else:  # the header's epoch count: covered by the checksum too
            struct.pack_into("<i", data, 100, 1 + struct.unpack_from("<i", data, 100)[0])
        path.write_bytes(bytes(data))
    why = {"flipped": "damaged (its checksum does not match)", "truncated": "truncated",
           "other_task": "another task's checkpoint",
           "epoch": "damaged (its checksum does not match)"}[damage]
    r = resume_checkpointed(ckpt_reference, out)
    assert not FROM_CKPT.search(r.stderr), r.stderr
    for trial, fold in found:
        assert re.search(rf"trial {trial} fold {fold} trains from epoch 0: .*t{trial:06d}_f"
                         rf"{fold:02d}\.ckpt: .*{re.escape(why)}", r.stderr), r.stderr


# ---- damaged files ---------------------------------------------------------------------


def test_truncated_files_are_repaired(reference):
    out = TMP / "truncated"
    shutil.copytree(reference.parent, out)
    results = out / "results.h5"
    with open(results, "r+b") as f:
        f.truncate(results.stat().st_size // 2)
    victim = fanned_out(out, 3, 1)
    with open(victim, "r+b") as f:
        f.truncate(100)
    # and a write that never finished
    fanned_out(out, 4, 0, ext="h5.tmp.99999").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(500))
    r, s = resume_identical(reference, out, "--resume")
    assert re.search(r"resuming: \d+ finished tasks on disk, [1-9]\d* incomplete files? removed",
                     r.stderr), r.stderr
    assert (s.found, s.discarded, s.trained) == (TOTAL - 1, 2, 1), f"{s}\n{r.stderr}"
    check_task_file(victim)


def test_older_flat_layout_resumes(reference):
    """A folder written before task files fanned out (all of them, and checkpoints, in
    OUT/tasks itself) resumes: they move into their folders and none is retrained;
    so does one whose move was cut short (some files moved, some not)."""
    out = TMP / "flat_layout"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(reference.parent, out)
    files = task_files(out)
    for p in files[-2:] + [out / "tasks" / "best.h5"]:  # an interrupted older run
        p.unlink()
    flat = files[:-3]  # one stays where it is now: the move was cut short
    for p in flat:
        p.rename(out / "tasks" / p.name)
    (out / "tasks" / "t000099_f00.ckpt").write_bytes(b"an old checkpoint nobody reads")
    r, s = resume_identical(reference, out, found=len(files) - 2)
    assert f"{len(flat) + 1} files of an older layout moved" in r.stderr, r.stderr
    assert s.trained == 2, s
    assert len(task_files(out)) == TOTAL  # each in its folder (task_files checks)
    assert fanned_out(out, 99, 0, ext="ckpt").is_file()
    assert sorted(p.name for p in (out / "tasks").iterdir() if p.is_file()) == ["best.h5"]


# ---- another job -----------------------------------------------------------------------


def validate(out, *extra):
    return subprocess.run([AESWEEP, "validate", str(JOB), "--out", str(out),
                           *set_args(SETS), *extra], capture_output=True, text=True, env=ENV,
                          timeout=30)


def test_changed_job_refused_then_fresh_keeps_old(reference):
    out = TMP / "changed"
    shutil.copytree(reference.parent, out)
    before = tree_digest(out)
    # validate says beforehand what run will do with the folder, and touches nothing.
    v = validate(out)
    assert v.returncode == 0 and f"(resumes: {TOTAL} task files there)" in v.stdout, v.stdout
    v = validate(out, "--set", "seed=9")
    assert v.returncode == 2, f"validate of another job's folder: exit {v.returncode}"
    assert str(out / "results.h5") in v.stderr and "--fresh" in v.stderr, v.stderr
    v = validate(out, "--set", "seed=9", "--fresh")
    assert v.returncode == 0 and "moved aside" in v.stdout, v.stdout + v.stderr
    assert tree_digest(out) == before, "validate changed the folder"
    r = run_to_end(out, "--set", "seed=9", timeout=20)
    assert r.rc == 2, f"another job into a used folder: exit {r.rc}\n{r.stderr}"
    assert str(out / "results.h5") in r.stderr and "--fresh" in r.stderr, r.stderr
    assert tree_digest(out) == before, "the refused run changed the folder"

    # --fresh: the old run goes aside whole; the new one starts over.
    changed = ["--set", "seed=9", "--set", "search.trials=2"]
    r = run_to_end(out, "--fresh", *changed)
    assert r.rc == 0, r.stderr
    old = Path(f"{out}.old.1")
    assert str(old) in r.stderr, r.stderr
    assert tree_digest(old) == before, f"{old} is not the earlier run, byte for byte"
    identical(reference, old)
    with h5py.File(out / "results.h5", "r") as f, h5py.File(reference, "r") as g:
        assert f.attrs["status"] == "complete"
        assert f.attrs["job_sha256"] != g.attrs["job_sha256"]
        assert len(f["trials"]) == 2 and len(f["folds"]) == 4
    s = Summary(r.stderr)
    assert s.found == 0 and s.trained == 4, s
    # The new run's own rerun is a resume, not a refusal.
    r = run_to_end(out, *changed)
    assert r.rc == 0 and Summary(r.stderr).found == 4, r.stderr


def test_other_jobs_task_files_without_results_refused(reference):
    """results.h5 unreadable: the task files tell whose folder it is."""
    out = TMP / "changed_tasks"
    shutil.copytree(reference.parent, out)
    with open(out / "results.h5", "r+b") as f:
        f.truncate(1000)
    before = tree_digest(out)
    r = run_to_end(out, "--set", "seed=9", timeout=20)
    assert r.rc == 2, f"exit {r.rc}\n{r.stderr}"
    assert str(out) in r.stderr and "--fresh" in r.stderr, r.stderr
    assert tree_digest(out) == before, "the refused run changed the folder"


def test_resume_and_fresh_exclude_each_other():
    r = subprocess.run([AESWEEP, "run", str(JOB), "--out", str(TMP / "never"), "--resume",
                        "--fresh"], capture_output=True, text=True, env=ENV, timeout=20)
    assert r.returncode == 2 and "--fresh" in r.stderr, r.stderr
    assert not (TMP / "never").exists()


# ---- disk trouble ----------------------------------------------------------------------
#
# A file-size limit (RLIMIT_FSIZE, what `ulimit -f` sets) makes a write past it fail
# with EFBIG, like a full disk. It is set on the ranks alone, once they are running
# (prlimit): under `ulimit -f` mpirun itself fails (PMIx's shared-memory store
# outgrows the limit, SIGXFSZ kills a rank in MPI_Init) before aesweep starts.


def limit_ranks(live, kib):
    ranks = [pid for pid in session_pids(live.sid) if pid != live.p.pid]
    assert len(ranks) == RANKS, ranks
    for pid in ranks:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (kib * 1024, resource.RLIM_INFINITY))


def run_limited(out, kib, timeout=20):
    live = Live(out)
    try:
        live.wait_for("the start line", lambda: "aesweep run:" in live.stderr)
        limit_ranks(live, kib)
        rc = live.wait(timeout)
        live.wait_gone()
    finally:
        live.kill9()
    return Finished(rc, live.stderr, time.monotonic() - live.t0)


def test_full_disk_exits_1_and_keeps_what_was_durable(reference):
    """A task file is ~0.8 MB and results.h5 holds a copy of each: with 4500 KiB (a
    task's checkpoint, 3.3 MB, fits) results.h5 fills up after a few tasks; the task
    files written so far stay."""
    out = TMP / "efbig"
    r = run_limited(out, 4500)
    on_disk = durable_files(out)
    assert 0 < len(on_disk) < TOTAL, r.stderr
    kept = {p: digest(p) for p in on_disk}

    r2, s = resume_identical(reference, out, found=len(on_disk))  # no limit now
    for path, d in kept.items():  # resumed, not rewritten
        assert digest(path) == d, path
    figure(f"file-size limit 4500 KiB on the ranks: exit {r.rc} ({first_error(r.stderr)}); "
           f"{len(on_disk)} task files durable and readable; the resume trained {s.trained}")
    # Last, so that the checks above run whatever the exit was.
    assert r.rc == 1, f"results.h5 past the file-size limit: exit {r.rc}, not 1\n{r.stderr}"
    assert "Segmentation fault" not in r.stderr, r.stderr
    assert re.search(r"^aesweep: " + re.escape(str(out)) + r"/\S+", r.stderr, re.M), r.stderr


def test_task_file_too_big_exits_1_naming_it(reference):
    """400 KiB: no task file fits; the run stops with exit 1 and names the file."""
    out = TMP / "efbig_task"
    r = run_limited(out, 400)
    assert not task_files(out) and not temp_files(out), list(out.rglob("*"))
    figure(f"file-size limit 400 KiB on the ranks: exit {r.rc} ({first_error(r.stderr)})")
    assert r.rc == 1, f"exit {r.rc}\n{r.stderr}"
    assert re.search(re.escape(str(out / "tasks")) + r"/\d{3}/\d{3}/t\d{6}_f\d{2}\.h5", r.stderr), \
        r.stderr
    assert "Segmentation fault" not in r.stderr, r.stderr


def test_output_under_a_regular_file(reference):
    parent = TMP / "a_file"
    parent.write_text("not a folder\n")
    out = parent / "out"
    r = run_to_end(out, timeout=20)
    assert r.rc in (1, 2), f"exit {r.rc}\n{r.stderr}"
    assert str(parent) in r.stderr, r.stderr
    assert "[1/" not in r.stderr, "trained before failing"
    assert parent.read_text() == "not a folder\n"


def first_error(stderr):
    lines = [l for l in stderr.splitlines() if l.startswith("aesweep:") and "resuming" not in l]
    return lines[-1] if lines else "?"


# ---- search.select one_se ---------------------------------------------------------------

ONE_SE_JOB = SRC / "tests" / "python" / "jobs" / "resume_one_se.json"


def test_one_se_bisection_killed_then_resumed_is_identical():
    """search.select one_se (issue 20): a bisection whose rounds narrow by the rule and
    whose stages take the preferred point tied with their best, killed with -9 midway,
    resumes to the uninterrupted run's results: the same trials, the same choice."""
    ref, out = TMP / "one_se_reference", TMP / "one_se_kill9"
    for d in (ref, out):
        shutil.rmtree(d, ignore_errors=True)
    r = run_to_end(ref, job=ONE_SE_JOB)
    assert r.rc == 0, f"uninterrupted run failed ({r.rc}):\n{r.stderr}"
    total = Summary(r.stderr).trained - 1  # the tasks of the search, without the refit
    live = Live(out, job=ONE_SE_JOB)
    try:
        live.wait_for(f"{total // 2} tasks", lambda: live.done() >= total // 2)
    finally:
        live.kill9()
    r2 = run_to_end(out, job=ONE_SE_JOB)
    assert r2.rc == 0, f"resume failed ({r2.rc}):\n{r2.stderr}"
    s = Summary(r2.stderr)
    assert s.found >= total // 2 and s.trained == total + 1 - s.found, s
    identical(ref / "results.h5", out)
    choice = re.search(r"^(?:\r\x1b\[K)?(best|chosen): trial (\d+)", r.stderr, re.M)
    again = re.search(r"^(?:\r\x1b\[K)?(best|chosen): trial (\d+)", r2.stderr, re.M)
    assert choice and again and choice.groups() == again.groups(), (r.stderr, r2.stderr)
    figure(f"one_se bisection: {total} tasks; killed after {s.found} on disk, the resume "
           f"trained {s.trained}; {choice.group(1)} trial {choice.group(2)} both times, "
           f"results.h5 identical")
