"""The layout spec (tools/layout_spec.py) and its DWARF evaluation
(tools/layout_dwarf.py), for tests/integration/test_layout_dwarf.py.

Run as a gdb script (gdb -batch -nx BINARY -x layout_fields.py) with
PH_LAYOUT_VERSION=3.X in the environment, it evaluates every DWARF field for
that version against the loaded file and prints one line
"PH_LAYOUT_JSON {...}" ({"field": value or {"error": text}}).
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tools"))
from layout_spec import *  # noqa: E402,F401,F403
from layout_spec import _parse_version  # noqa: E402
from layout_dwarf import evaluate, evaluate_version, has_debug_info  # noqa: E402,F401


def layout_h_fields(path):
    """Field names of struct ph_layout in core/src/cpython/layout.h, in order, without
    major/minor."""
    text = open(path).read()
    body = text[text.index("typedef struct ph_layout {"):]
    body = body[:body.index("} ph_layout;")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    names = re.findall(r"\bint32_t\s+(\w+)\s*;", body)
    return names


def _gdb_main():
    import gdb
    gdb.execute("set max-value-size unlimited")
    version = _parse_version(os.environ["PH_LAYOUT_VERSION"])
    if not has_debug_info(gdb):
        result = {"_no_debug_info": True}
    else:
        result = evaluate_version(gdb, version)
    print("PH_LAYOUT_JSON " + json.dumps(result, sort_keys=True))


if __name__ == "__main__" and os.environ.get("PH_LAYOUT_VERSION"):
    _gdb_main()
