"""Run inside gdb (-x, after the plugin's gdbinit): runs each probe-heap
command of PH_COMMANDS (a JSON list of [key, command]) in this one session,
so that the index is built once, and writes {key: {"ok", "text" | "error",
"seconds"}} to PH_OUT after every command (a crash keeps what was done)."""

import json
import os
import time

import gdb

commands = json.load(open(os.environ["PH_COMMANDS"]))
out_path = os.environ["PH_OUT"]
out = {}


def save():
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.rename(tmp, out_path)


for key, cmd in commands:
    t0 = time.time()
    try:
        text = gdb.execute(cmd, to_string=True)
        out[key] = {"ok": True, "text": text, "seconds": time.time() - t0, "command": cmd}
    except Exception as e:          # gdb.error, gdb.GdbError, anything the plugin lets out
        out[key] = {"ok": False, "error": "%s: %s" % (type(e).__name__, e),
                    "seconds": time.time() - t0, "command": cmd}
    save()
save()
