"""Where a notebook cell's time goes: runs one notebook's code cells in a fresh "purchase-predict"
kernel (the evcxr build named by --evcxr, with the settings scripts/setup.sh gives every notebook
kernel) under `strace -f`, and splits each cell's wall time by process: cargo (the whole cargo
run, rustc included), rustc for the cell crate, the linker, and the rest, spent inside the kernel
(parsing, rust-analyzer, loading the cell's library, running it). Then it replays the last cell
crate rustc invocation it saw with `-Ztime-passes` (RUSTC_BOOTSTRAP=1) and sums rustc's own
phases: loading crate metadata, type checking, code generation, linking.

Needs the notebooks before this one to have run (their working folder), as a notebook does.
Prints a table, and one JSON line at the end (the medians over the warm cells: every code cell
but the first two).

    python scripts/kernel_profile.py [--kernel NAME] [--evcxr BIN] notebooks/04_evaluate.ipynb
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from kernel_check import Kernel  # noqa: E402

LINE = re.compile(r"^(\d+) +(\d+):(\d+):([\d.]+) (.*)$")


def parse_trace(path):
    """Processes seen in an `strace -f -tt -v -s 100000` log: [(start, end, program, argv, env)]."""
    starts, ends, info = {}, {}, {}
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        pid, rest = int(m.group(1)), m.group(5)
        t = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
        if rest.startswith("execve(") and rest.rstrip().endswith("= 0"):
            args = re.match(r'execve\("([^"]*)", \[(.*?)\], \[(.*)\]\) = 0', rest)
            if args:
                starts[pid] = t
                argv = re.findall(r'"((?:[^"\\]|\\.)*)"', args.group(2))
                env = re.findall(r'"((?:[^"\\]|\\.)*)"', args.group(3))
                info[pid] = (os.path.basename(args.group(1)), argv, env)
        elif rest.startswith("+++ exited") or rest.startswith("+++ killed"):
            ends[pid] = t
    return [(starts[p], ends.get(p), *info[p]) for p in starts if p in info]


def is_cell(prog, argv):
    """Whether a process is rustc compiling a cell crate (`ctx`, or scripts/kernel.sh's
    `notebook_N`)."""
    if prog != "rustc" or "--crate-name" not in argv:
        return False
    name = argv[argv.index("--crate-name") + 1]
    return name == "ctx" or name.startswith("notebook_")


def clock(t):
    lt = time.localtime(t)
    return lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec + (t % 1)


def union(intervals):
    total, end = 0.0, None
    for a, b in sorted(intervals):
        if end is None or a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


def time_passes(argv, env, cwd):
    """rustc's own phases for one invocation, replayed with -Ztime-passes: {phase: seconds}."""
    env = dict(e.split("=", 1) for e in env if "=" in e)
    env["RUSTC_BOOTSTRAP"] = "1"
    for k in ("CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS"):
        env.pop(k, None)
    out = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    phases = {}
    for line in (out.stdout + out.stderr).splitlines():
        m = re.match(r"time:\s+([\d.]+);.*?\s(\S+)$", line)
        if m:
            phases[m.group(2)] = phases.get(m.group(2), 0.0) + float(m.group(1))
    return phases


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernel", default="purchase-predict",
                    help="the kernelspec (default purchase-predict; benches/kernel.sh registers "
                         "purchase-predict-baseline)")
    ap.add_argument("--evcxr", help="another evcxr_jupyter binary for that kernelspec")
    ap.add_argument("notebook")
    args = ap.parse_args()
    # The kernelspec scripts/setup.sh registered in the Jupyter venv this script runs in.
    spec = json.load(open(os.path.join(
        sys.prefix, f"share/jupyter/kernels/{args.kernel}/kernel.json")))
    root = tempfile.mkdtemp(prefix="kernel-profile-")
    cells = [("".join(c["source"])) for c in json.load(open(args.notebook))["cells"]
             if c["cell_type"] == "code"]
    os.chdir(os.path.dirname(os.path.abspath(args.notebook)))
    # The kernelspec's launcher (scripts/kernel.sh) with the evcxr build to profile.
    kernel_argv = [args.evcxr if args.evcxr and a.endswith("evcxr_jupyter") else a
                   for a in spec["argv"]]
    trace = os.path.join(root, "trace")
    # strace starts the kernel (not attached with -p) so that --seccomp-bpf works: only execve
    # stops the traced processes, and cargo's thousands of stat calls run at full speed.
    strace = ["strace", "--seccomp-bpf", "-f", "-q", "-tt", "-v", "-s", "100000",
              "-e", "trace=execve", "-e", "signal=none", "-o", trace]
    kernel = Kernel(strace + kernel_argv, root, env=spec["env"], ready_timeout=1800)
    windows = []
    try:
        for i, code in enumerate(cells):
            t0 = time.time()
            _, out, err, _, error = kernel.run(code)
            windows.append((clock(t0), clock(time.time())))
            if error:
                raise SystemExit(f"FAILED: cell {i + 1}: {error}\n{err}")
    finally:
        time.sleep(0.5)
        kernel.stop()
    procs = parse_trace(trace)
    rows = []
    last_ctx = None
    for i, (a, b) in enumerate(windows):
        inside = [(s, e, prog, argv, env) for s, e, prog, argv, env in procs if e and a <= s <= b]
        cargo = union([(s, e) for s, e, prog, *_ in inside if prog == "cargo"])
        rustc = union([(s, e) for s, e, prog, argv, _ in inside if is_cell(prog, argv)])
        link = union([(s, e) for s, e, prog, *_ in inside if prog in ("cc", "mold", "ld", "collect2")])
        compiles = sum(1 for _, _, prog, argv, _ in inside if is_cell(prog, argv))
        for s, e, prog, argv, env in inside:
            if is_cell(prog, argv):
                last_ctx = (argv, env)
        wall = b - a
        busy = union([(s, e) for s, e, prog, *_ in inside if prog in ("cargo", "rustc")])
        rows.append({"cell": i + 1, "wall": wall, "cargo": cargo, "rustc": rustc, "link": link,
                     "kernel": max(0.0, wall - busy), "compiles": compiles})
    print(f"{'cell':>4} {'wall':>6} {'cargo':>6} {'rustc':>6} {'link':>6} {'kernel':>6} compiles")
    for r in rows:
        print(f"{r['cell']:>4} {r['wall']:6.2f} {r['cargo']:6.2f} {r['rustc']:6.2f} "
              f"{r['link']:6.2f} {r['kernel']:6.2f} {r['compiles']:>8}")
    warm = rows[2:]
    summary = {k: round(statistics.median(r[k] for r in warm), 3)
               for k in ("wall", "cargo", "rustc", "link", "kernel")}
    summary["compiles_per_cell"] = round(sum(r["compiles"] for r in warm) / len(warm), 2)
    if last_ctx:
        argv, env = last_ctx
        # cargo runs rustc in the cell crate's folder, with paths relative to it.
        crate_dir = next(e.split("=", 1)[1] for e in env if e.startswith("CARGO_MANIFEST_DIR="))
        phases = time_passes([a for a in argv if not a.startswith(("--error-format", "--json"))]
                             + ["-Ztime-passes"], env, crate_dir)
        # Top-level passes only (rustc nests others inside them).
        groups = {
            "loading crates, macros, names": ("parse_crate", "expand_crate", "resolve_crate"),
            "type and borrow checking": ("type_check_crate", "MIR_borrow_checking"),
            "codegen (monomorphization, LLVM)": ("codegen_crate", "LLVM_passes"),
            "link": ("link",),
            "total": ("total",),
        }
        summary["rustc_phases"] = {g: round(sum(phases.get(n, 0.0) for n in names), 3)
                                   for g, names in groups.items()}
        print("rustc -Ztime-passes on the last cell:")
        for g, v in summary["rustc_phases"].items():
            print(f"   {g:<28} {v:6.3f} s")
    print(json.dumps({"notebook": os.path.basename(args.notebook), "kernel": args.kernel,
                      "evcxr": next(a for a in kernel_argv if a.endswith("evcxr_jupyter")),
                      "warm_medians": summary}))


if __name__ == "__main__":
    main()
