"""The cell timings of executed notebooks, from their cells' `execution` metadata
(`iopub.execute_input` to `shell.execute_reply`, as nbclient records them): each notebook's
first code cell and total, and over all of them the warm cells (every code cell but a
notebook's first two) as median and 90th percentile.

    python3 scripts/notebook_timings.py                      # the committed notebooks
    python3 scripts/notebook_timings.py target/notebooks/out # another folder of executed copies
"""
import datetime
import glob
import json
import os
import sys


def seconds(cell):
    ex = cell.get("metadata", {}).get("execution", {})
    if "iopub.execute_input" not in ex or "shell.execute_reply" not in ex:
        return None
    parse = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (parse(ex["shell.execute_reply"]) - parse(ex["iopub.execute_input"])).total_seconds()


def quantile(sorted_values, q):
    # The nearest rank at or above q: with 35 cells, the median is the 18th and p90 the 32nd.
    i = max(0, min(len(sorted_values) - 1, -(-int(q * len(sorted_values) * 1000) // 1000) - 1))
    return sorted_values[i]


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "notebooks")
    warm = []
    for path in sorted(glob.glob(os.path.join(folder, "0*.ipynb"))):
        with open(path) as f:
            cells = [c for c in json.load(f)["cells"] if c["cell_type"] == "code"]
        times = [seconds(c) for c in cells]
        if any(t is None for t in times):
            sys.exit(f"{path}: a code cell has no execution metadata (not executed by nbclient?)")
        warm += times[2:]
        print(f"{os.path.basename(path)}: first code cell {times[0]:.1f} s, cells {sum(times):.1f} s")
    warm.sort()
    if warm:
        print(f"warm cells (every code cell but a notebook's first two): {len(warm)}, "
              f"median {quantile(warm, 0.5):.2f} s, p90 {quantile(warm, 0.9):.2f} s")


if __name__ == "__main__":
    main()
