"""bin/probe-heap's half inside gdb: loads the process or core, runs one
subcommand, prints its output and exits with a status.

bin/probe-heap passes the arguments in PROBE_HEAP_ARG_0.. (PROBE_HEAP_ARGC),
and file descriptors for the results in PROBE_HEAP_OUT_FD / PROBE_HEAP_ERR_FD:
gdb's own chatter goes elsewhere, so --json output is only the document."""

import os
import signal
import re
import struct
import sys

import gdb

import _probeheap

from . import commands, objects, options, target

USAGE = ("usage: probe-heap [--pid PID | --core CORE [--exe EXE]] [--sysroot DIR]\n"
         "                  [--debug-file-directory DIR] [--json] SUBCOMMAND [ARGS]")

# (option, its value's name or None, what it does): for parse() and --help.
OPTIONS = [
    ("--core", "CORE", "analyse a core file; the executable is read from the core"),
    ("--exe", "EXE", "the executable that made the core, if moved (with --core)"),
    ("--pid", "PID", "attach to a live process, analyse it, detach"),
    ("--sysroot", "DIR", "the root file system the process ran in (a container's)"),
    ("--debug-file-directory", "DIR", "where gdb looks for separate debug symbols"),
    ("--json", None, "print one JSON document on stdout and nothing else there"),
    ("-h, --help", None, "this help; 'probe-heap help SUBCOMMAND' for one subcommand"),
    ("--version", None, "print the version and exit"),
]
_VALUED = {"--pid": "pid", "--core": "core", "--exe": "exe", "--sysroot": "sysroot",
           "--debug-file-directory": "debugdir"}
_FLAGS = {"--json": "json", "--help": "help", "-h": "help", "--version": "version"}

EXAMPLES = """\
  probe-heap --core core.4242 partition              the table by kind (exe from the core)
  probe-heap --core core.4242 --json partition --by type
  probe-heap --pid 4242 info                         attach, walk, detach
  probe-heap --core core.4242 sizeof __main__:app.cache
  probe-heap --core core.4242 backrefs 0x7f3a12c4b0  why is it alive?
  probe-heap --core core.4242 snapshot monday.phsnap
  probe-heap --core core.5151 diff monday.phsnap     what grew since
  probe-heap help partition                          one subcommand's help"""

EXIT_STATUS = """\
  0 done, 1 failed (bad core, no such process, no permission...), 2 usage error,
  3 internal error (please report it), 130 interrupted (Ctrl-C)"""


def help_text():
    width = max(len(o) + (len(v) + 1 if v else 0) for o, v, _ in OPTIONS) + 4
    opts = "\n".join("  %-*s%s" % (width, o + (" " + v if v else ""), d) for o, v, d in OPTIONS)
    return ("%s\n       probe-heap help [SUBCOMMAND] | --help | --version\n\n"
            "The heap of a CPython process or core dump, from outside it: heapy's partition\n"
            "table, object sizes, why objects are alive, leaks. Runs gdb in batch mode;\n"
            "nothing runs in the target.\n\n"
            "Options:\n%s\n\nSubcommands:\n%s\n\n%s\n\nExamples:\n%s\n\nExit status:\n%s\n"
            % (USAGE, opts, commands.synopses("  "), commands.OBJ_HELP, EXAMPLES, EXIT_STATUS))


class CliError(Exception):
    pass


def _args():
    n = int(os.environ.get("PROBE_HEAP_ARGC", "0"))
    return [os.environ.get("PROBE_HEAP_ARG_%d" % i, "") for i in range(n)]


def parse(argv):
    """The options before the subcommand, and the subcommand with its
    arguments (opts["command"]); --json may also come after it."""
    opts = {"json": False}
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        a = rest.pop(0)
        name = a.split("=", 1)[0]
        if a in _FLAGS:
            opts[_FLAGS[a]] = True
        elif name in _VALUED:
            if "=" in a:
                v = a.split("=", 1)[1]
            elif not rest:
                raise options.UsageError("%s needs a value" % a)
            else:
                v = rest.pop(0)
            opts[_VALUED[name]] = v
        else:
            raise options.UsageError("unknown option %s%s" % (
                a, options.did_you_mean(name, list(_VALUED) + list(_FLAGS))
                or " (see probe-heap --help)"))
    if "--json" in rest:
        rest.remove("--json")
        opts["json"] = True
    opts["command"] = rest
    return opts


def check_target(opts):
    """Usage errors in the choice of target, found before any is loaded."""
    if "pid" in opts and "core" in opts:
        raise options.UsageError("give --pid or --core, not both")
    if "exe" in opts and "core" not in opts:
        raise options.UsageError("--exe names the executable of a core: it goes with --core")
    if "pid" in opts and not re.fullmatch(r"\d+", opts["pid"]):
        raise options.UsageError("--pid needs a process id, not %r" % opts["pid"])
    if "pid" not in opts and "core" not in opts:
        raise options.UsageError("say which process or core to analyse: --pid PID or --core CORE "
                                  "(see probe-heap --help)")


def _elf_build_id(data_at):
    """The GNU build-id of an ELF image, read through data_at(offset, n);
    None when there is none or the image is damaged."""
    try:
        return _elf_build_id_unchecked(data_at)
    except struct.error:
        return None


def _elf_build_id_unchecked(data_at):
    eh = data_at(0, 64)
    if not eh or eh[:4] != b"\x7fELF" or eh[4] != 2:
        return None
    phoff, = struct.unpack_from("<Q", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    if phentsize != 56 or phnum > 128:
        return None
    ph = data_at(phoff, phentsize * phnum)
    if not ph:
        return None
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", ph, i * 56)
        if p_type != 4 or p_filesz > 65536:  # PT_NOTE
            continue
        notes = data_at(p_offset, p_filesz)
        off = 0
        while notes and off + 12 <= len(notes):
            namesz, descsz, ntype = struct.unpack_from("<III", notes, off)
            name_at = off + 12
            desc_at = name_at + ((namesz + 3) & ~3)
            if ntype == 3 and notes[name_at:name_at + 3] == b"GNU":
                return notes[desc_at:desc_at + descsz]
            off = desc_at + ((descsz + 3) & ~3)
    return None


def _file_build_id(path):
    try:
        with open(path, "rb") as f:
            def at(off, n):
                f.seek(off)
                return f.read(n)
            return _elf_build_id(at)
    except OSError:
        return None


def _core_build_id(core, start):
    """The build-id of the ELF image mapped at start in the core's memory."""
    reader = _probeheap.Reader()
    try:
        reader.open_core(core)
    except _probeheap.Error:
        return None
    # The first page (ELF header, program headers, notes) is in every core.
    return _elf_build_id(lambda off, n: reader.read(start + off, n))


def _executable_of(core):
    """(path in the core, build-id in the core) of the core's executable."""
    try:
        files = _probeheap.core_mapped_files(core)
    except _probeheap.Error as e:
        raise CliError(str(e))
    exe = next((path for _s, _e, _o, path, is_exe in files if is_exe), None)
    if exe is None:
        return None, None
    # The build-id sits in the first page of the image: the mapping at offset 0.
    start = next((s for s, _e, o, path, _x in files if path == exe and o == 0), None)
    return exe, _core_build_id(core, start) if start is not None else None


def load_core(opts):
    core = opts["core"]
    if not os.path.exists(core):
        raise CliError("no such core file: %s" % core)
    if not os.access(core, os.R_OK):
        raise CliError("cannot read the core file %s: permission denied" % core)
    # Checks the core itself first, so a bad file gets the core's own sentence.
    try:
        _probeheap.Reader().open_core(core)
    except _probeheap.Error as e:
        raise CliError(str(e))
    sysroot = opts.get("sysroot")
    in_core, core_id = _executable_of(core)
    exe = opts.get("exe")
    if not exe:
        if not in_core:
            raise CliError("cannot tell which executable produced %s; pass it with --exe" % core)
        exe = os.path.join(sysroot, in_core.lstrip("/")) if sysroot else in_core
        if not os.path.exists(exe):
            raise CliError("cannot find the executable %s of this core; pass --exe PATH, or "
                           "--sysroot DIR if it lives under another root" % exe)
    elif not os.path.exists(exe):
        raise CliError("no such executable: %s" % exe)
    if core_id is not None:
        exe_id = _file_build_id(exe)
        if exe_id is not None and exe_id != core_id:
            raise CliError("the executable %s does not match the core %s (the core was made by "
                           "%s, a different build)" % (exe, core, in_core))
    if sysroot:
        gdb.execute("set sysroot %s" % sysroot, to_string=True)
    try:
        # Not to_string: a corrupt core can make gdb print names that are not
        # UTF-8; its chatter goes to bin/probe-heap's log instead.
        gdb.execute("file %s" % _quote(exe))
        gdb.execute("core-file %s" % _quote(core))
    except gdb.error as e:
        raise CliError("gdb cannot load %s with %s: %s" % (core, exe, _first_line(str(e))))


_STOPPED_PID = None   # a process that was stopped (job control) when attached: it stays so


def _proc_state(pid):
    """The one-letter state of /proc/PID/stat, or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
        return data[data.rindex(")") + 2:].split()[0]
    except (OSError, ValueError, IndexError):
        return None


def _restop():
    """gdb's detach can let a process that was stopped before the attach run
    on (seen under load, after the state had been read as stopped: the detach
    resumes it a moment later): stop it again, as it was, whatever its state
    reads now.  A SIGSTOP to a process that is stopped changes nothing."""
    if _STOPPED_PID:
        try:
            os.kill(_STOPPED_PID, signal.SIGSTOP)
        except OSError:
            pass


def attach(opts):
    global _STOPPED_PID
    pid = int(opts["pid"])
    if not os.path.exists("/proc/%d" % pid):
        raise CliError("there is no process with pid %d" % pid)
    if _proc_state(pid) == "T":
        _STOPPED_PID = pid
    if opts.get("sysroot"):
        gdb.execute("set sysroot %s" % opts["sysroot"], to_string=True)
    try:
        gdb.execute("attach %d" % pid)
    except gdb.error as e:
        msg = str(e)
        if "ptrace" in msg or "not permitted" in msg.lower():
            raise CliError("cannot attach to process %d: ptrace was refused (another debugger "
                           "holds it, or see /proc/sys/kernel/yama/ptrace_scope and run as its "
                           "user or root)" % pid)
        raise CliError("cannot attach to process %d: %s" % (pid, _first_line(msg)))
    if gdb.selected_inferior().pid != pid:
        raise CliError("cannot attach to process %d" % pid)


def _quote(path):
    """A file name as gdb's file/core-file commands read it: blanks escaped."""
    return re.sub(r'([\\\s"\'])', r'\\\1', path)


def _first_line(text):
    return text.strip().splitlines()[0].rstrip(".") if text.strip() else "unknown error"


def _write(fd_env, text):
    fd = int(os.environ.get(fd_env, "1" if fd_env.endswith("OUT_FD") else "2"))
    data = text.encode("utf-8", "replace")
    while data:
        n = os.write(fd, data)
        data = data[n:]


def run():
    opts = parse(_args())
    if opts.get("version"):
        return "probe-heap %s\n" % options.version(), 0
    if opts.get("help"):
        return help_text(), 0
    argv = opts["command"]
    if not argv:
        raise options.UsageError("which subcommand? one of: %s (see probe-heap --help)"
                                  % ", ".join(commands.SUBCOMMANDS))
    if commands.wants_help(argv) is not None:
        text = commands.dispatch(argv, overview=help_text)
        return text if text.endswith("\n") else text + "\n", 0
    commands._known(argv[0])
    if argv[0] == "more":
        raise options.UsageError("'more' pages a table inside gdb; on the command line use "
                                  "partition --all")
    check_target(opts)
    if "debugdir" in opts:
        gdb.execute("set debug-file-directory %s" % opts["debugdir"], to_string=True)
    if "core" in opts:
        load_core(opts)
    else:
        attach(opts)
    text = commands.dispatch(argv, as_json=opts["json"])
    return text if text.endswith("\n") else text + "\n", 0


def main():
    status = 1
    options.FROM_SHELL = True
    try:
        out, status = run()
        _write("PROBE_HEAP_OUT_FD", out)
    except options.UsageError as e:
        _write("PROBE_HEAP_ERR_FD", "probe-heap: %s\n" % options.error_sentence(e))
        status = 2
    except BrokenPipeError:
        status = 0  # the reader (head, less) has seen enough
    except (CliError, options.CommandError, target.TargetError, _probeheap.Error, objects.ObjError,
            ValueError) as e:
        _write("PROBE_HEAP_ERR_FD", "probe-heap: %s\n" % options.error_sentence(e))
        status = 1
    except KeyboardInterrupt:
        _write("PROBE_HEAP_ERR_FD", "probe-heap: interrupted\n")
        status = 130
    except Exception as e:  # never a traceback: one sentence, and the detail for a bug report
        _write("PROBE_HEAP_ERR_FD", "probe-heap: internal error: %s: %s (please report it)\n"
               % (type(e).__name__, _first_line(str(e)) or "no message"))
        status = 3
    finally:
        try:
            if gdb.selected_inferior().pid > 0 and target.core_file() is None:
                gdb.execute("detach", to_string=True)
        except Exception:
            pass
        _restop()
        sys.stdout.flush()
        status_file = os.environ.get("PROBE_HEAP_STATUS_FILE")
        if status_file:
            with open(status_file, "w") as f:
                f.write("%d\n" % status)
        os._exit(status)
