"""Endpoint soak: N clients send worst-case bodies at once; the server's peak memory is read
from /proc and set against the ceiling that ServerConfig documents.

    python3 benches/soak.py URL PID CLIENTS ROUNDS CUSTOMERS_CSV MAX_CONCURRENT [IDLE]

Bodies (each as large as a request may be: 6 MB and at most 100,000 rows):
- json: raw customer records, the costliest to parse (all input columns, as text);
- csv: preprocessed rows of 30 features;
- libsvm-over: 3 million 2-byte rows (refused with 413 on its row count);
- huge: a body announced at 1 GB (refused with 413 before it is read).
Beside them, IDLE connections (default 900) each hold a half-sent request for the whole soak.
Prints one JSON line: statuses, seconds, peak RSS (VmHWM) and the ceiling.
"""
import csv
import http.client
import socket
import json
import sys
import threading
import time
import urllib.parse

url, pid, clients, rounds, customers, max_concurrent = sys.argv[1:7]
clients, rounds, max_concurrent = int(clients), int(rounds), int(max_concurrent)
idle = int(sys.argv[7]) if len(sys.argv) > 7 else 900
u = urllib.parse.urlparse(url)
LIMIT = 6 * 1024 * 1024
MAX_ROWS = 100_000


def json_body():
    with open(customers, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r.pop("purchased", None)
        r.pop("customer_id", None)
    parts, size, i = [], 0, 0
    while len(parts) < MAX_ROWS:
        piece = json.dumps(rows[i % len(rows)])
        if size + len(piece) + 40 > LIMIT:
            break
        parts.append(piece)
        size += len(piece) + 1
        i += 1
    return ('{"instances": [' + ",".join(parts) + "]}").encode(), len(parts)


def csv_body():
    row = ",".join(["0.123456"] * 29 + ["1"]) + "\n"
    n = min(MAX_ROWS, LIMIT // len(row))
    return (row * n).encode(), n


def vm(field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


jb, jrows = json_body()
cb, crows = csv_body()
bodies = {
    "json": ("application/json", jb),
    "csv": ("text/csv", cb),
    "libsvm-over": ("text/libsvm", b"1\n" * 3_000_000),
}
statuses = {}
lock = threading.Lock()


def client(k):
    kinds = list(bodies) + ["huge"]
    for r in range(rounds):
        kind = kinds[(k + r) % len(kinds)]
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
        try:
            if kind == "huge":
                c.putrequest("POST", "/invocations")
                c.putheader("Content-Type", "text/csv")
                c.putheader("Content-Length", str(1 << 30))
                c.putheader("Expect", "100-continue")
                c.endheaders()
            else:
                ctype, body = bodies[kind]
                c.request("POST", "/invocations", body=body, headers={"Content-Type": ctype})
            status = c.getresponse().status
        except Exception as e:  # a refused body may close the connection mid-send
            status = type(e).__name__
        finally:
            c.close()
        with lock:
            statuses.setdefault(kind, {}).setdefault(str(status), 0)
            statuses[kind][str(status)] += 1


rss_before = vm("VmRSS")
held = []
for _ in range(idle):
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n")
    held.append(s)
t0 = time.time()
threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
seconds = time.time() - t0
for s in held:
    s.close()
peak = vm("VmHWM")
# ServerConfig's ceiling: 50 MB, 120 MB a scoring slot, 64 KB a connection, and the large
# bodies read and waiting for a slot (the body budget, 4 x max_concurrent x 6 MiB).
ceiling = 50e6 + max_concurrent * 120e6 + 1024 * 64 * 1024 + 4 * max_concurrent * 6 * 1024 * 1024
print(json.dumps({
    "clients": clients,
    "idle_connections": idle,
    "requests": clients * rounds,
    "json_body": {"bytes": len(jb), "rows": jrows},
    "csv_body": {"bytes": len(cb), "rows": crows},
    "statuses": statuses,
    "seconds": round(seconds, 1),
    "rss_before_mb": round(rss_before / 1e6, 1),
    "peak_rss_mb": round(peak / 1e6, 1),
    "ceiling_mb": round(ceiling / 1e6),
    "peak_over_ceiling": round(peak / ceiling, 2),
}))
