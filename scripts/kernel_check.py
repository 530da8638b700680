"""Kernel-level checks of the evcxr build the notebooks run on (patched or stock), through the
Jupyter protocol as JupyterLab drives a kernel. Each check asserts what a user sees in a cell:

- an edit to a path dependency's source between two cells is seen by the next cell (the patched
  kernel replays the cell's rustc invocation without cargo; it must notice the edit), and so is
  an edit to the dependency's Cargo.toml;
- a `let` with an explicit type and one without both bind variables later cells can use;
- after a cell panics, the variables earlier cells made are still there;
- `?` works in the first cell and returns the error as the cell's error text;
- a cell with a compile error reports it and the kernel goes on.

Runs in a kernel of its own (a temporary EVCXR_TMPDIR and config, no purchase-predict graph),
so it takes seconds, not the notebooks' minutes.

    python scripts/kernel_check.py --evcxr PATH/TO/evcxr_jupyter
"""
import argparse
import json
import queue
import shutil
import tempfile
import time
from pathlib import Path

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager


class Kernel:
    """One evcxr kernel in a temporary folder, with cells run one at a time."""

    def __init__(self, argv, root, env=None, ready_timeout=120):
        """A kernel started by `argv` (a kernelspec's, with "{connection_file}"); `env` None
        gives it a config and build folder of its own under `root` (no crate imported), else
        the kernel runs with `env` (a kernelspec's)."""
        self.root = Path(root)
        spec_dir = self.root / "kernels" / "evcxr-check"
        spec_dir.mkdir(parents=True)
        if env is None:
            config = self.root / "config"
            config.mkdir()
            (config / "init.evcxr").write_text(":linker mold\n:offline 1\n")
            (config / "evcxr.toml").write_text('[evcxr]\nopt_level = "0"\n')
            (self.root / "work").mkdir()
            env = {"EVCXR_CONFIG_DIR": str(config), "EVCXR_TMPDIR": str(self.root / "work")}
        spec = {
            "argv": argv,
            "display_name": "evcxr check",
            "language": "rust",
            "env": env,
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        ksm = KernelSpecManager(kernel_dirs=[str(self.root / "kernels")])
        self.km = KernelManager(kernel_name="evcxr-check", kernel_spec_manager=ksm)
        self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        # A kernel answers once its startup file ran: with the crate imported, that includes
        # building it after a change (minutes).
        self.kc.wait_for_ready(timeout=ready_timeout)

    def run(self, code, timeout=300):
        """Runs a cell; returns (seconds, stdout, stderr, text/plain result, error)."""
        t0 = time.time()
        msg_id = self.kc.execute(code)
        stdout, stderr, result, error = [], [], None, None
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                raise SystemExit(f"FAILED: no answer within {timeout} s to:\n{code}")
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                (stdout if content["name"] == "stdout" else stderr).append(content["text"])
            elif kind in ("execute_result", "display_data"):
                result = content["data"].get("text/plain", result)
            elif kind == "error":
                error = content["ename"] + ": " + content["evalue"]
            elif kind == "status" and content["execution_state"] == "idle":
                break
        elapsed = time.time() - t0
        # evcxr forwards the cell process's stderr from a thread of its own: a line can reach
        # the frontend just after "idle" (JupyterLab still shows it in the cell).
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.3)
            except queue.Empty:
                break
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                content = msg["content"]
                (stdout if content["name"] == "stdout" else stderr).append(content["text"])
        return elapsed, "".join(stdout), "".join(stderr), result, error

    def stop(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def expect(what, ok, detail):
    if not ok:
        raise SystemExit(f"FAILED: {what}\n{detail}")
    print(f"   ok: {what}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evcxr", required=True, help="the evcxr_jupyter binary")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="kernel-check-")
    probe = Path(root) / "probe"
    (probe / "src").mkdir(parents=True)
    (probe / "Cargo.toml").write_text(
        '[package]\nname = "probe"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\n')
    (probe / "src" / "lib.rs").write_text("pub fn value() -> i32 { 1 }\n")
    kernel = Kernel([args.evcxr, "--control_file", "{connection_file}"], root)
    try:
        print(f"== kernel checks: {args.evcxr}")
        _, out, err, result, error = kernel.run('let n: i32 = "5".parse()?;\nn + 1')
        expect("`?` in the first cell", result == "6" and not error, (out, err, result, error))
        _, out, err, result, error = kernel.run('let m: i32 = "five".parse()?;\nm')
        expect("`?` returns the error as the cell's error text",
               "invalid digit" in err + (error or ""), (out, err, result, error))

        _, out, err, result, error = kernel.run(
            f':dep probe = {{ path = "{probe}" }}\nprobe::value()')
        expect("a path dependency's function", result == "1", (out, err, result, error))
        kernel.run("let warm: i32 = 0;")  # a cell that makes the replay record
        time.sleep(0.05)
        (probe / "src" / "lib.rs").write_text("pub fn value() -> i32 { 2 }\n")
        _, out, err, result, error = kernel.run("probe::value()")
        expect("an edit to the dependency's source is seen by the next cell", result == "2",
               (out, err, result, error))
        (probe / "src" / "extra.rs").write_text("pub fn more() -> i32 { 30 }\n")
        (probe / "src" / "lib.rs").write_text(
            "pub mod extra;\npub fn value() -> i32 { 3 }\n")
        _, out, err, result, error = kernel.run("probe::value() + probe::extra::more()")
        expect("a new module of the dependency is seen", result == "33",
               (out, err, result, error))
        kernel.run("let again: i32 = 1;")
        (probe / "Cargo.toml").write_text(
            '[package]\nname = "probe"\nversion = "0.1.0"\nedition = "2021"\n'
            '[features]\ndefault = ["big"]\nbig = []\n[dependencies]\n')
        (probe / "src" / "lib.rs").write_text(
            "pub mod extra;\n#[cfg(feature = \"big\")]\npub fn value() -> i32 { 100 }\n"
            "#[cfg(not(feature = \"big\"))]\npub fn value() -> i32 { 3 }\n")
        _, out, err, result, error = kernel.run("probe::value()")
        expect("an edit to the dependency's Cargo.toml is seen", result == "100",
               (out, err, result, error))

        kernel.run("let typed: Vec<i64> = vec![1, 2, 3];")
        kernel.run("let untyped = typed.iter().sum::<i64>() * 2;")
        kernel.run('let (first, label): (i64, String) = (100, "n".to_string());')
        kernel.run('let (second, _) = (1000_i64, "ignored");')
        _, out, err, result, error = kernel.run(
            "typed.len() as i64 + untyped + first + second + label.len() as i64")
        expect("typed, untyped and tuple `let`s all persist", result == "1116",
               (out, err, result, error))

        _, out, err, result, error = kernel.run('let kept: String = "kept".to_string();')
        _, out, err, result, error = kernel.run('panic!("on purpose");')
        expect("a panic is reported", "on purpose" in err + (error or ""),
               (out, err, result, error))
        _, out, err, result, error = kernel.run("format!(\"{kept} {untyped}\")")
        expect("variables survive a panic", result == '"kept 12"', (out, err, result, error))

        _, out, err, result, error = kernel.run("let broken: i32 = \"text\";")
        expect("a compile error is reported", "mismatched types" in err + (error or ""),
               (out, err, result, error))
        _, out, err, result, error = kernel.run("kept.len()")
        expect("the kernel goes on after a compile error", result == "4",
               (out, err, result, error))
    finally:
        kernel.stop()
        shutil.rmtree(root, ignore_errors=True)
    print("== kernel checks passed")


if __name__ == "__main__":
    main()
