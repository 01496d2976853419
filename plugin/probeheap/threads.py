"""probe-heap threads: every Python thread and its stack, innermost frame
first, with the line each frame executes (as py-bt and pystack show them)."""

import json
import struct

import gdb

from . import options, state


def _lwps():
    """pthread_t -> LWP of the inferior's threads, as gdb (libthread_db) knows
    them; empty when it does not."""
    out = {}
    try:
        threads = gdb.selected_inferior().threads()
    except gdb.error:
        return out
    for t in threads:
        try:
            h = t.handle()
        except (gdb.error, RuntimeError, AttributeError):
            continue
        if h and len(h) == 8:
            out[struct.unpack("<Q", bytes(h))[0]] = t.ptid[1]
    return out


def threads(heap):
    """heap.threads(), with each thread's native id (its LWP) taken from gdb
    where the target's PyThreadState does not keep it (3.8 to 3.10): the
    thread id is the thread's pthread_t, which gdb's thread handles are."""
    ts = heap.threads()
    lwps = None
    for t in ts:
        if not t["native_id"]:
            if lwps is None:
                lwps = _lwps()
            t["native_id"] = lwps.get(t["thread_id"], 0)
    return ts


def _frame_json(f):
    out = {"function": f["function"], "file": f["file"],
           "line": f["line"] if f["line"] >= 0 else None, "first_line": f["first_line"],
           "address": f["address"], "code": f["code"]}
    for k in ("source", "locals"):
        if k in f:
            out[k] = f[k]
    return out


def _thread_json(t):
    return {"thread_id": t["thread_id"], "native_id": t["native_id"] or None,
            "name": t.get("name"), "tstate": t["tstate"], "interp": t["interp"],
            "truncated": t["truncated"], "frames": [_frame_json(f) for f in t["frames"]]}


REPEATS_SHOWN = 3


def frame_lines(frames, details=None):
    """One line per frame, as in a traceback; like CPython's tracebacks,
    a line repeated more than three times in a row is shown three times,
    then counted."""
    out, last, count = [], None, 0

    def flush():
        if count > REPEATS_SHOWN:
            n = count - REPEATS_SHOWN
            out.append("  [Previous line repeated %d more time%s]" % (n, "s" if n > 1 else ""))

    for f in frames:
        line = "%d" % f["line"] if f["line"] >= 0 else "?"
        text = '  File "%s", line %s, in %s' % (f["file"], line, f["function"])
        if text == last:
            count += 1
            if count > REPEATS_SHOWN:
                continue
        else:
            flush()
            last, count = text, 1
        out.append(text)
        if details:
            out += details(f)
    flush()
    return out


def _thread_text(t, show_interp, details=None):
    head = "Thread 0x%x" % t["thread_id"]
    if details and t.get("name"):
        head += " %r" % t["name"]
    if t["native_id"]:
        head += " (native %d)" % t["native_id"]
    if show_interp:
        head += ", interpreter 0x%x" % t["interp"]
    lines = [head + (" (most recent call first):" if t["frames"] else ":")]
    lines += frame_lines(t["frames"], details)
    if t["truncated"]:
        lines.append("  <stack cut short: a frame link is unreadable or loops>")
    elif not t["frames"]:
        lines.append("  <no Python frame>")
    return "\n".join(lines) + "\n"


def cmd_threads(argv, as_json):
    """Every Python thread and its stack, innermost frame first, with the line each frame executes.

    Usage: probe-heap threads [--locals] [--human] [--json]

    Like py-bt for every thread: thread id (threading.get_ident()), native id,
    and each frame's file, line and function, read from the thread states.
    --locals adds each thread's name (threading's), each line's source text
    where the file is readable (under --sysroot too), and each frame's local
    variables: kind, address, preview and retained size (--human: in KiB,
    MiB, GiB).  --json always gives names and source lines."""
    from . import thread_locals
    opts, rest, as_json = options.parse(argv, {"--locals", "--human"}, set(), as_json)
    if rest:
        raise options.UsageError("threads takes no arguments, only --locals, --human and --json")
    h = state.heap(quiet=as_json)
    ts = threads(h)
    with_locals = bool(opts.get("--locals"))
    thread_locals.add_details(h, ts, with_locals)
    if as_json:
        info = h.info()
        return json.dumps(options.with_partial({"python": options.python_of(info),
                                         "threads": [_thread_json(t) for t in ts]}, info))
    if not ts:
        return "No Python threads.\n"
    show_interp = len({t["interp"] for t in ts}) > 1
    human = bool(opts.get("--human"))

    def details(f):
        out = ["    " + f["source"]] if f.get("source") else []
        return out + thread_locals.local_lines(f, human)
    return "\n".join(_thread_text(t, show_interp, details if with_locals else None) for t in ts)
