#!/usr/bin/env python3
# Turn kshare-bench's JSON into a Markdown report:
#   --cpu FILE      kshare-bench --host (real CPU, simulated area): the first
#                   table, each fast path against its floor and its goal
#   --scaling FILE  kshare-bench --scaling: reader scaling on the real CPU
#   --guest FILE    kshare-bench in the guest (QEMU TCG): emulated tables
#   --state FILE    the machine's state during the run (scripts/bench-host)
#   --md FILE       where the Markdown goes; --json FILE the medians;
#   --png FILE      the guest chart (needs gnuplot)
# Nothing is asserted: a missed goal is reported, never an error.
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess

# Issue 16, item 3: each fast path against its floor.
GOALS = [
    ("getpid", "load4", 1.5), ("getppid", "load4", 1.5), ("getpgrp", "load4", 1.5),
    ("getsid", "load4", 1.5), ("gettid", "load4", 2),
    ("getuid", "load4", 3), ("geteuid", "load4", 3), ("getgid", "load4", 3),
    ("getegid", "load4", 3), ("getresuid", "load4", 4), ("getresgid", "load4", 4),
    ("gethostname", "memcpy65", 3), ("getdomainname", "memcpy65", 3),
    ("uname", "memcpy390", 2), ("get_nprocs", "load4", 3),
    ("setproctitle64", "memcpy64", 3), ("setproctitle64_prefixed", "memcpy64", 3),
    ("setproctitle64_printf", "memcpy64", None),
]
FLOOR_TEXT = {"load4": "4-byte load", "memcpy12": "12-byte memcpy", "memcpy64": "64-byte memcpy",
              "memcpy65": "65-byte memcpy", "memcpy390": "390-byte memcpy"}
CALL_TEXT = {"setproctitle64": 'setproctitle 64 B, "-%s"',
             "setproctitle64_prefixed": 'setproctitle 64 B, "%s" (with "progname: ")',
             "setproctitle64_printf": 'setproctitle 64 B, "-%s %d/%d %s" (printf)'}


def load_medians(path, field):
    with open(path) as f:
        data = json.load(f)
    out, counters = {}, {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        assert b["time_unit"] == "ns", b["time_unit"]
        out[b["run_name"]] = b[field]
        extra = {k: v for k, v in b.items() if k in ("instructions", "writes_per_us")}
        if extra:
            counters[b["run_name"]] = extra
    return data["context"], out, counters


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def qemu_version():
    try:
        out = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True)
        return out.stdout.splitlines()[0].replace("QEMU emulator version", "QEMU")
    except (OSError, IndexError):
        return "QEMU"


def fmt(v, digits=2):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def floor_of(res, floor):
    """The floor's time: for a copy, the faster of the compiler's inline
    expansion and glibc's memcpy."""
    cands = [res.get(f"floor/{floor}")]
    if floor.startswith("memcpy"):
        cands.append(res.get(f"floor/libc_{floor}"))
    cands = [c for c in cands if c is not None]
    return min(cands) if cands else None


def cpu_tables(res, counters):
    has_instr = any("instructions" in c for c in counters.values())
    head = "| call | syscall | glibc | kshare | kshare, no area (fallback) | floor | kshare / floor | goal | |"
    lines = [head + (" instructions (kshare) |" if has_instr else ""),
             "|---|---|---|---|---|---|---|---|---|" + ("---|" if has_instr else "")]
    verdicts = []
    for call, floor, limit in GOALS:
        k = res.get(f"{call}/kshare")
        if k is None:
            continue
        fl = floor_of(res, floor)
        ratio = k / fl if fl else None
        if limit is None:
            goal, verdict = "(reported)", ""
        else:
            goal = f"<= {limit}x"
            verdict = "met" if ratio is not None and ratio <= limit else "**missed**"
            verdicts.append((call, ratio, limit, verdict))
        other = res.get(f"{call}/syscall")
        if call.startswith("setproctitle64") and call != "setproctitle64_printf":
            other = res.get("setproctitle64/prctl_name") if call == "setproctitle64" else None
        row = (f"| {CALL_TEXT.get(call, call)} | {fmt(other)} | {fmt(res.get(call + '/libc'))} | "
               f"{fmt(k)} | {fmt(res.get(call + '/fallback'))} | {fmt(fl)} ({FLOOR_TEXT[floor]}) | "
               f"{fmt(ratio)}x | {goal} | {verdict} |")
        if has_instr:
            row += f" {fmt(counters.get(call + '/kshare', {}).get('instructions'), 1)} |"
        lines.append(row)
    refs = ["| reference or floor | ns/op |", "|---|---|"]
    for n, v in res.items():
        if n.split("/")[0] in ("clock_gettime", "sched_getcpu", "floor"):
            refs.append(f"| {n} | {fmt(v)} |")
    refs.append(f"| setproctitle64/prctl_name (PR_SET_NAME, 16 B comm) | {fmt(res.get('setproctitle64/prctl_name'))} |")
    cont = ["| call, while another CPU rewrites the record as fast as it can | ns/op | uncontended | writes/µs |",
            "|---|---|---|---|"]
    for n, v in res.items():
        if "+" in n:
            call, path = n.split("/", 1)
            w = counters.get(n, {}).get("writes_per_us")
            cont.append(f"| {call} ({path.split('+', 1)[1].replace('_', ' ')}) | {fmt(v)} | "
                        f"{fmt(res.get(call + '/kshare'))} | {fmt(w, 1)} |")
    return lines, refs, cont, verdicts


def scaling_tables(path):
    with open(path) as f:
        data = json.load(f)
    groups = {}
    for c in data["cases"]:
        key = (c["record"], c["reader"], c["readers"], c["writer_period_ns"])
        groups.setdefault(key, {}).setdefault(c["run"], []).append(c)

    def per_run(key, fn):
        runs = groups.get(key)
        if not runs:
            return None
        return statistics.median(fn(threads) for threads in runs.values())

    def wall_rate(ts):  # reads per second of wall time, per thread
        return statistics.mean(t["reads"] / t["wall_s"] for t in ts)

    def cpu_rate(ts):  # reads per second of the thread's own CPU time
        return statistics.mean(t["reads"] / t["cpu_s"] for t in ts if t["cpu_s"] > 0)

    def per1000(field):
        return lambda ts: 1000 * sum(t[field] for t in ts) / max(1, sum(t["reads"] for t in ts))

    def writes(ts):
        return ts[0]["writes"] / ts[0]["run_wall_s"] / 1e6

    readers_of = {"hostname": "kshare_gethostname", "credentials": "kshare_getresuid",
                  "title": "kshare_getproctitle"}
    writers_of = {"hostname": "kshare_uts_write() (the kernel's: six names)",
                  "credentials": "kshare_publish_creds() (the kernel's: eight ids)",
                  "title": 'kshare_setproctitle("-%s", 64 B) (the library\'s)'}
    writer_kinds = ((1000, "one write per µs"), (0, "as fast as it can"))
    rate = ["| record: reader; writer | 1 reader | 2 readers | 1 reader + writer 1/µs | "
            "2 readers + writer 1/µs | 1 reader + writer flat out | 2 readers + writer flat out |",
            "|---|---|---|---|---|---|---|"]
    retry = ["| record, writer | writes/µs | reads that retried / 1000 (retries / 1000 reads) | "
             "library calls overlapping a write / 1000 | library calls that fell back / 1000 | torn |",
             "|---|---|---|---|---|---|"]
    for rec in ("hostname", "credentials", "title"):
        cells = []
        for period in (-1, 1000, 0):
            for n in (1, 2):
                k = (rec, "library", n, period)
                wr, cr = per_run(k, wall_rate), per_run(k, cpu_rate)
                cells.append("-" if wr is None else f"{wr / 1e6:.1f} M ({cr / 1e6:.1f} M)")
        rate.append(f"| {rec}: `{readers_of[rec]}`; {writers_of[rec]} | " + " | ".join(cells) + " |")
        for period, what in writer_kinds:
            wps = [per_run((rec, "library", n, period), writes) for n in (1, 2)]
            rt = [per_run((rec, "protocol", n, period), per1000("retries")) for n in (1, 2)]
            rd = [per_run((rec, "protocol", n, period), per1000("retried")) for n in (1, 2)]
            ov = [per_run((rec, "library", n, period), per1000("overlapped")) for n in (1, 2)]
            fb = [per_run((rec, "library", n, period), per1000("fallbacks")) for n in (1, 2)]
            torn = sum(c["torn"] for c in data["cases"]
                       if c["record"] == rec and c["writer_period_ns"] == period)
            extra = ""
            if rec == "title":
                # over16: the latch's reader, which after 16 tries shows the
                # last title it read whole; over4, in older results: the
                # single-record reader, which gave up after 4 and showed argv.
                cases = [c for c in data["cases"] if c["record"] == rec]
                key, tries, then = (("over16", 16, "show its last whole title")
                                    if any("over16" in c for c in cases)
                                    else ("over4", 4, "give up"))
                o = [per_run((rec, "protocol", n, period), per1000(key)) for n in (1, 2)]
                extra = (f"; the kernel's {tries} tries would {then} {fmt(o[0], 1)} / "
                         f"{fmt(o[1], 1)}")
            retry.append(f"| {rec}, {what} | {fmt(wps[0], 2)} / {fmt(wps[1], 2)} | "
                         f"{fmt(rd[0], 1)} / {fmt(rd[1], 1)} ({fmt(rt[0], 1)} / {fmt(rt[1], 1)})"
                         f"{extra} | {fmt(ov[0], 1)} / "
                         f"{fmt(ov[1], 1)} | {fmt(fb[0], 2)} / {fmt(fb[1], 2)} | {torn} |")
    return data["context"], rate, retry


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpu")
    ap.add_argument("--scaling")
    ap.add_argument("--guest")
    ap.add_argument("--state")
    ap.add_argument("--reps", default="5")
    ap.add_argument("--min-time", default="0.2")
    ap.add_argument("--md", required=True)
    ap.add_argument("--json")
    ap.add_argument("--png")
    a = ap.parse_args()

    md = ["# kshare-bench results", ""]
    summary = {}
    machine = (f"{platform.node()}: {cpu_model()}, {os.cpu_count()} CPUs, "
               f"Linux {platform.release()}")
    state = ""
    if a.state and os.path.exists(a.state):
        with open(a.state) as f:
            state = f.read().strip()
    if a.cpu:
        ctx, res, counters = load_medians(a.cpu, "cpu_time")
        summary["cpu"] = {"context": ctx, "median_cpu_ns": res, "counters": counters}
        calls, refs, cont, verdicts = cpu_tables(res, counters)
        missed = [v for v in verdicts if v[3] != "met"]
        md += ["## Real CPU: the fast paths against their floors", "",
               f"Machine: {machine} (the build machine, itself a VM; no kshare in its "
               f"kernel). {state}", "",
               "Method: `kshare-bench --host` (`make bench-host`): the fast paths read a "
               "simulated area laid out as the kernel lays it out, every field valid, "
               "attached with `kshare__attach()`; the system calls, glibc and vDSO calls are "
               "the host's own. Benchmark thread pinned to CPU "
               f"{ctx.get('pinned_cpu', '?')} (sched_setaffinity). Google Benchmark, "
               f"{a.reps} repetitions of at least {a.min_time} s, the median of the benchmark thread's CPU "
               "time per call (not wall time: the machine is shared; not process CPU time: "
               "the writer thread's would be added). Throughput of back-to-back calls, "
               "loop included, for the fast paths and the floors alike. A copy's floor is "
               "the faster of the compiler's inline memcpy and glibc's. Instructions per "
               f"call: {ctx.get('instructions', 'not measured')}. Compare ratios within "
               "this run: the other cores' load moves absolute times.", "",
               f"Goals (issue 16, item 3): {len(verdicts) - len(missed)} of {len(verdicts)} met."
               + (" Missed: " + ", ".join(f"{c} {r:.1f}x (goal {l}x)" for c, r, l, _ in missed)
                  + "." if missed else ""), ""]
        why = os.path.join(os.path.dirname(os.path.abspath(__file__)), "missed-goals.md")
        if missed and os.path.exists(why):
            with open(why) as f:
                md += [f.read().rstrip("\n"), ""]
        md += calls + ["", "ns/op (CPU time). \"no area\": the same kshare call with no area "
                       "attached, i.e. on a kernel without kshare (the system call, through "
                       "the library's slow path).", ""]
        md += refs + [""]
        md += ["Contended (worst case: the writer on the other CPU never pauses, kernel "
               "protocol: counter odd, barrier, write, barrier, counter even; the title's "
               "reader is the kernel's 4-try snapshot):", ""] + cont + [""]
    if a.scaling:
        sctx, rate, retry = scaling_tables(a.scaling)
        summary["scaling_file"] = os.path.basename(a.scaling)
        md += ["## Real CPU: reader scaling under a writer", "",
               f"Machine: as above. `kshare-scaling`: reader threads pinned to CPUs "
               f"{', '.join(str(c) for c in sctx['cpus'][:2])}, the writer to CPU "
               f"{sctx['cpus'][-1]} (with 2 readers on 2 CPUs it shares a CPU with the second "
               f"reader), {sctx['runs']} runs of {sctx['seconds_per_run']} s per case, the median "
               "run. Reads per second of wall time per thread, mean of the threads (in "
               "brackets: per second of the thread's own CPU time, which leaves out the time "
               "other work, the writer included, took its CPU). The writer either writes once "
               "per microsecond (a busy-waited pace; far more often than any kernel rewrites "
               "these records) or as fast as it can (a worst case).", ""]
        md += rate + [""]
        md += ["Retries are counted on a copy of the library's read protocol (the same "
               "loads, fences and bounded tries as src/uts.cc, kshare.h and src/title.cc), "
               "run in the same setting; the library is not instrumented. Its own calls are "
               "counted as overlapping a write when the record's counter was odd or moved "
               "between just before and just after the call, as falling back when they "
               "returned the host's real answer (the simulated area never holds it), and "
               "as torn when they returned anything but one of the writer's two values.", ""]
        md += retry + ["", "Pairs of numbers: 1 reader / 2 readers. A title \"fallback\" is "
                       "`kshare_getproctitle()` returning the arguments instead of the title "
                       "(after 1000 tries it takes the writer's lock and reads again, which "
                       "cannot succeed while it holds the lock itself).", ""]
    if a.guest:
        gctx, guest, _ = load_medians(a.guest, "real_time")
        summary["guest"] = {"context": gctx, "median_ns": guest}
        md += ["## Emulated: the guest on the kshare kernel (QEMU TCG)", "",
               f"Guest: the kshare kernel under {qemu_version()} in TCG mode (no KVM), 2 vCPUs, "
               f"on {machine}; run of {gctx.get('date', '?')}. Every instruction is emulated: ratios between very short "
               "operations (a load, a short memcpy) are distorted by the emulator's per-block "
               "costs, so the goals are judged on the real CPU above. Method: Google Benchmark, "
               "5 repetitions of at least 0.2 s, median of wall time.", ""]
        lines = ["| call | syscall | glibc | kshare | kshare vs fastest other |", "|---|---|---|---|---|"]
        calls = {}
        for name, ns in guest.items():
            call, path = name.split("/", 1)
            calls.setdefault(call, {})[path] = ns
        for call, p in calls.items():
            if "kshare" not in p:
                continue
            others = [v for k, v in p.items() if k in ("syscall", "libc", "prctl_name")]
            speed = f"{min(others) / p['kshare']:.1f}x" if others else "-"
            lines.append(f"| {call} | {fmt(p.get('syscall'))} | {fmt(p.get('libc'))} | "
                         f"{fmt(p['kshare'])} | {speed} |")
        refs = ["| reference or floor (emulated) | ns/op |", "|---|---|"] + [
            f"| {n} | {fmt(v)} |" for n, v in guest.items()
            if n.split("/")[0] in ("clock_gettime", "sched_getcpu", "rseq_cpu_id", "floor")
            or n.endswith("/fallback")]
        md += lines + [""] + refs + [""]
    md += ["Kernel-side costs (fork, exec, exit, memory per process, ps, reader scaling in the "
           "guest) and the locking measurements: `kernel.md`; method: `docs/benchmarks.md`.", ""]
    with open(a.md, "w") as f:
        f.write("\n".join(md))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=1)

    if a.png and a.guest and shutil.which("gnuplot"):
        dat = a.png + ".dat"
        with open(dat, "w") as f:
            for call, p in calls.items():
                if "kshare" in p:
                    sysns = p.get("syscall", p.get("libc", p.get("prctl_name", 0)))
                    f.write(f"{call} {sysns} {p['kshare']}\n")
        script = f"""set terminal png size 1000,500
set output '{a.png}'
set title 'kshare in the guest (QEMU TCG, emulated): ns/op, log scale'
set style data histograms
set style fill solid
set logscale y
set ylabel 'ns/op'
set xtics rotate by -45
plot '{dat}' using 2:xtic(1) title 'system call (or glibc)', '' using 3 title 'kshare'
"""
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
        os.remove(dat)


main()
