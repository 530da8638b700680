"""Open the walkthrough in JupyterLab in a real browser, as a data scientist would, and run a
notebook there: Debian's Chromium driven by chromedriver through Selenium.

JupyterLab is started by scripts/lab.sh itself (the command the README gives users), on a free
port with a known token. A copy of the notebook is opened (so the committed one is not
rewritten), "Run All Cells" is chosen from JupyterLab's Run menu, and once every cell has run the
rendered page must show a chart image, an HTML table, and no cell error or panic. A screenshot
is left in target/notebooks/browser-check.png.

    python scripts/browser_check.py [NOTEBOOK]      # default 01_explore

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook", nargs="?", default="01_explore")
    ap.add_argument("--timeout", type=int, default=900, help="seconds for the whole notebook")
    args = ap.parse_args()

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
    copy_name = "browser-check.ipynb"
    copy = os.path.join(notebooks, copy_name)
    shutil.copyfile(os.path.join(notebooks, args.notebook + ".ipynb"), copy)
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
        driver.get(f"{base}/lab/tree/{copy_name}?token={token}")

        def visible(xpath):
            for e in driver.find_elements(By.XPATH, xpath):
                if e.is_displayed():
                    return e
            return None

        def kernel_state():
            with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=5) as r:
                sessions = json.load(r)
            for s in sessions:
                if s.get("path", "").endswith(copy_name):
                    return s["kernel"]["execution_state"]
            return None

        # The notebook is open and its kernel started and idle (evcxr ran its startup file).
        wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"), 120,
                 "the notebook to render")
        t_kernel = time.time()
        wait_for(lambda: kernel_state() == "idle", 1800, "the kernel to start")
        print(f"kernel ready after {time.time() - t_kernel:.1f} s", flush=True)
        t1 = time.time()
        wait_for(lambda: visible("//div[contains(@class,'lm-MenuBar-itemLabel') and text()='Run']"),
                 60, "the Run menu").click()
        wait_for(lambda: visible("//li[contains(@class,'lm-Menu-item')]"
                                 "[.//div[contains(@class,'lm-Menu-itemLabel') and text()='Run All Cells']]"),
                 30, "Run All Cells").click()

        prompts_js = (
            "return Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'))"
            ".map(e => e.textContent.trim());"
        )

        def all_ran():
            prompts = driver.execute_script(prompts_js)
            return prompts and all(p.startswith("[") and p[1:-2].strip().isdigit() for p in prompts)

        wait_for(lambda: all_ran() and kernel_state() == "idle", args.timeout, "every cell to run")
        print(f"all cells ran in {time.time() - t1:.1f} s", flush=True)
        driver.save_screenshot(shot)

        images = driver.execute_script(
            "return document.querySelectorAll('.jp-OutputArea-output img[src^=\"data:image/png\"]').length;")
        tables = driver.execute_script(
            "return document.querySelectorAll('.jp-OutputArea-output table').length;")
        errors = driver.execute_script(
            "return Array.from(document.querySelectorAll("
            "'.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]'))"
            ".map(e => e.textContent);")
        failures = [e for e in errors if any(m in e for m in FAILURE_MARKERS)]
        print(f"rendered: {images} chart images, {tables} HTML tables, "
              f"{len(errors)} stderr outputs ({len(failures)} with an error)")
        problems = []
        if images < 1:
            problems.append("no chart image was rendered")
        if tables < 1:
            problems.append("no HTML table was rendered")
        for f in failures:
            problems.append("a cell shows an error:\n" + f[-2000:])
        if problems:
            print("browser check FAILED:\n" + "\n".join(problems), file=sys.stderr)
            sys.exit(1)
        print(f"browser check ok ({args.notebook} in JupyterLab; screenshot {shot})")
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
        for leftover in (copy, os.path.join(notebooks, ".ipynb_checkpoints", "browser-check-checkpoint.ipynb")):
            if os.path.exists(leftover):
                os.remove(leftover)


if __name__ == "__main__":
    main()
