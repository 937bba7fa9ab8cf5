#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The LD_PRELOAD shim with unmodified Debian programs, for every function
it interposes, on whatever kernel this runs on (with kshare, with
kshare=off, without it).

  shim-check.py --shim PATH [--python PATH] [--exec-as PATH] [--timeout S]
  shim-check.py --list-files     (what the guest needs copied in)

Each check runs one real program (getconf, hostname, domainname, uname, id,
or Debian's python3, through ctypes where no Debian program reaches the
function) twice, each run under a time bound: without the shim, then with
LD_PRELOAD=PATH and LD_DEBUG=bindings. Both runs must give the answer the
kernel gives this harness (which never loads the shim), so they give the
same output (up to the child's own pid). The LD_DEBUG trace of the shim
run must show each function the check is about bound from the program to
the shim, and none of them bound from the program to anything else: a
check cannot silently stop exercising the shim. Every function the shim
exports (read from its ELF dynamic symbol table) must be covered by some
check, so a newly interposed function fails this test until it gets one.

Prints TAP: a plan, "ok N - ..." or "not ok N - ...", "#" diagnostics,
and a closing "N passed, N failed, N skipped"; exits 1 if any test failed.
"""
import os
import re
import select
import signal
import struct
import subprocess
import sys
import time

# Modules the child Pythons import, beyond the harness's own: --list-files
# imports them so that the guest gets their files.
CHILD_MODULES = ('ctypes', 'mmap', 'socket', 'threading')

PROGRAMS = {
    'getconf': '/usr/bin/getconf',
    'hostname': '/usr/bin/hostname',
    'domainname': '/usr/bin/domainname',
    'uname': '/usr/bin/uname',
    'id': '/usr/bin/id',
    'ps': '/usr/bin/ps',
}
OTHER_IDS = ('1000,1000,1000', '2000,2000,2000')
# Functions a check calls that the shim need not interpose (yet): their
# binding tests skip when it does not. The shim must export every other one.
OPTIONAL = ('getpgid', 'get_nprocs_conf')


def libbsd_path():
    arch = getattr(sys.implementation, '_multiarch', 'x86_64-linux-gnu')
    for d in ('/usr/lib/' + arch, '/lib/' + arch, '/usr/lib', '/lib'):
        if os.path.exists(d + '/libbsd.so.0'):
            return d + '/libbsd.so.0'
    return 'libbsd.so.0'


def exported_functions(path):
    """The functions an ELF64 little-endian shared object defines and
    exports (its .dynsym): what the shim interposes."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF' or data[4] != 2 or data[5] != 1:
        raise ValueError(path + ': not a 64-bit little-endian ELF file')
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum = struct.unpack_from('<HH', data, 0x3a)
    # name type flags addr offset size link info addralign entsize
    sections = [struct.unpack_from('<IIQQQQIIQQ', data, shoff + i * shentsize)
                for i in range(shnum)]
    names = set()
    for s in sections:
        if s[1] != 11:  # SHT_DYNSYM
            continue
        stroff = sections[s[6]][4]
        for off in range(s[4], s[4] + s[5], s[9]):
            name, info, other, shndx, _, _ = struct.unpack_from('<IBBHQQ', data, off)
            # Defined, FUNC or IFUNC, GLOBAL or WEAK, default visibility.
            if shndx == 0 or info & 15 not in (2, 10) or info >> 4 not in (1, 2) or other & 3:
                continue
            names.add(data[stroff + name:data.index(b'\0', stroff + name)].decode())
    return names


def read_text(path):
    with open(path) as f:
        return f.read().strip()


def online_cpus():
    """The online CPU count as sysfs says it, independent of any libc."""
    n = 0
    for part in read_text('/sys/devices/system/cpu/online').split(','):
        lo, _, hi = part.partition('-')
        n += int(hi or lo) - int(lo) + 1
    return n


# ---- running a program -------------------------------------------------

LD_LINE = re.compile(r'^\s*\d+:\s(.*)$')
BINDING = re.compile(r"binding file (.*?) \[\d+\] to (.*?) \[\d+\]: normal symbol `([^']+)'")


class Run:
    """One run of a program: its status, output and, from its stderr, the
    dynamic linker's binding lines, each with the "@@ ..." marker (a child
    Python's note of the call it is about to make) that preceded it."""

    def __init__(self):
        self.rc = None
        self.timed_out = False
        self.out = ''
        self.err = ''         # stderr without LD_DEBUG lines and markers
        self.bindings = []    # (caller, target, symbol, line, marker)
        self.pid = None
        self.seconds = 0.0

    def parse_stderr(self, text):
        marker, rest = None, []
        for line in text.splitlines():
            if line.startswith('@@ '):
                marker = line[3:]
                continue
            m = LD_LINE.match(line)
            if m:
                b = BINDING.search(m.group(1))
                if b:
                    self.bindings.append(b.groups() + (m.group(1).strip(), marker))
                continue
            rest.append(line)
        self.err = '\n'.join(rest)

    def status(self):
        if self.timed_out:
            return 'timed out after %.0f s (killed)' % self.seconds
        if self.rc < 0:
            return 'killed by signal %d' % -self.rc
        return 'exit %d' % self.rc


class Runner:
    def __init__(self, shim, timeout, workdir):
        self.shim = shim
        self.timeout = timeout
        self.workdir = workdir
        self.count = 0
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('LD_') and not k.startswith('PYTHON')}
        env['LC_ALL'] = 'C'
        self.env = env

    def environment(self, shim):
        env = dict(self.env)
        if shim:
            env['LD_PRELOAD'] = self.shim
            env['LD_DEBUG'] = 'bindings'
        return env

    def run(self, argv, shim, interact=None):
        """Run argv with or without the shim, killed after self.timeout
        seconds. interact(proc, run, deadline), if given, talks to the
        program over its stdin and stdout."""
        self.count += 1
        base = os.path.join(self.workdir, 'run%d' % self.count)
        r = Run()
        start = time.monotonic()
        deadline = start + self.timeout
        with open(base + '.out', 'w+') as out, open(base + '.err', 'w+') as err:
            try:
                p = subprocess.Popen(argv, env=self.environment(shim), stderr=err,
                                     stdin=subprocess.PIPE if interact else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE if interact else out)
            except OSError as e:
                r.rc, r.err = 127, '%s: %s' % (argv[0], e)
                return r
            r.pid = p.pid
            try:
                if interact:
                    r.out = interact(p, r, deadline)
                    p.stdin.close()
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except (subprocess.TimeoutExpired, TimeoutError):
                r.timed_out = True
                p.kill()
                p.wait()
            finally:
                if interact:
                    for f in (p.stdin, p.stdout):
                        try:
                            f.close()
                        except OSError:
                            pass
            r.seconds = time.monotonic() - start
            r.rc = p.returncode
            if not interact:
                out.seek(0)
                r.out = out.read()
            err.seek(0)
            r.parse_stderr(err.read())
        for suffix in ('.out', '.err'):
            os.unlink(base + suffix)
        return r


def read_line(p, deadline):
    """A line from p's stdout, or TimeoutError at the deadline."""
    buf = b''
    fd = p.stdout.fileno()
    while not buf.endswith(b'\n'):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError
        chunk = os.read(fd, 1)
        if not chunk:
            break
        buf += chunk
    return buf.decode(errors='replace')


# ---- the checks --------------------------------------------------------

class Check:
    """name: the TAP name; argv: what runs; symbols: the interposed
    functions this program calls (each must bind to the shim); expect(run,
    shim): the output it must print (None: the same as without the shim);
    validate(out): a problem with the output without the shim, or None."""

    def __init__(self, name, argv, symbols, expect=None, validate=None,
                 interact=None, needs=None, same=True):
        self.name = name
        self.argv = argv
        self.symbols = symbols
        self.expect = expect
        self.validate = validate
        self.interact = interact
        self.needs = needs        # a reason to skip, or None
        self.same = same          # the shim run must print what the plain run did


PRELUDE = '''import os, sys
def mark(what):
    os.write(2, ("@@ " + what + "\\n").encode())
'''

PY_IDS = PRELUDE + '''
for name, expr in [
        ("getpid", "os.getpid()"), ("getppid", "os.getppid()"),
        ("getpgrp", "os.getpgrp()"), ("getpgid", "os.getpgid(0)"),
        ("getsid", "os.getsid(0)"), ("getsid-parent", "os.getsid(os.getppid())"),
        ("getuid", "os.getuid()"), ("geteuid", "os.geteuid()"),
        ("getgid", "os.getgid()"), ("getegid", "os.getegid()"),
        ("getresuid", "os.getresuid()"), ("getresgid", "os.getresgid()")]:
    mark(expr)
    v = eval(expr)
    print(name, ",".join(map(str, v)) if isinstance(v, tuple) else v)
'''

PY_CPU_COUNT = PRELUDE + '''
mark("os.cpu_count()")
print(os.cpu_count())
'''

PY_CTYPES_INT = PRELUDE + '''
import ctypes
mark(sys.argv[1] + "()")
print(getattr(ctypes.CDLL(None), sys.argv[1])())
'''

PY_GETTID = PRELUDE + '''
import ctypes, threading
mark("gettid() in the main thread")
gettid = ctypes.CDLL(None).gettid
print("main", gettid())
seen = []
def thread():
    mark("gettid() in a second thread")
    seen.append((gettid(), threading.get_native_id()))
t = threading.Thread(target=thread)
t.start()
t.join()
tid, native = seen[0]
print("thread", "equals-SYS_gettid" if tid == native else "%d!=SYS_gettid:%d" % (tid, native))
'''

PY_UTS = PRELUDE + '''
import ctypes, socket
mark("socket.gethostname()")
print("hostname", socket.gethostname())
mark("os.uname()")
print("uname", *os.uname())
buf = ctypes.create_string_buffer(256)
mark("getdomainname()")
rc = ctypes.CDLL(None).getdomainname(buf, 256)
print("getdomainname", rc, buf.value.decode())
'''

PY_MM = PRELUDE + '''
import ctypes, mmap as M
g = ctypes.CDLL(None, use_errno=True)
vp, sz, i = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
for n in ("mmap", "mmap64"):
    getattr(g, n).restype = vp
    getattr(g, n).argtypes = [vp, sz, i, i, i, ctypes.c_long]
g.mremap.restype = vp
g.mremap.argtypes = [vp, sz, sz, i]
g.mprotect.argtypes = [vp, sz, i]
g.madvise.argtypes = [vp, sz, i]
g.munmap.argtypes = [vp, sz]
P, FAILED = M.PAGESIZE, ctypes.c_void_p(-1).value
for n in ("mmap", "mmap64"):
    mark(n + "()")
    p = getattr(g, n)(None, 2 * P, M.PROT_READ | M.PROT_WRITE,
                      M.MAP_PRIVATE | M.MAP_ANONYMOUS, -1, 0)
    if p in (None, FAILED):
        print(n, "failed, errno", ctypes.get_errno())
        continue
    print(n, "ok")
    ctypes.memmove(p, b"kshare", 6)
    mark("madvise()")
    print("madvise", g.madvise(p + P, P, M.MADV_DONTNEED))
    mark("mremap()")
    q = g.mremap(p, 2 * P, 4 * P, 1)  # MREMAP_MAYMOVE
    print("mremap", "failed, errno %d" % ctypes.get_errno() if q in (None, FAILED) else "ok")
    size = 2 * P if q in (None, FAILED) else 4 * P
    p = p if q in (None, FAILED) else q
    mark("mprotect()")
    print("mprotect", g.mprotect(p, P, M.PROT_READ))
    print("data", ctypes.string_at(p, 6))
    mark("munmap()")
    print("munmap", g.munmap(p, size))
'''

# setproctitle through libbsd, as a program linked with libbsd and
# libbsd-ctor calls it: libbsd loaded globally and initialised with the
# process's own argv and envp (libbsd-ctor's constructor does that; from
# Python, ld.so's _dl_argv gives argv), then each title set through the
# global name (the shim's when preloaded). After each title: "set", then a
# line on stdin before the next. argv[1]: init or noinit.
PY_TITLE = PRELUDE + '''
import ctypes
bsd = ctypes.CDLL(%r, mode=ctypes.RTLD_GLOBAL)
g = ctypes.CDLL(None)
if sys.argv[1] == "init":
    argv = ctypes.POINTER(ctypes.c_void_p).in_dll(g, "_dl_argv")
    argc = len(sys.orig_argv)
    if argv[0] != ctypes.c_void_p.in_dll(g, "program_invocation_name").value or argv[argc]:
        sys.exit("_dl_argv is not this process's argv")
    bsd.setproctitle_init(argc, argv, ctypes.cast(
        ctypes.addressof(argv.contents) + (argc + 1) * ctypes.sizeof(ctypes.c_void_p),
        ctypes.c_void_p))
for fmt, arg in [(b"-%%s", b"kshare-shim-title-one"), (b"%%s", b"kshare shim title two")]:
    mark("setproctitle(%%r, %%r)" %% (fmt, arg))
    g.setproctitle(fmt, arg)
    print("set", flush=True)
    sys.stdin.readline()
''' % libbsd_path()
TITLES = ('kshare-shim-title-one', 'python3: kshare shim title two')


def make_title_interact(ps):
    def interact(p, r, deadline):
        shown = []
        for _ in TITLES:
            line = read_line(p, deadline)
            if line != 'set\n':
                shown.append('(the program said %r)' % line)
                break
            left = max(1, deadline - time.monotonic())
            out = subprocess.run([ps, '-o', 'args=', '-p', str(p.pid)], env={'LC_ALL': 'C'},
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 timeout=left).stdout.decode(errors='replace')
            shown.append(out.rstrip())
            p.stdin.write(b'\n')
            p.stdin.flush()
        return ''.join(s + '\n' for s in shown)
    return interact


def checks(args):
    py = [args.python, '-S', '-I', '-c']
    me = os.getpid()
    pgrp, sid = os.getpgrp(), os.getsid(0)
    ncpu = online_cpus()
    nconf = os.sysconf('SC_NPROCESSORS_CONF')
    host = read_text('/proc/sys/kernel/hostname')
    domain = read_text('/proc/sys/kernel/domainname')
    uts = os.uname()
    prog = PROGRAMS
    root = os.geteuid() == 0
    as_other = None
    if not args.exec_as:
        as_other = 'no --exec-as given'
    elif not os.access(args.exec_as, os.X_OK):
        as_other = args.exec_as + ' is missing'
    elif not root:
        as_other = 'changing ids needs root'
    exec_as = [args.exec_as or 'exec-as', '--resuid', OTHER_IDS[0], '--resgid', OTHER_IDS[1], '--']

    def ids(uid, gid):
        def expect(r, shim):
            u, g = (str(uid),) * 3, (str(gid),) * 3
            return ''.join('%s %s\n' % kv for kv in [
                ('getpid', r.pid), ('getppid', me), ('getpgrp', pgrp), ('getpgid', pgrp),
                ('getsid', sid), ('getsid-parent', sid), ('getuid', uid), ('geteuid', uid),
                ('getgid', gid), ('getegid', gid), ('getresuid', ','.join(u)),
                ('getresgid', ','.join(g))])
        return expect

    def fixed(text):
        return lambda r, shim: text

    def id_shape(uid, gid):
        pat = re.compile(r'^uid=%d(\([^)]*\))? gid=%d(\([^)]*\))? ' % (uid, gid))
        return lambda out: None if pat.match(out) else 'expected uid=%d ... gid=%d ...' % (uid, gid)

    def uname_shape(out):
        want = ' '.join(uts) + ' '
        return None if out.startswith(want) else 'expected to start with %r' % want

    def title_expect(init):
        def expect(r, shim):
            if shim or init:
                return ''.join(t + '\n' for t in TITLES)
            return None
        return expect

    def title_unchanged(out):
        # libbsd, not initialised, leaves the title alone.
        lines = out.splitlines()
        if len(lines) == 2 and all(x.startswith(args.python + ' -S -I -c ') for x in lines):
            return None
        return 'expected libbsd, not initialised, to leave argv alone'

    ids_syms = ['getpid', 'getppid', 'getpgrp', 'getpgid', 'getsid', 'getuid', 'geteuid',
                'getgid', 'getegid', 'getresuid', 'getresgid']
    mm = ''.join('%s ok\nmadvise 0\nmremap ok\nmprotect 0\ndata b\'kshare\'\nmunmap 0\n' % n
                 for n in ('mmap', 'mmap64'))
    title = make_title_interact(prog['ps'])
    return [
        Check('getconf _NPROCESSORS_ONLN', [prog['getconf'], '_NPROCESSORS_ONLN'], ['sysconf'],
              fixed('%d\n' % ncpu)),
        Check('getconf _NPROCESSORS_CONF', [prog['getconf'], '_NPROCESSORS_CONF'], ['sysconf'],
              fixed('%d\n' % nconf)),
        Check('getconf PAGESIZE', [prog['getconf'], 'PAGESIZE'], ['sysconf'],
              fixed('%d\n' % os.sysconf('SC_PAGESIZE'))),
        Check('python3 os.cpu_count()', py + [PY_CPU_COUNT], ['sysconf'], fixed('%d\n' % ncpu)),
        Check('python3 ctypes get_nprocs()', py + [PY_CTYPES_INT, 'get_nprocs'], ['get_nprocs'],
              fixed('%d\n' % ncpu)),
        Check('python3 ctypes get_nprocs_conf()', py + [PY_CTYPES_INT, 'get_nprocs_conf'],
              ['get_nprocs_conf'], fixed('%d\n' % nconf)),
        Check('python3 os ids', py + [PY_IDS], ids_syms, ids(os.getuid(), os.getgid())),
        Check('python3 os ids as 1000/2000', exec_as + py + [PY_IDS], ids_syms,
              ids(1000, 2000), needs=as_other),
        Check('python3 ctypes gettid()', py + [PY_GETTID], ['gettid'],
              lambda r, shim: 'main %d\nthread equals-SYS_gettid\n' % r.pid),
        Check('id', [prog['id']], ['getuid', 'geteuid', 'getgid', 'getegid'],
              validate=id_shape(os.getuid(), os.getgid())),
        Check('id as 1000/2000', exec_as + [prog['id']], ['getuid', 'geteuid', 'getgid', 'getegid'],
              validate=id_shape(1000, 2000), needs=as_other),
        Check('hostname', [prog['hostname']], ['gethostname'], fixed(host + '\n')),
        Check('domainname', [prog['domainname']], ['getdomainname'], fixed(domain + '\n')),
        Check('uname -a', [prog['uname'], '-a'], ['uname'], validate=uname_shape),
        Check('python3 socket.gethostname() os.uname() getdomainname()', py + [PY_UTS],
              ['gethostname', 'uname', 'getdomainname'],
              fixed('hostname %s\nuname %s\ngetdomainname 0 %s\n' % (host, ' '.join(uts), domain))),
        Check('python3 ctypes libbsd setproctitle() (initialised), ps shows it',
              py + [PY_TITLE, 'init'], ['setproctitle'], title_expect(True), interact=title),
        Check('python3 ctypes setproctitle() without libbsd\'s init, ps shows it',
              py + [PY_TITLE, 'noinit'], ['setproctitle'], title_expect(False),
              validate=title_unchanged, interact=title, same=False),
        Check('python3 ctypes mmap mmap64 mprotect madvise mremap munmap', py + [PY_MM],
              ['mmap', 'mmap64', 'mprotect', 'madvise', 'mremap', 'munmap'], fixed(mm)),
    ]


# ---- TAP ---------------------------------------------------------------

class Tap:
    def __init__(self, total):
        self.n = self.passed = self.failed = self.skipped = 0
        print('TAP version 13')
        print('1..%d' % total, flush=True)

    def diag(self, text):
        for line in str(text).splitlines() or ['']:
            print('# ' + line)

    def result(self, ok, name, skip=None, diag=()):
        self.n += 1
        if skip:
            self.skipped += 1
            print('ok %d - %s # SKIP %s' % (self.n, name, skip))
        elif ok:
            self.passed += 1
            print('ok %d - %s' % (self.n, name))
        else:
            self.failed += 1
            print('not ok %d - %s' % (self.n, name))
        for d in diag:
            self.diag(d)
        sys.stdout.flush()

    def done(self):
        print('%d passed, %d failed, %d skipped' % (self.passed, self.failed, self.skipped))
        return 1 if self.failed else 0


def show(out):
    return repr(out) if len(out) < 300 else repr(out[:300]) + '...'


def judge(c, r, shim, plain):
    """Problems with run r (shim: whether the shim was loaded)."""
    problems = []
    if r.timed_out or r.rc != 0:
        problems.append(r.status())
    want = c.expect(r, shim) if c.expect else None
    if want is not None:
        if r.out != want:
            problems.append('printed %s, want %s' % (show(r.out), show(want)))
    elif not shim and c.validate:
        why = c.validate(r.out)
        if why:
            problems.append('printed %s: %s' % (show(r.out), why))
    if shim and c.same and plain is not None and not r.timed_out:
        pw = c.expect(plain, False) if c.expect else None
        if want is None and pw is None and r.out != plain.out:
            problems.append('printed %s, without the shim %s' % (show(r.out), show(plain.out)))
    if problems and r.err:
        problems.append('stderr: ' + r.err[-600:])
    return problems


def bindings_of(r, c, symbol, shim):
    """(bound to the shim, bound elsewhere) for symbol, looked up from the
    program: its main executable, or libpython for a Python build that
    has one."""
    program = c.argv[0]
    if os.path.basename(program) == 'exec-as':
        program = c.argv[c.argv.index('--') + 1]
    callers = {program, os.path.realpath(program)}
    shims = {shim, os.path.realpath(shim)}
    to_shim, elsewhere = [], []
    for caller, target, sym, line, marker in r.bindings:
        if sym != symbol or not (caller in callers or 'libpython' in caller):
            continue
        if target in shims or os.path.realpath(target) in shims:
            to_shim.append((line, marker))
        else:
            elsewhere.append((line, marker))
    return to_shim, elsewhere


def list_files(args):
    """Every file the guest needs for this test, one per line: Python's
    modules as loaded here, libbsd, and the Debian programs."""
    for m in CHILD_MODULES:
        __import__(m)
    files = set()
    for m in list(sys.modules.values()):
        for attr in ('__file__', '__cached__'):
            f = getattr(m, attr, None)
            if f and os.path.isabs(f) and os.path.exists(f):
                files.add(f)
    files.add(libbsd_path())
    files.update(PROGRAMS.values())
    for f in sorted(files):
        print(f)
    return 0


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--shim', help='libkshare-preload.so')
    ap.add_argument('--python', default='/usr/bin/python3' if os.path.exists('/usr/bin/python3')
                    else sys.executable, help="the Python the checks run (Debian's)")
    ap.add_argument('--exec-as', help='tests/guest-dyn exec-as, to run as 1000/2000 too')
    ap.add_argument('--timeout', type=float, default=20, help='seconds per run (20)')
    ap.add_argument('--list-files', action='store_true')
    args = ap.parse_args()
    if args.list_files:
        return list_files(args)
    if not args.shim:
        ap.error('--shim is required')
    args.shim = os.path.abspath(args.shim)
    exported = exported_functions(args.shim)
    all_checks = checks(args)
    covered = {s for c in all_checks if not c.needs for s in c.symbols}
    total = 1 + sum(2 + len(c.symbols) for c in all_checks)

    workdir = '/tmp/shim-check.%d' % os.getpid()
    os.makedirs(workdir)
    runner = Runner(args.shim, args.timeout, workdir)
    tap = Tap(total)
    tap.diag('shim %s on Linux %s; it exports: %s' % (args.shim, os.uname().release,
                                                      ' '.join(sorted(exported))))
    tap.diag('each run is killed after %g s' % args.timeout)
    try:
        for c in all_checks:
            tap.diag('---- %s: %s' % (c.name, ' '.join(
                a if '\n' not in a else '<script>' for a in c.argv)))
            if c.needs:
                for what in ['without the shim', 'with the shim'] + [
                        '%s binds to the shim' % s for s in c.symbols]:
                    tap.result(True, '%s: %s' % (c.name, what), skip=c.needs)
                continue
            plain = runner.run(c.argv, False, c.interact)
            problems = judge(c, plain, False, None)
            tap.result(not problems, '%s: without the shim' % c.name,
                       diag=problems or ['%s in %.1f s: %s' % (plain.status(), plain.seconds,
                                                                show(plain.out))])
            shim = runner.run(c.argv, True, c.interact)
            problems = judge(c, shim, True, None if judge(c, plain, False, None) else plain)
            tap.result(not problems, '%s: with the shim, within %g s, %s' % (
                c.name, args.timeout, 'the same as without' if c.same else 'the right answer'),
                diag=problems or ['%s in %.1f s: %s' % (shim.status(), shim.seconds,
                                                         show(shim.out))])
            for s in c.symbols:
                name = '%s: %s binds to the shim' % (c.name, s)
                if s not in exported:
                    if s in OPTIONAL:
                        tap.result(True, name, skip='the shim does not interpose %s' % s)
                    else:
                        tap.result(False, name, diag=['the shim does not export %s' % s])
                    continue
                to_shim, elsewhere = bindings_of(shim, c, s, args.shim)
                diag = ['%s%s' % (line, ' (after the note "%s")' % m if m else '')
                        for line, m in to_shim[:1] + elsewhere]
                if not to_shim:
                    diag.append('no binding of %s from %s to the shim in the LD_DEBUG trace'
                                % (s, c.argv[0]))
                tap.result(bool(to_shim) and not elsewhere, name, diag=diag)
        own = sorted(s for s in exported if s.startswith('kshare'))
        missing = sorted(exported - covered - set(own))
        diag = ['its own (not libc) exports, not interposed: %s' % ' '.join(own)] if own else []
        if missing:
            diag.append('no check calls: %s' % ' '.join(missing))
        tap.result(not missing, 'every function the shim interposes is called by a check',
                   diag=diag)
    finally:
        for f in os.listdir(workdir):
            os.unlink(os.path.join(workdir, f))
        os.rmdir(workdir)
    return tap.done()


if __name__ == '__main__':
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
