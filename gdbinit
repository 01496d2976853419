# probe-heap: source this file in gdb (or name it with gdb -x) to load the
# 'probe-heap' commands.  It finds its own directory, so any working
# directory will do.
python
import os as _os, sys as _sys

def _probe_heap_home():
    home = _os.environ.get("PROBE_HEAP_HOME")
    if home:
        return home
    # gdb keeps this file open while it reads it: find it among our fds.
    for fd in _os.listdir("/proc/self/fd"):
        try:
            path = _os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        d = _os.path.dirname(path)
        if _os.path.basename(path) == "gdbinit" and _os.path.isdir(_os.path.join(d, "plugin", "probeheap")):
            return d
    return None

_home = _probe_heap_home()
if _home is None:
    print("probe-heap: cannot find my own directory; set PROBE_HEAP_HOME to the probe-heap checkout")
else:
    for _p in (_os.path.join(_home, "build"), _os.path.join(_home, "plugin")):
        if _p not in _sys.path:
            _sys.path.insert(0, _p)
    try:
        import _probeheap
    except ImportError as _e:
        print("probe-heap: the bridge is not built (%s); run 'make' in %s" % (_e, _home))
    else:
        import probeheap.gdb_entry
        probeheap.gdb_entry.load()
end
