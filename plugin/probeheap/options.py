"""What every command module shares: its options (parse, number), its
errors (UsageError, CommandError), and the words of its output (plural,
more_footer, the partial-walk line).  The command modules import this
module; commands.py, above them, only registers and dispatches them."""

import difflib
import os

import _probeheap

PAGE = 10

# True when bin/probe-heap runs the command (set by cli.py): footers then name
# the shell's way to see more (--all), not gdb's (probe-heap more).
FROM_SHELL = False


class UsageError(Exception):
    """A command used wrongly (exit status 2)."""


def version():
    """The version in the VERSION file at probe-heap's home (the checkout, or
    $(PREFIX)/lib/probe-heap once installed)."""
    home = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        with open(os.path.join(home, "VERSION")) as f:
            return f.read().strip() or "unknown"
    except OSError:
        return "unknown"


def plural(n, word, words=None):
    """'1 object', '2 objects'."""
    return "%d %s" % (n, word if n == 1 else (words or word + "s"))


def more_footer(n, noun="row", how="--all shows them, --json lists them all", nouns=None):
    """The last line of a list cut short, worded once for every command:
    '<12 more rows; --all shows them, --json lists them all>'.  (The first
    page of a partition in gdb ends with heapy's line, which the core writes.)"""
    return "<%d more %s; %s>" % (n, noun if n == 1 else (nouns or noun + "s"), how)


def did_you_mean(word, choices):
    """' did you mean X?' when word looks like a misspelt choice, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return "; did you mean %r?" % close[0] if close else ""


class CommandError(_probeheap.Error):
    """A command that could not do what was asked: a file it cannot read or
    write, a tool it needs that is missing (exit status 1)."""


def parse(argv, flags, valued, as_json):
    """Tiny option parser for a subcommand: returns (options dict,
    positional args, JSON wanted). Every subcommand takes --json, here or
    before the subcommand (as_json)."""
    opts, rest = {}, []
    it = iter(argv)
    for a in it:
        if a == "--json":
            as_json = True
        elif a in flags:
            opts[a] = True
        elif a in valued:
            try:
                opts[a] = next(it)
            except StopIteration:
                raise UsageError("%s needs a value" % a)
        elif a.startswith("--") and "=" in a and a.split("=", 1)[0] in valued:
            k, v = a.split("=", 1)
            opts[k] = v
        elif a.startswith("-") and a != "-":
            raise UsageError("unknown option %s%s" % (a, did_you_mean(a.split("=", 1)[0],
                                                                    set(flags) | set(valued) | {"--json", "--help"})))
        else:
            rest.append(a)
    return opts, rest, as_json


def number(opts, name, default, minimum, what="a number"):
    """The integer value of option name (default when absent), at least minimum."""
    try:
        v = int(opts.get(name, default))
    except ValueError:
        raise UsageError("%s takes %s" % (name, what))
    if v < minimum:
        raise UsageError("%s must be at least %d" % (name, minimum))
    return v


def python_of(info):
    return {"version": info["python"]["version"], "layout": info["layout"]}


def partial_line(info):
    """A line saying the answer is partial, when the walk met corrupt data."""
    notes = []
    if info["skipped"]:
        notes.append("%s skipped as corrupt" % plural(info["skipped"], "object"))
    if info["gc_collecting"]:
        notes.append("stopped during a garbage collection")
    return ("(partial: %s; see probe-heap info)\n" % "; ".join(notes)) if notes else ""


def with_partial(doc, info):
    doc["skipped"] = info["skipped"]
    doc["partial"] = bool(info["skipped"] or info["gc_collecting"])
    return doc


def one_obj(rest, what):
    if not rest:
        raise UsageError("%s needs an object: an address, a path like __main__:cache, or a gdb expression" % what)
    return " ".join(rest)


def error_sentence(exc):
    """The one sentence a user sees for an error."""
    return str(exc)
