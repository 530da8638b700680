"""Open the walkthrough in JupyterLab in a real browser, as a data scientist would, and run the
seven notebooks there in order: Debian's Chromium driven by chromedriver through Selenium.

JupyterLab is started by scripts/lab.sh itself (the command the README gives users), on a free
port with a known token. For each notebook a copy is opened (so the committed one is not
rewritten), "Run All Cells" is chosen from JupyterLab's Run menu, and once every cell has run the
page must show no cell error or panic, and each code cell must show as many chart images as the
same cell of the headless run's executed copy holds (--executed FOLDER): a PNG that JupyterLab
does not render (an image beside HTML in one output) fails the check with its cell. A screenshot
of each notebook is left in target/notebooks/browser-check-NAME.png. Last, two small notebooks are
opened at once in one workspace and run side by side: each must get a kernel of its own and show
its own value (--no-two skips this).

    python scripts/browser_check.py --executed target/notebooks/out [NOTEBOOK ...]   # default: all seven

Called by scripts/notebooks.sh after the headless run (the kernel's build is warm then).
Outside CI it skips, saying why, when Chromium or chromedriver is missing; under CI it fails.
"""
import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

FAILURE_MARKERS = ("panicked at", "error[E", "Error: ")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def skip_or_fail(reason):
    if os.environ.get("CI"):
        print(f"browser check FAILED: {reason}", file=sys.stderr)
        sys.exit(1)
    print(f"browser check skipped: {reason}")
    sys.exit(0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise TimeoutError(f"gave up after {timeout} s waiting for {what}")


NOTEBOOKS = ["01_explore", "02_preprocess", "03_train_tune", "04_evaluate", "05_deploy_invoke",
             "06_cleanup", "07_monitor"]


def pngs_per_code_cell(path):
    """The chart images each code cell of an executed notebook holds: image/png outputs, and
    PNG images inside HTML outputs."""
    with open(path) as f:
        nb = json.load(f)
    counts = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        n = 0
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                n += 1
            html = data.get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            n += html.count("data:image/png;base64,")
        counts.append(n)
    return counts


def run_all_cells(visible):
    """Choose Run > Run All Cells in JupyterLab's menu bar, for the active notebook."""
    wait_for(lambda: visible("//div[contains(@class,'lm-MenuBar-itemLabel') and text()='Run']"),
             60, "the Run menu").click()
    wait_for(lambda: visible("//li[contains(@class,'lm-Menu-item')]"
                             "[.//div[contains(@class,'lm-Menu-itemLabel') and text()='Run All Cells']]"),
             30, "Run All Cells").click()


def two_at_once(driver, base, token, api, visible, notebooks, copies, By):
    """Two notebooks open at once in one JupyterLab, as a user with two tabs has them: each gets a
    kernel of its own (scripts/kernel.sh gives each a crate folder of its own over the shared
    build), both run, and each shows its own value. Returns the problems found."""
    import nbformat
    names = []
    for k in ("a", "b"):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "purchase-predict", "display_name": "Rust (purchase-predict)",
                                     "language": "rust"}
        value = {"a": 1, "b": 2}[k]
        nb.cells = [
            nbformat.v4.new_code_cell(f"let mine: i64 = {value};"),
            nbformat.v4.new_code_cell("use purchase_predict::model::train::SAGEMAKER_XGBOOST_VERSION;\n"
                                      "format!(\"notebook {} on XGBoost {}\", mine, SAGEMAKER_XGBOOST_VERSION)"),
        ]
        name = f"browser-check-two-{k}.ipynb"
        nbformat.write(nb, os.path.join(notebooks, name))
        copies.append(os.path.join(notebooks, name))
        names.append(name)

    def sessions():
        return [s for s in api("GET", "/api/sessions") if s.get("path", "").endswith(tuple(names))]

    def idle(name):
        return any(s["path"].endswith(name) and s["kernel"]["execution_state"] == "idle"
                   for s in sessions())

    t0 = time.time()
    driver.get(f"{base}/lab/workspaces/check-two/tree/{names[0]}?reset&token={token}")
    wait_for(lambda: idle(names[0]), 600, f"{names[0]}'s kernel to start")
    # The same workspace, a second document: JupyterLab keeps the first open beside it.
    driver.get(f"{base}/lab/workspaces/check-two/tree/{names[1]}?token={token}")
    wait_for(lambda: idle(names[1]) and idle(names[0]), 600, "both kernels to be idle")
    problems = []
    kernels = {s["kernel"]["id"] for s in sessions()}
    if len(kernels) != 2:
        problems.append(f"two notebooks open: {len(kernels)} kernel(s) running, not 2")

    run_all_cells(visible)  # the second notebook, the active one
    wait_for(lambda: visible(f"//li[contains(@class,'lm-TabBar-tab')][.//div[text()='{names[0]}']]"),
             30, f"{names[0]}'s tab").click()
    run_all_cells(visible)  # the first, while the second may still run

    def outputs():
        return driver.execute_script(
            "return Array.from(document.querySelectorAll('.jp-NotebookPanel')).map(p => "
            "Array.from(p.querySelectorAll('.jp-OutputArea-output')).map(o => o.textContent).join('\\n'));")

    want = ["notebook 1 on XGBoost 1.7-1", "notebook 2 on XGBoost 1.7-1"]
    try:
        wait_for(lambda: all(any(w in o for o in outputs()) for w in want) and idle(names[0]) and idle(names[1]),
                 300, "both notebooks' results")
    except Exception:  # noqa: BLE001 - reported as a problem below with what the page shows
        problems.append("two notebooks open at once: expected each to show its own value; the page has "
                        + repr(outputs())[:1500])
    for o in outputs():
        if any(m in o for m in FAILURE_MARKERS):
            problems.append("two notebooks open at once: a cell shows an error:\n" + o[-2000:])
    print(f"two notebooks open at once: {len(kernels)} kernels, both ran in {time.time() - t0:.1f} s",
          flush=True)
    for s in sessions():
        api("DELETE", f"/api/sessions/{s['id']}")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebooks", nargs="*", help="default: all seven, in order")
    ap.add_argument("--executed", default="target/notebooks/out",
                    help="the headless run's executed notebooks, to compare charts with")
    ap.add_argument("--timeout", type=int, default=900, help="seconds for one notebook")
    ap.add_argument("--no-two", dest="two", action="store_false",
                    help="skip the last check: two notebooks open at once, run side by side")
    args = ap.parse_args()
    names = args.notebooks or NOTEBOOKS

    for tool in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not os.path.exists(tool):
            skip_or_fail(f"{tool} is not installed (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
    except ImportError:
        skip_or_fail("selenium is not installed in this Python (notebooks/requirements.txt)")

    notebooks = os.path.join(ROOT, "notebooks")
    copy_name = copy = None
    copies = []
    expected = {}
    for name in names:
        executed = os.path.join(ROOT, args.executed, name + ".ipynb")
        if not os.path.exists(executed):
            print(f"browser check FAILED: {executed} is missing (run the headless walkthrough first)",
                  file=sys.stderr)
            sys.exit(1)
        expected[name] = pngs_per_code_cell(executed)
    port, token = free_port(), secrets.token_hex(24)
    env = dict(os.environ, PURCHASE_PREDICT_LAB_PORT=str(port), PURCHASE_PREDICT_LAB_TOKEN=token)
    lab_log = open(os.path.join(ROOT, "target", "notebooks", "browser-check-lab.log"), "w")
    lab = subprocess.Popen(
        ["bash", os.path.join(ROOT, "scripts", "lab.sh")],
        env=env,
        stdout=lab_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    driver = None
    shot = os.path.join(ROOT, "target", "notebooks", "browser-check.png")
    problems = []
    try:
        base = f"http://127.0.0.1:{port}"

        def lab_up():
            if lab.poll() is not None:
                raise RuntimeError(f"scripts/lab.sh exited with {lab.returncode} (see {lab_log.name})")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        t0 = time.time()
        wait_for(lab_up, 1800, "JupyterLab to answer")
        print(f"JupyterLab answered after {time.time() - t0:.1f} s", flush=True)

        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1400,1000",
            f"--user-data-dir={os.path.join(ROOT, 'target', 'notebooks', 'chromium-profile')}",
        ):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)

        def visible(xpath):
            for e in driver.find_elements(By.XPATH, xpath):
                if e.is_displayed():
                    return e
            return None

        def api(method, path):
            req = urllib.request.Request(f"{base}{path}?token={token}", method=method)
            with urllib.request.urlopen(req, timeout=10) as r:
                body = r.read()
                return json.loads(body) if body else None

        def session():
            for s in api("GET", "/api/sessions"):
                if s.get("path", "").endswith(copy_name):
                    return s
            return None

        def kernel_state():
            s = session()
            return s["kernel"]["execution_state"] if s else None

        prompts_js = (
            "return Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'))"
            ".map(e => e.textContent.trim());"
        )
        images_js = (
            "return Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell')).map(c => "
            "c.querySelectorAll('.jp-OutputArea-output img[src^=\"data:image/png\"]').length);"
        )

        def all_ran():
            prompts = driver.execute_script(prompts_js)
            return prompts and all(p.startswith("[") and p[1:-2].strip().isdigit() for p in prompts)

        for name in names:
            copy_name = f"browser-check-{name}.ipynb"
            copy = os.path.join(notebooks, copy_name)
            copies.append(copy)
            shutil.copyfile(os.path.join(notebooks, name + ".ipynb"), copy)
            shot = os.path.join(ROOT, "target", "notebooks", f"browser-check-{name}.png")
            # A workspace of its own, reset: JupyterLab would otherwise reopen the notebooks of the
            # earlier pages and start their kernels beside this one.
            driver.get(f"{base}/lab/workspaces/check-{name}/tree/{copy_name}?reset&token={token}")
            # The notebook is open and its kernel started and idle (evcxr ran its startup file).
            wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"), 120,
                     "the notebook to render")
            t_kernel = time.time()
            wait_for(lambda: kernel_state() == "idle", 1800, "the kernel to start")
            t1 = time.time()
            run_all_cells(visible)
            wait_for(lambda: all_ran() and kernel_state() == "idle", args.timeout, f"every cell of {name} to run")
            driver.save_screenshot(shot)
            on_page = driver.execute_script(images_js)
            errors = driver.execute_script(
                "return Array.from(document.querySelectorAll("
                "'.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]'))"
                ".map(e => e.textContent);")
            failures = [e for e in errors if any(m in e for m in FAILURE_MARKERS)]
            want = expected[name]
            print(f"{name}: kernel ready after {t1 - t_kernel:.1f} s, cells ran in {time.time() - t1:.1f} s; "
                  f"{sum(on_page)} chart images on the page, {sum(want)} in the executed notebook, "
                  f"{len(failures)} errors", flush=True)
            if len(on_page) != len(want):
                problems.append(f"{name}: {len(on_page)} code cells on the page, {len(want)} in the notebook")
            for i, (got, exp) in enumerate(zip(on_page, want)):
                if got != exp:
                    problems.append(f"{name}, code cell {i + 1}: {exp} chart(s) in the notebook, "
                                    f"{got} rendered in JupyterLab (screenshot {shot})")
            for f in failures:
                problems.append(f"{name}: a cell shows an error:\n" + f[-2000:])
            # Stop this notebook's kernel before the next one starts.
            s = session()
            if s:
                api("DELETE", f"/api/sessions/{s['id']}")
        if args.two:
            problems += two_at_once(driver, base, token, api, visible, notebooks, copies, By)
        if problems:
            print("browser check FAILED:\n" + "\n".join(problems), file=sys.stderr)
            sys.exit(1)
        print(f"browser check ok: {', '.join(names)} ran in JupyterLab and every chart rendered"
              + ("; two notebooks open at once each ran on a kernel of its own" if args.two else ""))
    except Exception as e:  # noqa: BLE001 - report anything that went wrong with the page
        if driver is not None:
            driver.save_screenshot(shot)
        print(f"browser check FAILED: {type(e).__name__}: {e} (screenshot {shot}, "
              f"JupyterLab log {lab_log.name})", file=sys.stderr)
        sys.exit(1)
    finally:
        if driver is not None:
            driver.quit()
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGTERM)
            try:
                lab.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(lab.pid, signal.SIGKILL)
        for c in copies:
            checkpoint = os.path.join(notebooks, ".ipynb_checkpoints",
                                      os.path.basename(c).replace(".ipynb", "-checkpoint.ipynb"))
            for leftover in (c, checkpoint):
                if os.path.exists(leftover):
                    os.remove(leftover)


if __name__ == "__main__":
    main()
