#!/usr/bin/env python3
# Turn kshare-bench's JSON (host and guest) into results/bench.json (both,
# medians only), results/bench.md (tables, ratios, targets) and, if gnuplot
# is installed, results/bench.png (ns/op per call, syscall against kshare).
import json
import os
import platform
import shutil
import subprocess
import sys


def medians(path):
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        assert b["time_unit"] == "ns", b["time_unit"]
        out[name] = b["real_time"]
    return data["context"], out


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


def table(res):
    calls = {}
    for name, ns in res.items():
        call, path = name.split("/", 1)
        calls.setdefault(call, {})[path] = ns
    lines = ["| call | syscall | glibc | kshare | kshare vs fastest other |", "|---|---|---|---|---|"]
    for call, p in calls.items():
        if "kshare" not in p:
            continue
        others = [v for k, v in p.items() if k != "kshare"]
        fmt = lambda k: f"{p[k]:.1f}" if k in p else "-"
        speed = f"{min(others) / p['kshare']:.1f}x" if others else "-"
        lines.append(f"| {call} | {fmt('syscall')} | {fmt('libc')} | {fmt('kshare')} | {speed} |")
    refs = [f"| {n} | {v:.2f} |" for n, v in res.items()
            if n.split("/")[0] in ("clock_gettime", "sched_getcpu", "rseq_cpu_id", "floor")]
    return lines, ["| reference | ns/op |", "|---|---|"] + refs


def targets(res):
    rows = []

    def check(what, num, den, limit):
        if num not in res or den not in res:
            return
        ratio = res[num] / res[den]
        ok = "met" if ratio <= limit else "MISSED"
        rows.append(f"| {what} | {ratio:.2f} | <= {limit} | {ok} |")

    for call in ("getpid", "getppid", "getuid"):
        check(f"kshare {call} / plain 4-byte load", f"{call}/kshare", "floor/load4", 2)
    check("kshare gethostname / 65-byte memcpy", "gethostname/kshare", "floor/memcpy65", 3)
    check("kshare uname / plain load", "uname/kshare", "floor/load4", 10)
    check("kshare setproctitle (64 B) / 64-byte memcpy", "setproctitle64/kshare", "floor/memcpy64", 3)
    return ["| target | measured ratio | limit | |", "|---|---|---|---|"] + rows


def main():
    host_json, guest_json, out = sys.argv[1:4]
    hctx, host = medians(host_json)
    gctx, guest = medians(guest_json)
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump({"host": {"context": hctx, "median_ns": host},
                   "guest": {"context": gctx, "median_ns": guest}}, f, indent=1)

    md = ["# kshare-bench results", "",
          f"Host: {platform.node()}, {cpu_model()}, {os.cpu_count()} CPUs, Linux {platform.release()} "
          f"(no kshare: every kshare call takes its fallback). Guest: the kshare kernel "
          f"under {qemu_version()} in TCG mode (no KVM), 2 vCPUs.", "",
          "Method: Google Benchmark, 5 repetitions of at least 0.2 s each, the median "
          "reported, in ns/op of wall time. Under TCG absolute times mean little: compare "
          "ratios within one run. Produced by `make bench`.", ""]
    for label, res in (("Guest (kshare kernel)", guest), ("Host (fallback paths)", host)):
        calls, refs = table(res)
        md += [f"## {label}", ""] + calls + [""] + refs + [""]
    md += ["## Targets (guest)", ""] + targets(guest) + [""]
    md += ["Where a target is missed the ratio above says by how much. Under TCG every "
           "instruction is emulated, so ratios between very short operations (a load, a "
           "short memcpy) are distorted by the emulator's per-block costs; the numbers "
           "still compare kshare against the system calls within one run.", ""]
    md += ["Kernel-side costs (fork, exec, exit, memory per process, ps, reader scaling) and "
           "the locking measurements: `kernel.md`; method: `docs/benchmarks.md`.", ""]
    with open(os.path.join(out, "bench.md"), "w") as f:
        f.write("\n".join(md))

    if shutil.which("gnuplot"):
        calls = {}
        for name, ns in guest.items():
            call, path = name.split("/", 1)
            calls.setdefault(call, {})[path] = ns
        dat = os.path.join(out, "bench.dat")
        with open(dat, "w") as f:
            for call, p in calls.items():
                if "kshare" in p:
                    sysns = p.get("syscall", p.get("libc", p.get("prctl_name", 0)))
                    f.write(f"{call} {sysns} {p['kshare']}\n")
        script = f"""set terminal png size 1000,500
set output '{os.path.join(out, "bench.png")}'
set title 'kshare in the guest (QEMU TCG): ns/op, log scale'
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
