"""The examples of the two long guides (docs/leak-hunt.md,
docs/post-mortem-leaks.md), re-run and compared as test_docs.py does the
others' (its docstring says how): a file of their own, so that pytest-xdist
(--dist loadfile) runs them on another worker beside the rest."""

import pytest

import test_docs
from test_docs import cores, files  # noqa: F401  (the fixtures, for this module)

ALL = [e for e in test_docs.ALL_DOCS if e[0] in test_docs.GUIDES]


@pytest.mark.parametrize("doc,line,cmd,shown,session", ALL, ids=["%s:%d" % (d, n) for d, n, _c, _s, _g in ALL])
def test_guide_example(doc, line, cmd, shown, session, cores, files):  # noqa: F811
    test_docs.check_example(doc, line, cmd, shown, session, cores, files)
