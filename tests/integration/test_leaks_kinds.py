"""The block search of leaks finds every kind of object (issue 13): short
strs of every shape (smaller than str's tp_basicsize), ints of every size on
every version (3.12+: lv_tag where ob_size was), floats, bytes and tuples,
leaked through a refcount bug by workloads/leaks_kinds.py; and it calls none
of the identical kept ones leaked; what the leaked containers (dicts, lists,
deques, instances) hold is listed as kept alive by the leak, not as leaked
(or as held by a thread's C stack, where a stale word still points at it).
Every target, live and from a core."""

import pytest

import harness


@pytest.mark.parametrize("mode", ["live", "core"])
@pytest.mark.parametrize("target", harness.all_targets(), ids=lambda t: t.label)
def test_block_search_finds_every_kind(target, mode, tmp_path):
    harness.require(target)
    doc, got = harness.ask_in_gdb(target, mode, "leaks_kinds.py", "ask_leaks.py", str(tmp_path),
                                  timeout=300)
    leaked = set()
    for row in got["leaked"]["rows"]:
        leaked.update(hex(a) for a in row["addresses"])
    wrong = []
    for kind, addrs in sorted(doc["leaked"].items()):
        missing = [a for a in addrs if a not in leaked]
        if missing:
            wrong.append("%-18s %d of %d leaked not found, e.g. %s" % (kind, len(missing), len(addrs),
                                                                    missing[0]))
    for kind, addrs in sorted(doc["kept"].items()):
        bad = [a for a in addrs if a in leaked]
        if bad:
            wrong.append("%-18s %d of %d kept called leaked" % (kind, len(bad), len(addrs)))
    held_rows = set()
    for row in got["kept"]["rows"]:
        held_rows.update(hex(a) for a in row["addresses"])
    # A word a thread's C stack still holds (a dead local of the loop that
    # made the object) is a root too: a conservative scan cannot tell it dead.
    on_stacks = set(hex(o["address"]) for o in harness.held_on_c_stacks(got))
    for kind, addrs in sorted(doc["held"].items()):
        bad = [a for a in addrs if a in leaked]
        if bad:
            wrong.append("%-18s %d of %d held by a leaked container called leaked" %
                         (kind, len(bad), len(addrs)))
        lost = [a for a in addrs if a not in held_rows and a not in on_stacks]
        if lost:
            wrong.append("%-18s %d of %d held by a leaked container not listed as kept by it" %
                         (kind, len(lost), len(addrs)))
        if len(lost) + len([a for a in addrs if a in on_stacks]) == len(addrs) and addrs:
            wrong.append("%-18s none of %d held listed as kept" % (kind, len(addrs)))
    assert not wrong, "\n".join(wrong)
