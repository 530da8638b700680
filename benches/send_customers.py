"""Send a customer table to an endpoint as JSON instances, `batch` customers a request, each
request with an inference id (`<prefix>-<request>`): the traffic of benches/monitor.sh.

    send_customers.py URL TABLE.csv [BATCH]

Standard library only. Empty fields are sent as null, numbers as numbers, the rest as text;
the target column (`purchased`) is left out, as a deployed model never sees it.
"""
import csv
import http.client
import json
import sys
import urllib.parse

url, table = sys.argv[1], sys.argv[2]
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
target = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)


def value(text):
    if text == "":
        return None
    try:
        return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return text


def send(rows, n):
    body = json.dumps({"instances": rows})
    conn.request("POST", "/invocations", body=body, headers={
        "Content-Type": "application/json",
        "X-Amzn-SageMaker-Inference-Id": f"req-{n:06d}",
    })
    r = conn.getresponse()
    answer = r.read()
    if r.status != 200:
        sys.exit(f"request {n}: {r.status} {answer[:300]!r}")


with open(table, newline="") as f:
    rows, n, total = [], 0, 0
    for record in csv.DictReader(f):
        record.pop("purchased", None)
        rows.append({k: value(v) for k, v in record.items()})
        if len(rows) == batch:
            send(rows, n)
            n, total, rows = n + 1, total + len(rows), []
    if rows:
        send(rows, n)
        n, total = n + 1, total + len(rows)
print(json.dumps({"requests": n, "customers": total}))
