"""Execute the walkthrough notebooks headless with the evcxr kernel and write the executed copies
(to target/notebooks/out/ by default, so the checkout stays clean; back into notebooks/ with
--refresh). Called by scripts/notebooks.sh (which installs the kernel and sets evcxr up).

The kernel is "purchase-predict" (registered by scripts/setup.sh): evcxr with this checkout's
settings, which imports the crate at start (the first start after a change builds it: minutes).

The evcxr kernel does not report a panic or an error returned by `?` as a cell error (the
cell's stderr just holds the message), so every executed cell's outputs are inspected here:
any stderr fails the run. Headless kernels also get a panic hook that exits the kernel
(scripts/setup.sh's init.evcxr), which nbclient reports as a dead kernel.
Two output shapes fail too, because a reader would see them wrong in JupyterLab: one output holding
both an image and HTML (a frontend renders one MIME type per output, so the chart is hidden: a cell
must show everything with one `show_all`), and a bare `()` (a cell ending in a block).
A notebook is written only when all of it ran cleanly.
"""
import argparse
import datetime
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

NOTEBOOKS = [
    "01_explore",
    "02_preprocess",
    "03_train_tune",
    "04_evaluate",
    "05_deploy_invoke",
    "06_cleanup",
    "07_monitor",
]
KERNEL = "purchase-predict"
# A kernel's start includes building the crate after a change (minutes on two cores).
STARTUP_TIMEOUT = 1800


def warm_up(timeout, kernel=KERNEL):
    """Start a kernel as JupyterLab would and run one cell, so that the crate is built."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("purchase_predict::model::train::SAGEMAKER_XGBOOST_VERSION"))
    t0 = time.time()
    NotebookClient(nb, kernel_name=kernel, timeout=timeout, startup_timeout=STARTUP_TIMEOUT,
                   allow_errors=True).execute()
    bad = problems(nb)
    if bad:
        for i, text in bad:
            print(f"FAILED: warm-up cell:\n{text}", file=sys.stderr)
        sys.exit(1)
    print(f"   kernel ready in {time.time() - t0:.1f} s", flush=True)


def cell_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}\n" + "\n".join(out.get("traceback", [])))
        elif "data" in out and "text/plain" in out["data"]:
            parts.append(str(out["data"]["text/plain"]))
    return "".join(parts)


def problems(nb):
    """(cell number, excerpt) of every code cell that failed or did not run."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("execution_count") is None:
            found.append((i, "did not run"))
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append((i, cell_text(cell)[-2000:]))
                break
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                # Any stderr is a failure: a cell's `?` prints its error there and nothing
                # else (no "Error:" prefix), and the cells print nothing else to stderr.
                found.append((i, cell_text(cell)[-3000:]))
                break
            data = out.get("data", {})
            if "image/png" in data and "text/html" in data:
                found.append((i, "one output holds an image and HTML: JupyterLab shows the HTML and "
                                 "hides the chart (show the cell's items with one show_all)"))
                break
            if set(data) == {"text/plain"} and str(data["text/plain"]).strip() == "()":
                found.append((i, "the cell shows a bare `()` (end the block with `;`)"))
                break
    return found


def seconds(cell):
    ex = cell.get("metadata", {}).get("execution", {})
    try:
        start = ex["iopub.execute_input"]
        end = ex["shell.execute_reply"]
    except KeyError:
        return None
    parse = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*", help="notebooks to run (default: all seven, in order)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    ap.add_argument("--timings", default="target/notebooks/timings.json")
    ap.add_argument("--out", default="target/notebooks/out",
                    help="write the executed notebooks to this folder (default target/notebooks/out)")
    ap.add_argument("--refresh", action="store_true",
                    help="write them back into notebooks/ instead: the committed outputs (maintainers)")
    ap.add_argument("--kernel", default=KERNEL,
                    help=f"the kernelspec to run them with (default {KERNEL}; benches/kernel.sh registers others)")
    ap.add_argument("--warm-up", action="store_true",
                    help="only start a kernel (building the crate if needed) and run one cell")
    args = ap.parse_args()
    if args.warm_up:
        warm_up(args.timeout, args.kernel)
        return
    names = args.names or NOTEBOOKS
    here = os.path.dirname(os.path.abspath(__file__))
    folder = os.path.join(os.path.dirname(here), "notebooks")
    report = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "notebooks": []}
    t_all = time.time()
    for name in names:
        path = os.path.join(folder, name + ".ipynb")
        nb = nbformat.read(path, as_version=4)
        current = {"cell": None}

        def on_cell_execute(cell, cell_index, **_):
            current["cell"] = cell_index

        client = NotebookClient(
            nb,
            kernel_name=args.kernel,
            timeout=args.timeout,
            startup_timeout=STARTUP_TIMEOUT,
            allow_errors=True,
            record_timing=True,
            resources={"metadata": {"path": folder}},
            on_cell_execute=on_cell_execute,
        )
        print(f"== {name}.ipynb", flush=True)
        t0 = time.time()
        try:
            client.execute()
        except (DeadKernelError, CellTimeoutError) as e:
            i = current["cell"]
            print(f"FAILED: {name}.ipynb, cell {i}: {type(e).__name__}: {e}", file=sys.stderr)
            if i is not None:
                print(cell_text(nb.cells[i])[-3000:], file=sys.stderr)
            sys.exit(1)
        wall = time.time() - t0
        bad = problems(nb)
        if bad:
            for i, text in bad:
                print(f"FAILED: {name}.ipynb, cell {i}:\n{text}", file=sys.stderr)
            sys.exit(1)
        cells = [
            {"cell": i, "seconds": seconds(c), "source": "".join(c.source).split("\n")[0][:70]}
            for i, c in enumerate(nb.cells)
            if c.cell_type == "code"
        ]
        if args.refresh:
            nbformat.write(nb, path)
        else:
            os.makedirs(args.out, exist_ok=True)
            nbformat.write(nb, os.path.join(args.out, name + ".ipynb"))
        slowest = max(cells, key=lambda c: c["seconds"] or 0)
        in_cells = sum(c["seconds"] or 0 for c in cells)
        print(f"   ok in {wall:.1f} s (kernel start {wall - in_cells:.1f} s, cells {in_cells:.1f} s); "
              f"slowest cell {slowest['cell']} ({slowest['seconds']:.1f} s): {slowest['source']}", flush=True)
        report["notebooks"].append({"name": name, "seconds": wall, "kernel_start_seconds": wall - in_cells,
                                    "cells": cells})
    report["seconds"] = time.time() - t_all
    os.makedirs(os.path.dirname(args.timings), exist_ok=True)
    with open(args.timings, "w") as f:
        json.dump(report, f, indent=1)
    print(f"== all {len(names)} notebooks ran cleanly in {report['seconds']:.1f} s (timings: {args.timings})")


if __name__ == "__main__":
    main()
