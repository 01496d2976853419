"""A heap with objects on both sides of pymalloc's 512-byte threshold; the
allocator's own account of itself, taken at the very moment probe-heap sees.
usage: alloc.py OUT.json [N]

Before stopping it writes OUT.json: the sample types it made (name, count,
each one's sys.getsizeof, whether the request is over 512 bytes).  Then it
stops itself (SIGSTOP).  Once continued (SIGCONT), before anything else runs,
it writes sys._debugmallocstats() to OUT.json.stats (C stderr, through fd 2)
and sys.getallocatedblocks() to OUT.json.blocks, and exits.  Nothing is
allocated between the stop and those two calls: their functions, the pid
and the signal are looked up beforehand, the collector is off, and neither
call allocates before it has counted (the count is a C walk of the arenas;
getallocatedblocks makes its int after counting).  So both describe exactly
the memory of the stopped process, core or live.

Keep the syntax 3.8-compatible."""

import gc
import json
import os
import signal
import sys


class Big(object):
    # 80 slots: 16 + 80 * 8 + 16 (GC header) = 672 bytes, from malloc
    __slots__ = tuple("s%d" % i for i in range(80))


class Small(object):
    # 10 slots: 16 + 80 + 16 = 112 bytes, a pymalloc block
    __slots__ = tuple("s%d" % i for i in range(10))


class BigBytes(bytes):
    __slots__ = ()   # 33 + 1000 bytes: from malloc


class SmallBytes(bytes):
    __slots__ = ()   # 33 + 100 bytes: a pymalloc block


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    keep = {
        "Big": [Big() for _ in range(n)],
        "Small": [Small() for _ in range(n)],
        "BigBytes": [BigBytes(b"b" * 1000 + str(i).encode()) for i in range(n)],
        "SmallBytes": [SmallBytes(b"s" * 100 + str(i).encode()) for i in range(n)],
    }
    # Garbage in between, so that pools have free lists and arenas gaps.
    churn = [[str(i) * (i % 40), (i,) * (i % 30), {"k": i}] for i in range(20 * n)]
    del churn[::3]
    keep["churn"] = churn
    samples = {}
    for name, objs in keep.items():
        if name == "churn":
            continue
        sizes = [sys.getsizeof(o) for o in objs]
        samples[name] = {"type": "__main__." + name, "count": len(objs), "size": sum(sizes),
                         "over_threshold": min(sizes) > 512,
                         "under_threshold": max(sizes) <= 512}
    doc = {"python": "%d.%d.%d" % sys.version_info[:3], "pid": os.getpid(), "samples": samples}
    with open(out, "w") as f:
        json.dump(doc, f)
    stats_fd = os.open(out + ".stats", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    blocks_fd = os.open(out + ".blocks", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stderr.flush()
    os.dup2(stats_fd, 2)
    stop, pid, sig = os.kill, os.getpid(), signal.SIGSTOP
    stats, blocks, write = sys._debugmallocstats, sys.getallocatedblocks, os.write
    gc.disable()
    stop(pid, sig)
    # Continued: the allocator's account first, then whatever it costs.
    stats()
    count = blocks()
    write(blocks_fd, str(count).encode())
    os.close(blocks_fd)
    return keep


if __name__ == "__main__":
    main()
