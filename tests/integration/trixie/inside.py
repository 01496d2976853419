"""Run inside the trixie root by test_package.py, with trixie's python3:
start the workload on trixie's python3.13, take a core with trixie's gcore,
and ask the installed probe-heap (no -x, no path) about it, from the shell
and from gdb itself.  Prints one JSON document."""
import json
import os
import signal
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
work = sys.argv[1]
truth_path = os.path.join(work, "truth.json")
p = subprocess.Popen(["python3.13", os.path.join(here, "workload.py"), truth_path],
                     stdin=subprocess.DEVNULL)
deadline = time.time() + 120
while True:
    with open("/proc/%d/stat" % p.pid) as f:
        if f.read().rsplit(")", 1)[1].split()[0] in ("T", "t"):
            break
    if p.poll() is not None or time.time() > deadline:
        print(json.dumps({"error": "the workload did not stop"}))
        sys.exit(1)
    time.sleep(0.05)
out = {}
with open(truth_path) as f:
    out["truth"] = json.load(f)


def run(args):
    r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    return {"rc": r.returncode, "stdout": r.stdout, "stderr": r.stderr}


try:
    prefix = os.path.join(work, "core")
    g = run(["gcore", "-o", prefix, str(p.pid)])
    core = "%s.%d" % (prefix, p.pid)
    out["gcore"] = g["rc"]
    out["version"] = run(["probe-heap", "--version"])
    out["partition"] = run(["probe-heap", "--core", core, "--json", "partition", "--by", "type"])
    out["sizeof"] = run(["probe-heap", "--core", core, "--json", "sizeof", "__main__:markers"])
    out["backrefs"] = run(["probe-heap", "--core", core, "--json", "backrefs",
                           hex(out["truth"]["one_marker"])])
    # gdb alone, as a user types it: the plugin comes from the system gdbinit.d
    out["gdb"] = run(["gdb", "-batch", "-ex", "probe-heap info", "-p", str(p.pid)])
finally:
    p.send_signal(signal.SIGKILL)
    p.wait()
print(json.dumps(out))
