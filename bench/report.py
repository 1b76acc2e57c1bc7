#!/usr/bin/python3
"""report.py -- turn bench/run.sh's raw samples into RESULTS.md (markdown on stdout).

usage: report.py RESULTS.tsv META.tsv PXE2.CONF DAEMON-WARNINGS

Repetition 0 of every case is the warm-up and is left out of the statistics (it is
listed with the raw samples). Ratios are of medians from the same run. Pure text
work: measures nothing.
"""
import statistics
import sys
from collections import defaultdict

SYSTEMS = ["native", "pxe1", "pxe2", "pxe1d", "pxe2d", "mfsdef", "mfspart"]
LABEL = {
    "native": "native directory",
    "pxe1": "pxeimagesfs, 1 drive, passthrough",
    "pxe2": "pxeimagesfs, 2-drive union, passthrough",
    "pxe1d": "pxeimagesfs, 1 drive, daemon-served",
    "pxe2d": "pxeimagesfs, 2-drive union, daemon-served",
    "mfsdef": "mergerfs, defaults",
    "mfspart": "mergerfs, partial + dropcacheonclose",
    "pxe1x": "pxeimagesfs, 1 drive, passthrough, share + BENCH_SMB_VIEW_OPTS",
    "pxe1u": "pxeimagesfs, 1 drive, passthrough, io_uring",
    "pxe1du": "pxeimagesfs, 1 drive, daemon-served, io_uring",
    "floor": "floorfs: a FUSE daemon with no I/O (case 10's floor)",
}
# BENCH_IO_URING=1: each io_uring system beside its /dev/fuse twin
URING_TWIN = {"pxe1u": "pxe1", "pxe1du": "pxe1d"}
PXE = ["pxe1", "pxe2", "pxe1d", "pxe2d"]

# case id -> (title, kind); kind: "tp" throughput (MB/s, higher is better), "time" (ms, lower)
CASES = {
    "c1": ("1. Sequential read of the big file, lower page cache warm, FUSE cache cold", "tp"),
    "c2": ("2. The same file re-read, warm", "tp"),
    "c3": ("3. Boot storm: 8 parallel readers of one file, FUSE cache cold (aggregate)", "tp"),
    "c4cold": ("4. find + stat of the small tree, cold (fresh mount)", "time"),
    "c4warm": ("4. find + stat of the small tree, warm", "time"),
    "c5": ("5. open + read + close of the 4 KiB files, warm", "time"),
    "c6": ("6. Lookups of names that do not exist", "time"),
    "c7": ("7. SMB end to end: smbclient get of the big file from a private smbd on 127.0.0.1", "tp"),
    "c9cold": ("9. find + stat of the large tree, cold (fresh mount)", "time"),
    "c9warm": ("9. find + stat of the large tree, warm", "time"),
    "p4warm": ("4. find + stat of the small tree, warm, on one CPU", "time"),
    "p5": ("5. open + read + close of the 4 KiB files, warm, on one CPU", "time"),
    "p6": ("6. Lookups of names that do not exist, on one CPU", "time"),
    "c6b": ("6b. The same missing names looked up a second time", "time"),
    "p6b": ("6b. The same missing names looked up a second time, on one CPU", "time"),
    "c10": ("10. SMB metadata: the three parts below, summed", "time"),
    "c10ls": ("10a. SMB metadata: recursive smbclient listing of the small tree", "time"),
    "c10get": ("10b. SMB metadata: smbclient gets of the 4 KiB files", "time"),
    "c10neg": ("10c. SMB metadata: smbclient opens of names that do not exist", "time"),
    "c11": ("11. dbench (file I/O backend, NetBench load), in the view", "db"),
}
PINNED = ["p4warm", "p5", "p6", "p6b"]
ORDER = ["c1", "c2", "c3", "c4cold", "c4warm", "c5", "c6", "c7", "c9cold", "c9warm",
         "c6b", "c10", "c10ls", "c10get", "c10neg", "c11"]


def load(path):
    samples = defaultdict(list)  # (case, system) -> [(rep, count, ns)]
    with open(path) as f:
        next(f)
        for line in f:
            c, s, r, count, ns, busy = line.rstrip("\n").split("\t")
            samples[(c, s)].append((int(r), int(count), int(ns)))
            BUSY[(c, s, int(r))] = int(busy)
    return samples


BUSY = {}  # (case, system, rep) -> CPU busy % in the 200 ms before the run (-1: unknown)
BUSY_LIMIT = 10


def busy_runs(c, s):
    """Measured runs (warm-up left out) started on a machine busier than BUSY_LIMIT."""
    return sum(1 for (cc, ss, r), b in BUSY.items()
               if cc == c and ss == s and r != 0 and (b > BUSY_LIMIT or b < 0))


def load_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    return meta


def values(samples, c, s):
    """Measured values (warm-up left out): MB/s, ms, or bytes for case 8."""
    out = []
    for r, count, ns in samples.get((c, s), []):
        if r == 0:
            continue
        if c.startswith("c8"):
            out.append(ns)
        elif CASES[c][1] in ("tp", "db"):
            out.append(count / ns * 1000.0)  # bytes per ns -> MB/s (10^6 B/s)
        else:
            out.append(ns / 1e6)
    return out


def per_op_us(samples, c, s):
    got = [ns / count / 1000.0 for r, count, ns in samples.get((c, s), []) if r != 0 and count]
    return statistics.median(got) if got else None


def count_of(samples, c):
    for (cc, _), rows in samples.items():
        if cc == c and rows:
            return rows[0][1]
    return 0


def med(samples, c, s):
    v = values(samples, c, s)
    return statistics.median(v) if v else None


def fmt(x, kind):
    if x is None:
        return "-"
    if kind == "db":
        return f"{x:,.1f} MB/s"
    if kind == "tp":
        return f"{x:,.0f} MB/s"
    if x >= 100:
        return f"{x:,.0f} ms"
    return f"{x:,.1f} ms" if x >= 10 else f"{x:,.2f} ms"


def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "-"


def case_table(samples, c):
    title, kind = CASES[c]
    n = count_of(samples, c)
    what = {"tp": f"{n / 2**20:,.0f} MiB", "db": "dbench's own throughput figure"}.get(
        kind, f"{n:,} entries/files/lookups per run")
    rows = [f"### {title}", "",
            f"Per run: {what}. " +
            ("Higher is better; ratios are throughput ratios." if kind in ("tp", "db") else
             "Lower is better; ratios are time ratios (2.00x = twice native's time)."), "",
            "| system | median | min – max | spread | per op | x native | x mergerfs-default | busy runs |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    nat = med(samples, c, "native")
    mfs = med(samples, c, "mfsdef")
    for s in SYSTEMS:
        v = values(samples, c, s)
        if not v:
            continue
        m = statistics.median(v)
        spread = (max(v) - min(v)) / m * 100 if m else 0
        op = per_op_us(samples, c, s) if kind == "time" else None
        rows.append(f"| {LABEL[s]} | {fmt(m, kind)} | {fmt(min(v), kind)} – {fmt(max(v), kind)} | "
                    f"{spread:.0f}% | {f'{op:.2f} µs' if op is not None else '-'} | "
                    f"{ratio(m, nat)} | {ratio(m, mfs)} | {busy_runs(c, s) or ''} |")
    return rows + [""]


def mib(x):
    return f"{x / 2**20:,.1f} MiB" if x is not None else "-"


def case8_table(samples):
    rows = ["### 8. Daemon memory and page-cache growth after case 2", "",
            "After a fresh mount and the two reads of cases 1 and 2 (median of the runs): the "
            "daemon's resident set (VmRSS) and peak (VmHWM), and the growth of the system's "
            "page cache (`Cached` in /proc/meminfo) over the two reads. On tmpfs the lower "
            "file is already in the page cache, so the growth is the FUSE mount's own copy.", "",
            "| system | VmRSS | VmHWM (peak) | page-cache growth |", "|---|---:|---:|---:|"]
    for s in SYSTEMS:
        if s in ("pxe1x", "floor"):  # case 10 only
            continue
        rows.append(f"| {LABEL[s]} | {mib(med(samples, 'c8rss', s))} | "
                    f"{mib(med(samples, 'c8hwm', s))} | {mib(med(samples, 'c8cache', s))} |")
    return rows + [""]


def targets(samples):
    """(case, target text, {pxe system: (value text, met or None)})"""
    out = []

    def each(fn):
        return {s: fn(s) for s in PXE}

    def tp_vs(c, ref, factor):
        def fn(s):
            v, r = med(samples, c, s), med(samples, c, ref)
            if v is None or not r:
                return ("-", None)
            return (f"{fmt(v, 'tp')} = {v / r:.2f}x", v >= factor * r)
        return fn

    def time_vs(c, factor, pinned=None):
        def fn(s):
            v, r = med(samples, c, s), med(samples, c, "native")
            if v is None or not r:
                return ("-", None)
            text = f"{fmt(v, 'time')} = {v / r:.2f}x"
            pv, pr = (med(samples, pinned, s), med(samples, pinned, "native")) if pinned else (None, None)
            if pv is not None and pr:
                text += f" (one CPU: {pv / pr:.2f}x)"
            return (text, v <= factor * r)
        return fn

    def cold4(s):
        v, r, m = (med(samples, "c4cold", x) for x in (s, "native", "mfsdef"))
        if v is None or not r or not m:
            return ("-", None)
        return (f"{fmt(v, 'time')} = {v / r:.2f}x native, {v / m:.2f}x mergerfs",
                v <= 5 * r and v < m)

    def rss(s):
        v, g = med(samples, "c8rss", s), med(samples, "c8cache", s)
        if v is None:
            return ("-", None)
        return (f"{mib(v)} (page cache +{mib(g)})", v <= 32 * 2**20)

    def scale(s):
        parts, ok = [], True
        for mode in ("cold", "warm"):
            a, b = per_op_us(samples, "c4" + mode, s), per_op_us(samples, "c9" + mode, s)
            if a is None or b is None:
                return ("-", None)
            parts.append(f"{mode} {b:.2f} vs {a:.2f} µs = {b / a:.2f}x")
            ok = ok and b <= 1.2 * a
        return ("; ".join(parts), ok)

    out.append(("1", ">= 1.5x mergerfs-default throughput", each(tp_vs("c1", "mfsdef", 1.5))))
    out.append(("2", ">= 0.75x native", each(tp_vs("c2", "native", 0.75))))
    out.append(("3", ">= 0.75x native aggregate", each(tp_vs("c3", "native", 0.75))))
    out.append(("4 warm", "<= 1.5x native time", each(time_vs("c4warm", 1.5, "p4warm"))))
    out.append(("4 cold", "<= 5x native time and faster than mergerfs-default", each(cold4)))
    out.append(("5", "<= 3x native time", each(time_vs("c5", 3, "p5"))))
    out.append(("6", "<= 2x native time", each(time_vs("c6", 2, "p6"))))
    out.append(("7", ">= 0.85x the native share", each(tp_vs("c7", "native", 0.85))))
    out.append(("8", "RSS <= 32 MiB, page-cache growth stated", each(rss)))
    out.append(("9", "time per file within 20% of the small tree's", each(scale)))
    return out


def targets_18(samples):
    """Issue 18's targets (metadata and round trips), for every pxeimagesfs system."""
    def time_vs(c, factor, pinned=None):
        def fn(s):
            v, r = med(samples, c, s), med(samples, c, "native")
            if v is None or not r:
                return ("-", None)
            text = f"{fmt(v, 'time')} = {v / r:.2f}x"
            pv, pr = (med(samples, pinned, s), med(samples, pinned, "native")) if pinned else (None, None)
            if pv is not None and pr:
                text += f" (one CPU: {pv / pr:.2f}x)"
            return (text, v <= factor * r)
        return fn

    def db(s):
        v, r = med(samples, "c11", s), med(samples, "c11", "native")
        if v is None or not r:
            return ("-", None)
        return (f"{fmt(v, 'db')} = {v / r:.2f}x", v >= 0.8 * r)

    def each(fn):
        return {s: fn(s) for s in PXE}
    return [("6b", "second lookups of the same missing names: <= 1.2x native time",
             each(time_vs("c6b", 1.2, "p6b"))),
            ("6", "first lookups of missing names: <= 5x native time", each(time_vs("c6", 5, "p6"))),
            ("5", "open+read+close: <= 8x native time", each(time_vs("c5", 8, "p5"))),
            ("4 cold", "find+stat on a fresh mount: <= 3x native time", each(time_vs("c4cold", 3))),
            ("10", "SMB metadata (listing, gets, missing names): <= 1.5x the native share's time",
             each(time_vs("c10", 1.5))),
            ("11", "dbench: >= 0.8x native throughput", each(db))]


def targets_pt(samples, big):
    """Issue 7's targets, for every pxeimagesfs system."""
    def tp(c, factor):
        def fn(s):
            v, r = med(samples, c, s), med(samples, c, "native")
            if v is None or not r:
                return ("-", None)
            return (f"{fmt(v, 'tp')} = {v / r:.2f}x", v >= factor * r)
        return fn

    def cache(s):
        g = med(samples, "c8cache", s)
        if g is None or not big:
            return ("-", None)
        return (f"+{mib(g)} = {g / big:.2f}x the file", g <= 1.1 * big)

    def each(fn):
        return {s: fn(s) for s in PXE}
    return [("1", "first read, lower cache warm: >= 0.75x native", each(tp("c1", 0.75))),
            ("2", "warm re-read: >= 0.9x native", each(tp("c2", 0.9))),
            ("8", "page-cache growth <= 1.1x the file size", each(cache)),
            ("7", "SMB end to end: >= 0.9x the native share", each(tp("c7", 0.9)))]


def target_table(rows):
    p = print
    p("| " + " | ".join(["case", "target"] + sum([[LABEL[s], ""] for s in PXE], [])) + " |")
    p("|---|---|" + "---|---|" * len(PXE))
    for case, text, res in rows:
        p(f"| {case} | {text} | " + " | ".join(f"{res[s][0]} | {verdict(res[s][1])}" for s in PXE)
          + " |")


def verdict(met):
    return "-" if met is None else ("**met**" if met else "**not met**")


def headline(samples):
    rows = ["| case | " + " | ".join(LABEL[s] for s in SYSTEMS) + " |",
            "|---|" + "---:|" * len(SYSTEMS)]
    for c in ORDER:
        kind = CASES[c][1]
        nat = med(samples, c, "native")
        cells = []
        for s in SYSTEMS:
            m = med(samples, c, s)
            cells.append(fmt(m, kind) if s == "native" or m is None else f"{fmt(m, kind)} ({ratio(m, nat)})")
        rows.append(f"| {c_short(c)} | " + " | ".join(cells) + " |")
    return rows


def c_short(c):
    return {"c1": "1 read, FUSE cold", "c2": "2 re-read, warm", "c3": "3 boot storm (aggregate)",
            "c4cold": "4 find+stat, cold", "c4warm": "4 find+stat, warm", "c5": "5 open+read+close",
            "c6": "6 missing names", "c7": "7 SMB get", "c9cold": "9 find+stat large, cold",
            "c9warm": "9 find+stat large, warm", "c6b": "6b missing names again",
            "c10": "10 SMB metadata (sum)", "c10ls": "10a SMB listing", "c10get": "10b SMB small gets",
            "c10neg": "10c SMB missing names", "c11": "11 dbench"}[c]


def uring_table(samples, uring):
    """FUSE over io_uring against /dev/fuse (BENCH_IO_URING=1): wall time and the daemon's CPU
    time per request (utime + stime, clock ticks: 10 ms), medians, ratio io_uring / dev."""
    out = ["## FUSE over io_uring against /dev/fuse", "",
           "Each io_uring view beside its /dev/fuse twin, same run. Wall: the case's median "
           "time (ms; dbench: MB/s); CPU: the daemon's median CPU time per item (µs; "
           "utime + stime, 10 ms ticks). Ratio: io_uring / dev (below 1: io_uring is cheaper, "
           "or faster; dbench: above 1 is faster).", "",
           "| case | systems | wall dev | wall io_uring | ratio | CPU/item dev | "
           "CPU/item io_uring | ratio |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for c in ORDER + PINNED:
        kind = CASES[c][1]
        for u in uring:
            d = URING_TWIN[u]
            md, mu = med(samples, c, d), med(samples, c, u)
            if md is None or mu is None:
                continue
            cpu = []
            for s in (d, u):
                v = [ticks * 10000.0 / count for r, count, ticks in samples.get((c + "cpu", s), [])
                     if r != 0 and count > 0]
                cpu.append(statistics.median(v) if v else None)
            cr = f"{cpu[1] / cpu[0]:.2f}" if cpu[0] and cpu[1] is not None else "-"
            cells = [fmt(md, kind), fmt(mu, kind), f"{mu / md:.2f}" if md else "-",
                     f"{cpu[0]:.2f}" if cpu[0] is not None else "-",
                     f"{cpu[1]:.2f}" if cpu[1] is not None else "-", cr]
            out.append(f"| {c_short('c' + c[1:])}{' (one CPU)' if c in PINNED else ''} | "
                       f"{d} / {u} | " + " | ".join(cells) + " |")
    out.append("")
    return out


def main():
    samples = load(sys.argv[1])
    if any(s == "pxe1x" for (_, s) in samples):  # case 10's A/B share (BENCH_SMB_VIEW_OPTS)
        SYSTEMS.insert(SYSTEMS.index("pxe1") + 1, "pxe1x")
    if any(s == "floor" for (_, s) in samples):  # case 10's floor (bench/floorfs.c)
        SYSTEMS.append("floor")
    for u, twin in URING_TWIN.items():  # BENCH_IO_URING=1
        if any(s == u for (_, s) in samples):
            SYSTEMS.insert(SYSTEMS.index(twin) + 1, u)
            PXE.append(u)
    meta = load_meta(sys.argv[2])
    conf = open(sys.argv[3]).read()
    try:
        warnings = open(sys.argv[4]).read().strip()
    except OSError:
        warnings = ""
    p = print
    p("# pxeimagesfs benchmark results")
    p()
    args = (" --quick" if meta["mode"] == "quick" else "") + (
        f" --only {meta['only']}" if meta.get("only") else "")
    p(f"Generated by `bash bench/run.sh{args}` on "
      f"{meta['date']} ({meta['mode']} mode, {meta['reps']} measured runs per case after one "
      f"warm-up, {int(meta['duration_s']) // 60} min {int(meta['duration_s']) % 60} s). "
      "Do not edit: run it again. See bench/README.md for the method.")
    if meta["mode"] == "quick":
        p()
        p("**Quick mode: smaller files and fewer runs; a smoke test, not the figures to quote.**")
    if meta.get("only"):
        p()
        p(f"**Only cases {meta['only']} were run; the others show `-`.**")
    p()
    nbusy = sum(1 for (c, s, rep), b in BUSY.items() if rep != 0 and (b > BUSY_LIMIT or b < 0))
    nall = sum(1 for (c, s, rep) in BUSY if rep != 0)
    p(f"Machine load: {meta.get('busy', '?')}. Each run waits for the CPUs to be at most "
      f"{BUSY_LIMIT}% busy (over 200 ms, for at most 30 s); **{nbusy} of {nall} measured runs** "
      "started on a busier machine anyway (column *busy runs*). Other work on the machine "
      "shows as a wide min – max spread.")
    p()
    p(f"Sizes: {meta['sizes']}. Backing store: **{meta['backing']}** "
      f"({meta['backing_mount']}), the same directory for every system.")
    p()
    p("Passthrough as each pxeimagesfs mount reported it (its status file): " +
      "; ".join(f"{LABEL[s]}: {meta.get('pt_' + s, '?')}" for s in PXE) + ".")
    p()
    p("## Targets (issue 6: performance)")
    p()
    target_table(targets(samples))
    p()
    p("Ratios in the target column are against native (or mergerfs-default where the target "
      "says so): throughput ratios for MB/s, time ratios for ms.")
    p()
    p("## Targets (issue 7: kernel passthrough)")
    p()
    target_table(targets_pt(samples, count_of(samples, "c1")))
    p()
    p("## Targets (issue 18: metadata at kernel speed)")
    p()
    target_table(targets_18(samples))
    p()
    p("Case 11 runs on the one-drive views only (the unions' primary is a 64 MiB drive).")
    p()
    p("## Headline (medians; ratio to native in brackets)")
    p()
    for line in headline(samples):
        p(line)
    p()
    p("## Per case")
    p()
    for c in ORDER[:8]:
        for line in case_table(samples, c):
            p(line)
    for line in case8_table(samples):
        p(line)
    for c in ORDER[8:]:
        for line in case_table(samples, c):
            p(line)
    p("## Supplement: the metadata cases on one CPU")
    p()
    p("A FUSE request costs two wake-ups (client to daemon, daemon to client). On this VM, "
      "waking a task on the other, halted vCPU costs tens of microseconds, and where the "
      "scheduler puts the client and the daemon's threads varies from run to run, so cases 4, "
      "5 and 6 above can move by 2x or more between runs (for every FUSE system alike). Here "
      "they are run again with the client and every thread of every daemon on CPU 0 "
      "(`taskset`): the figures show the work per request, and are the ones to compare "
      "between runs when tuning. The targets above are evaluated on the unpinned runs.")
    p()
    p("| case | " + " | ".join(LABEL[s] for s in SYSTEMS) + " |")
    p("|---|" + "---:|" * len(SYSTEMS))
    for c in PINNED:
        nat = med(samples, c, "native")
        cells = []
        for s in SYSTEMS:
            m, op = med(samples, c, s), per_op_us(samples, c, s)
            if m is None:
                cells.append("-")
            elif s == "native":
                cells.append(f"{fmt(m, 'time')} ({op:.2f} µs/op)")
            else:
                cells.append(f"{fmt(m, 'time')} ({op:.2f} µs/op, {ratio(m, nat)})")
        p(f"| {c_short('c' + c[1:])} | " + " | ".join(cells) + " |")
    p()
    for c in PINNED:
        for line in case_table(samples, c):
            p(line)
    uring = [u for u in URING_TWIN if u in SYSTEMS]
    if uring:
        for line in uring_table(samples, uring):
            p(line)
    p("## Machine and versions")
    p()
    for k, label in [("cpu", "CPU"), ("ram", "RAM"), ("kernel", "kernel"), ("os", "OS"),
                     ("libfuse", "libfuse3 (Debian)"), ("pxeimagesfs", "pxeimagesfs"),
                     ("kernel_knobs", "kernel settings"),
                     ("commit", "source"), ("mergerfs", "mergerfs"), ("samba", "Samba"),
                     ("smbproto", "SMB dialect negotiated"),
                     ("pxe_opts", "extra -o options of the pxeimagesfs mounts"),
                     ("smb_view_opts", "extra smb.conf lines of the views' shares")]:
        p(f"- {label}: {meta.get(k, '?')}")
    p()
    p("## Mounts and options")
    p()
    p("As read back from /proc/self/mountinfo after the run (fstype, mount options, super "
      "options) and the FUSE mount's backing-device read-ahead:")
    p()
    for s in PXE + ["mfsdef", "mfspart"]:
        p(f"- {LABEL[s]}: `{meta.get('cmd_' + s, '?')}`  ")
        p(f"  `{meta.get('mount_' + s, '?')}`")
    p()
    p("mergerfs gets `allow_other` on top of its defaults: the private smbd of case 7 serves the "
      "guest as `nobody`, which a FUSE mount refuses without it (it changes nothing else). "
      "pxeimagesfs adds `allow_other,default_permissions` itself.")
    p()
    p("The union's configuration (`$T` is the run's mktemp directory; the 1-drive one is the "
      "same without `[drive:D]`):")
    p()
    p("```ini")
    p(conf.rstrip())
    p("```")
    p()
    if warnings:
        p("Warnings and errors the daemons logged during the run (count, line):")
        p()
        p("```")
        p(warnings)
        p("```")
        p()
    p("## Raw samples")
    p()
    p("<details><summary>every sample (rep 0 is the warm-up; count = bytes, entries, files or "
      "lookups; ns = wall time; case 8: ns holds bytes; busy% = CPU busy in the 200 ms before "
      "the run)</summary>")
    p()
    p("```")
    p("case\tsystem\trep\tcount\tns\tbusy%")
    cpu = sorted({c for (c, _) in samples if c.endswith("cpu")})
    for c in ORDER[:8] + ["c8rss", "c8hwm", "c8cache"] + ORDER[8:] + PINNED + cpu:
        for s in SYSTEMS:
            for r, count, ns in samples.get((c, s), []):
                p(f"{c}\t{s}\t{r}\t{count}\t{ns}\t{BUSY.get((c, s, r), '')}")
    p("```")
    p()
    p("</details>")


if __name__ == "__main__":
    main()
